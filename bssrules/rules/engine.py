"""The one module that talks to durable-rules. Nothing else meets its quirks.

What it does about each limit measured in ../shared/DURABLE_RULES.md:

- 512 rules per rule set, 64 true branches per event: conditions are expanded into
  branches (compile.py) and packed into engine rule sets of at most ``MAX_RULES`` branches
  such that no fact can make more than ``MAX_TRUE`` of them true at once: branches that
  test one attribute for equality with different values (``offering.id`` = A, = B …)
  cannot both hold, so many of them share a rule set; the others count against every value.
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

MAX_RULES = 400  # branches per engine rule set (the engine fails from 512)
MAX_TRUE = 48  # branches of one rule set that may hold at once for one fact (the engine fails past 64)
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


def _equalities(branch: dict[str, Any]) -> dict[str, Any]:
    """key -> value of the plain equality tests of a compiled branch."""
    atoms = branch.get("$and", [branch])
    found = {}
    for atom in atoms:
        if len(atom) == 1:
            key, value = next(iter(atom.items()))
            if not key.startswith("$") and not key.endswith("__present") and isinstance(value, (str, int, float)):
                found[key] = value
    return found


def _pack(branches: list[tuple[int, dict[str, Any]]]) -> list[list[tuple[int, dict[str, Any]]]]:
    """Group branches into engine rule sets that respect both limits.

    The discriminating key is the equality most branches share (then the one with most
    distinct values); two branches with different
    values for it are mutually exclusive. A rule set's worst case of simultaneously true
    branches is its branches without that key plus its largest group of one value."""
    if not branches:
        return [[]]
    counts: dict[str, int] = {}
    values: dict[str, set[Any]] = {}
    for _, branch in branches:
        for key, value in _equalities(branch).items():
            counts[key] = counts.get(key, 0) + 1
            values.setdefault(key, set()).add(value)
    # The most discriminating key: present in most branches, then with most distinct values.
    key = max(counts, key=lambda k: (counts[k], len(values[k]), k)) if counts else None
    groups: list[list[tuple[int, dict[str, Any]]]] = []
    current: list[tuple[int, dict[str, Any]]] = []
    generic = 0
    per_value: dict[Any, int] = {}
    # Branches of one value stay together; generic ones last, so they cost least.
    ordered = sorted(branches, key=lambda b: (key is None or key not in _equalities(b[1]),
                                              str(_equalities(b[1]).get(key, "")) if key else ""))
    for item in ordered:
        value = _equalities(item[1]).get(key) if key else None
        worst = (generic + (value is None)) + max(list(per_value.values()) + [0]) + (value is not None)
        if current and (len(current) + 2 > MAX_RULES or worst > MAX_TRUE):
            groups.append(current)
            current, generic, per_value = [], 0, {}
        current.append(item)
        if value is None:
            generic += 1
        else:
            per_value[value] = per_value.get(value, 0) + 1
    groups.append(current)
    return groups


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
        for number, group in enumerate(_pack(branches)):
            definition: dict[str, Any] = {f"c{n}": {"all": [{"m": branch}], "run": str(index)}
                                          for n, (index, branch) in enumerate(group)}
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
