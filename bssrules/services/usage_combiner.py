"""Single usages that arrive at one worker at the same time, rated together.

Mediation and network elements post one usage per request, many at once. Each rated alone
costs its two round trips and a commit (a flush of the database's log) and holds its
subscription's lock across both; rated together they share them. So a worker hands the
usages posted while it is busy to a few threads, the *leaders* (``max_leaders`` at a time),
each of which rates what waits as one batch (:func:`bssrules.services.usage.create_usages`:
one read, one rating call, one write and one commit for all), answers each request its own
usage, and goes on with what waits meanwhile until nothing does. A worker that is not busy
rates a usage as soon as it arrives. The HTTP layer awaits its usage on the event loop
(:meth:`UsageCombiner.create_async`): only the leaders take threads.

Nothing is kept between requests (a request answered is forgotten), and a batch is one
transaction like any: a failure of the batch (a usage id twice, one another partner took,
an input error) runs its usages again one by one, each answered as it would be alone.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from bssrules.services import usage
from bssrules.services.known_keys import KeptPrincipal, PartnerMoved
from bssrules.services.ports import Principal, UnitOfWork, UnitOfWorkFactory
from bssrules.services.rating_context import ContextCache
from bssrules.services.records import KeyTaken
from bssrules.services.runtime import RuntimeCache

RETRIES = 2  # a batch that lost a race for a key (or found its context moved) runs again
Answer = tuple[dict[str, Any], bool]


@dataclass(eq=False)
class _Pending:
    principal: Principal | None
    body: dict[str, Any]
    subscription: str | None = None  # the subscription it names, if any (whose lock its batch takes)
    # a blocking caller waits on ``done``; an asynchronous one on ``future`` (of its loop)
    done: threading.Event = field(default_factory=threading.Event)
    future: asyncio.Future[Answer] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    answer: Answer | None = None
    error: BaseException | None = None


def _settle(future: asyncio.Future[Answer], answer: Answer | None, error: BaseException | None) -> None:
    if future.done():  # the caller went away: the usage is stored all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert answer is not None
        future.set_result(answer)


class UsageCombiner:
    """Rates the single usages a worker receives at the same time as batches (see above)."""

    def __init__(self, open_unit_of_work: UnitOfWorkFactory, runtimes: RuntimeCache, contexts: ContextCache,
                 max_batch: int = 200, max_leaders: int = 1) -> None:
        self.open_unit_of_work = open_unit_of_work
        self.runtimes, self.contexts = runtimes, contexts
        self.max_batch = max_batch
        self.max_leaders = max_leaders  # batches a worker rates at the same time (transactions in flight)
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._leaders = 0
        self._in_flight: dict[str, int] = {}  # subscriptions of the batches being rated, and how many
        self.batches = 0  # figures for tests and benchmarks
        self.usages = 0

    def _enqueue(self, item: _Pending) -> bool:
        """Queue a usage; True when the caller is to lead (fewer leaders than allowed)."""
        with self._lock:
            self._pending.append(item)
            if self._leaders < self.max_leaders:
                self._leaders += 1
                return True
        return False

    def create(self, principal: Principal | None, body: dict[str, Any]) -> Answer:
        """Store and rate one usage (blocking): (usage, created), as :func:`usage.create_usage`."""
        item = _Pending(principal, body, usage.subscriber_of(body))
        if self._enqueue(item):
            self._lead()
        item.done.wait()
        if item.error is not None:
            raise item.error
        assert item.answer is not None
        return item.answer

    async def create_async(self, principal: Principal | None, body: dict[str, Any]) -> Answer:
        """The same, awaited: the request waits on its event loop, not in a thread of its own,
        and only a leader takes a thread (of the loop's executor) while there is work."""
        loop = asyncio.get_running_loop()
        item = _Pending(principal, body, usage.subscriber_of(body), future=loop.create_future(), loop=loop)
        if self._enqueue(item):
            loop.run_in_executor(None, self._lead)
        assert item.future is not None
        return await item.future

    def _lead(self) -> None:
        """Rate what waits, batch after batch, until nothing does (the check and the leader's
        leaving under one lock: a usage queued meanwhile is taken by a leader still there).

        A usage of a subscription another leader of this worker is rating waits for that
        leader's next batch instead of starting a transaction that would wait on the
        subscription's lock: a busy subscription's usages are rated together, one batch at a
        time per worker, while other subscriptions' go on in parallel."""
        while True:
            with self._lock:
                batch: list[_Pending] = []
                kept: list[_Pending] = []
                for item in self._pending:
                    if len(batch) < self.max_batch and (item.subscription is None
                                                        or item.subscription not in self._in_flight):
                        batch.append(item)
                    else:
                        kept.append(item)
                if not batch:  # nothing, or only usages another leader will take after its batch
                    self._leaders -= 1
                    return
                self._pending = kept
                taken = {i.subscription for i in batch if i.subscription is not None}
                for subscription in taken:
                    self._in_flight[subscription] = self._in_flight.get(subscription, 0) + 1
            try:
                self._run(batch)
            except BaseException as exc:  # noqa: BLE001 - no request is left waiting, whatever happened
                for item in batch:
                    if item.answer is None and item.error is None:
                        item.error = exc
                        self._answer(item)
                if not isinstance(exc, Exception):
                    with self._lock:
                        self._leaders -= 1
                        self._release(taken)
                    raise
            with self._lock:
                self._release(taken)

    def _release(self, subscriptions: set[str]) -> None:
        for subscription in subscriptions:
            left = self._in_flight[subscription] - 1
            if left:
                self._in_flight[subscription] = left
            else:
                del self._in_flight[subscription]

    def _run(self, batch: list[_Pending]) -> None:
        groups: dict[Principal | None, list[_Pending]] = {}
        for item in batch:  # one transaction is one caller's view
            groups.setdefault(item.principal, []).append(item)
        for principal, items in groups.items():
            check = principal.check if isinstance(principal, KeptPrincipal) else None
            try:
                answers = self._in_unit_of_work(principal, lambda uow: usage.create_usages(
                    uow, self.runtimes, self.contexts, [i.body for i in items], check))
                for item, answer in zip(items, answers):
                    item.answer = answer
            except PartnerMoved as moved:  # nothing written: each request authenticates in full
                for item in items:
                    item.error = moved
            except Exception:  # noqa: BLE001 - each usage alone says what is wrong with it
                for item in items:
                    try:
                        item.answer = self._in_unit_of_work(principal, lambda uow: usage.create_usages(
                            uow, self.runtimes, self.contexts, [item.body], check))[0]
                    except Exception as exc:  # noqa: BLE001 - handed to the request it belongs to
                        item.error = exc
            with self._lock:
                self.batches += 1
                self.usages += len(items)
            for item in items:
                self._answer(item)

    @staticmethod
    def _answer(item: _Pending) -> None:
        if item.future is not None and item.loop is not None:
            item.loop.call_soon_threadsafe(_settle, item.future, item.answer, item.error)
        else:
            item.done.set()

    def _in_unit_of_work(self, principal: Principal | None, use_case: Callable[[UnitOfWork], Any]) -> Any:
        for attempt in range(RETRIES + 1):
            try:
                with self.open_unit_of_work(principal) as uow:
                    return use_case(uow)
            except KeyTaken:
                if attempt == RETRIES:
                    raise
        raise AssertionError("unreachable")
