"""Single usages that arrive at one worker at the same time, rated together.

Mediation and network elements post one usage per request, many at once. Each rated alone
costs its two round trips and a commit (a flush of the database's log) and holds its
subscription's lock across both; rated together they share them. So a worker hands the
usages posted while it is busy to a few threads, the *leaders* (``max_leaders`` at a time),
each of which rates what waits as one batch (:func:`bssrules.services.usage.create_usages`:
one read, one rating call, one write and one commit for all), answers each request its own
usage, and passes the lead to a request still waiting, if any. A worker that is not busy
rates a usage as soon as it arrives.

Nothing is kept between requests (a request answered is forgotten), and a batch is one
transaction like any: a failure of the batch (a usage id twice, one another partner took,
an input error) runs its usages again one by one, each answered as it would be alone.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from bssrules.services import usage
from bssrules.services.ports import Principal, UnitOfWork, UnitOfWorkFactory
from bssrules.services.rating_context import ContextCache
from bssrules.services.records import KeyTaken
from bssrules.services.runtime import RuntimeCache

RETRIES = 2  # a batch that lost a race for a key (or found its context moved) runs again


@dataclass(eq=False)
class _Pending:
    principal: Principal | None
    body: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    finished: bool = False
    answer: tuple[dict[str, Any], bool] | None = None
    error: BaseException | None = None


class UsageCombiner:
    """Rates the single usages a worker receives at the same time as batches (see above)."""

    def __init__(self, open_unit_of_work: UnitOfWorkFactory, runtimes: RuntimeCache, contexts: ContextCache,
                 max_batch: int = 200, max_leaders: int = 2) -> None:
        self.open_unit_of_work = open_unit_of_work
        self.runtimes, self.contexts = runtimes, contexts
        self.max_batch = max_batch
        self.max_leaders = max_leaders  # batches a worker rates at the same time (transactions in flight)
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._leaders = 0
        self.batches = 0  # figures for tests and benchmarks
        self.usages = 0

    def create(self, principal: Principal | None, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store and rate one usage (blocking): (usage, created), as :func:`usage.create_usage`."""
        item = _Pending(principal, body)
        with self._lock:
            self._pending.append(item)
            if self._leaders < self.max_leaders:
                self._leaders += 1
                item.lead = True
        while not item.finished:
            if item.lead:
                self._lead(item)
            else:
                item.done.wait()
                item.done.clear()
        if item.error is not None:
            raise item.error
        assert item.answer is not None
        return item.answer

    def _lead(self, own: _Pending) -> None:
        """One turn of a leader: rate what waits (its own usage, unless another leader took it),
        then pass the lead to a usage still waiting, if any."""
        with self._lock:
            batch = self._pending[:self.max_batch]
            del self._pending[:len(batch)]
        if batch:
            self._run(batch)
        with self._lock:
            own.lead = False
            waiting = [p for p in self._pending if not p.lead]
            if waiting:
                waiting[0].lead = True
                waiting[0].done.set()
            else:
                self._leaders -= 1

    def _run(self, batch: list[_Pending]) -> None:
        groups: dict[Principal | None, list[_Pending]] = {}
        for item in batch:  # one transaction is one caller's view
            groups.setdefault(item.principal, []).append(item)
        for principal, items in groups.items():
            try:
                answers = self._in_unit_of_work(principal, lambda uow: usage.create_usages(
                    uow, self.runtimes, self.contexts, [i.body for i in items]))
                for item, answer in zip(items, answers):
                    item.answer = answer
            except Exception:  # noqa: BLE001 - each usage alone says what is wrong with it
                for item in items:
                    try:
                        item.answer = self._in_unit_of_work(principal, lambda uow: usage.create_usages(
                            uow, self.runtimes, self.contexts, [item.body]))[0]
                    except Exception as exc:  # noqa: BLE001 - handed to the request it belongs to
                        item.error = exc
            with self._lock:
                self.batches += 1
                self.usages += len(items)
            for item in items:
                item.finished = True
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
