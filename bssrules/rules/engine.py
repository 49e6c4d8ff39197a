"""The one module that talks to durable-rules. Nothing else meets its quirks.

What it does about each limit measured in ../shared/DURABLE_RULES.md:

- 512 rules per rule set, 64 true branches per event: conditions are expanded into
  branches (compile.py) and spread over engine rule sets of at most ``CHUNK`` branches, so
  no rule set ever holds more than that many rules, let alone true ones.
- content de-duplication of events: every fact carries a unique ``id``; decisions assert
  facts (which every matching rule sees) rather than events (which the first rule consumes).
- 1,024 live states, ~87 KB each: every evaluation uses a fresh ``sid`` and deletes its
  state before returning, so at most one state per rule set is alive per host.
- unmatched facts: measured here, a batch in which one fact matches nothing raises
  MessageNotHandled, fires none of the actions of the facts that did match, and a later
  ``delete_state`` of that state crashes the process (segmentation fault). Every rule set
  therefore has a catch-all branch: every fact matches something, always.
- swallowed action exceptions: actions only record (rule, fact) pairs; the returned state
  is still checked for an ``exception`` and turned into :class:`EngineError`.
- bare numeric errors: conditions are validated and compiled by us before the engine sees
  them; a creation error is re-raised with the rule set it concerns.
- order dependence with ``$not``: not used; absence is an explicit flag of the one fact
  asserted per evaluation, so there is no join and no order.
- background threads and error 307 under concurrency: hosts never start their timer
  threads, and each host is used by one thread at a time (a small pool).
"""
from __future__ import annotations

import copy
import itertools
import queue
import threading
from dataclasses import dataclass
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

from durable.engine import Host, MessageNotHandledException, MessageObservedException

from bssrules.errors import BssRulesError
from bssrules.rules.compile import compile_condition
from bssrules.rules.conditions import Condition, attributes_of
from bssrules.rules.facts import ALWAYS, flatten_facts

CHUNK = 48  # branches per engine rule set (limits: 64 true at once, 512 in all)
_CATCH_ALL = "__caught"
_serial = itertools.count(1)


class EngineError(BssRulesError):
    """The rule engine failed; the message says on which rule set."""

    code = "engineError"


class _QuietHost(Host):
    """A durable-rules host without its background timer threads, whose actions record
    which rule fired for which fact."""

    def __init__(self, definitions: dict[str, Any]):
        self.fired: list[tuple[str, str]] = []
        super().__init__(definitions)

    def _run(self) -> None:  # the stock host starts timer threads that never stop
        return

    def get_action(self, action_name: str):  # type: ignore[no-untyped-def]
        fired = self.fired

        def record(c: Any) -> None:
            fired.append((action_name, c.m["id"]))

        return record


@dataclass(frozen=True)
class _Chunk:
    name: str
    definition: dict[str, Any]


class RuleEngine:
    """Conditions compiled onto durable-rules: :meth:`matching` says which hold for facts.

    Rules are ``(key, condition)`` pairs; keys come back for the conditions that hold.
    Safe to share between threads; evaluations never see each other's facts.
    """

    def __init__(self, rules: Sequence[tuple[str, Condition]], zone: ZoneInfo | None = None, pool_size: int = 4):
        self.zone = zone or ZoneInfo("UTC")
        self.keys = [key for key, _ in rules]
        self.attributes = sorted({"now"}.union(*(attributes_of(c) for _, c in rules)) if rules else {"now"})
        serial = next(_serial)
        branches: list[tuple[int, dict[str, Any]]] = []
        for index, (_, condition) in enumerate(rules):
            branches += [(index, b) for b in compile_condition(condition)]
        self.branch_count = len(branches)
        self._chunks = []
        for number, start in enumerate(range(0, max(len(branches), 1), CHUNK - 1)):
            definition: dict[str, Any] = {f"c{n}": {"all": [{"m": branch}], "run": str(index)}
                                          for n, (index, branch) in enumerate(branches[start:start + CHUNK - 1])}
            definition[_CATCH_ALL] = {"all": [{"m": {ALWAYS: True}}], "run": _CATCH_ALL}
            self._chunks.append(_Chunk(f"bssrules{serial}_{number}", definition))
        self._pool: queue.LifoQueue[_QuietHost] = queue.LifoQueue()
        self._hosts = 0
        self._pool_size = max(1, pool_size)
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._release(self._new_host())  # fail now, not on the first request, if the engine refuses

    @property
    def chunk_count(self) -> int:
        return len(self._chunks)

    def _new_host(self) -> _QuietHost:
        try:
            host = _QuietHost({c.name: copy.deepcopy(c.definition) for c in self._chunks})
        except Exception as exc:  # the engine reports bare numbers ("error code: 202")
            raise EngineError(f"the rule engine refused the compiled rules ({exc}); "
                              f"{len(self._chunks)} rule sets, {self.branch_count} branches") from exc
        with self._lock:
            self._hosts += 1
        return host

    def _acquire(self) -> _QuietHost:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            with self._lock:
                room = self._hosts < self._pool_size
            return self._new_host() if room else self._pool.get()

    def _release(self, host: _QuietHost) -> None:
        self._pool.put(host)

    def matching(self, values: Mapping[str, Any]) -> set[str]:
        """Keys of the rules whose condition holds for typed fact values."""
        return self.matching_many([values])[0]

    def matching_many(self, facts: Sequence[Mapping[str, Any]]) -> list[set[str]]:
        """:meth:`matching` for several fact sets at once (one engine call per rule set)."""
        if not facts:
            return []
        sid = f"s{next(self._sids)}"
        events = []
        for number, values in enumerate(facts):
            event = flatten_facts(values, self.zone, self.attributes)
            event.update(id=f"{sid}-{number}", sid=sid)
            events.append(event)
        results: list[set[str]] = [set() for _ in facts]
        host = self._acquire()
        try:
            host.fired.clear()
            for chunk in self._chunks:
                try:
                    state = host.assert_facts(chunk.name, events)
                except MessageNotHandledException as exc:
                    # Cannot happen with the catch-all; deleting such a state would crash.
                    raise EngineError(f"the engine matched nothing in {chunk.name}, not even its catch-all") from exc
                except MessageObservedException as exc:
                    raise EngineError(f"the engine took distinct facts for duplicates in {chunk.name}") from exc
                host.delete_state(chunk.name, sid)
                if isinstance(state, dict) and state.get("exception"):
                    raise EngineError(f"an action failed in {chunk.name}: {state['exception']}")
            for action, event_id in host.fired:
                if action != _CATCH_ALL:
                    results[int(event_id.rsplit("-", 1)[1])].add(self.keys[int(action)])
            host.fired.clear()
        finally:
            self._release(host)
        return results
