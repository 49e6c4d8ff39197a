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
- swallowed action exceptions and the background dispatcher: no Python action runs at all.
  The fired rules are drained from the engine's native action queue right after the facts
  are asserted (see :func:`_assert_and_collect`), so nothing can fail silently in an
  action, and none is left for a dispatcher thread to pick up.
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
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

import json
import re
from decimal import Decimal

import durable.engine as durable_engine
import durable_rules_engine
from durable.engine import Host

from bssrules.errors import BssRulesError
from bssrules.rules.compile import compile_condition
from bssrules.rules.conditions import Condition, attributes_of
from bssrules.rules.facts import ALWAYS, flatten_facts

MAX_RULES = 400  # branches per engine rule set (the engine fails from 512)
MAX_TRUE = 60  # branches of one rule set that may hold at once for one fact, catch-all aside (the engine fails past 64)
_CATCH_ALL = "__caught"
_EXPONENT = re.compile(r"[0-9][eE][-+]?[0-9]")
_ACTION = re.compile(r'\s*\{\s*"([^"]+)"\s*:')
_FACT_ID = re.compile(r'"id"\s*:\s*"(s\d+-\d+)"')


def _number_text(value: float) -> str:
    return format(Decimal(repr(value)), "f")


def _positional(obj: Any) -> str:
    """JSON with every number in positional notation (no exponent)."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        return _number_text(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_positional(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(_positional(v) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=False)


class _EngineJson:
    """What durable-rules serialises with. Its C parser cannot read numbers in exponent
    notation (Python writes 0.00005 as 5e-05 and 1e16 as 1e+16): measured here, such a
    number in a fact crashes the process, in a rule it fails with error 204. Everything
    it is given is therefore written positionally; the fast path is kept when no number
    needs it."""

    loads = staticmethod(json.loads)

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        text = json.dumps(obj, ensure_ascii=False)
        return _positional(obj) if _EXPONENT.search(text) else text


durable_engine.json = _EngineJson
_serial = itertools.count(1)


class EngineError(BssRulesError):
    """The rule engine failed; the message says on which rule set."""

    code = "engineError"


class _QuietHost(Host):  # type: ignore[misc]  # durable-rules has no type information: Host is Any
    """A durable-rules host without its background timer threads. Its actions never run:
    fired rules are read from the engine's native queue (see :func:`_assert_and_collect`)."""

    def _run(self) -> None:  # the stock host starts timer threads that never stop
        return

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        def never_called(c: Any) -> None:
            raise EngineError(f"action {action_name} was dispatched through durable-rules' Python machinery")

        return never_called


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


@dataclass
class _Group:
    branches: list[tuple[int, dict[str, Any]]]
    values: set[Any]  # routing values (of the equality key, or held by the list key)
    by_list: bool = False  # routed by membership in a list attribute rather than equality


def _memberships(branch: dict[str, Any]) -> dict[str, Any]:
    """list key -> value of the "list contains value" tests of a compiled branch."""
    atoms = branch.get("$and", [branch])
    found = {}
    for atom in atoms:
        inner = atom.get("$iany") if len(atom) == 1 else None
        if isinstance(inner, dict) and len(inner) == 1:
            key, test = next(iter(inner.items()))
            if isinstance(test, dict) and set(test) == {"$i"} and isinstance(test["$i"], (str, int, float)):
                found[key] = test["$i"]
    return found


def _most_discriminating(maps: list[dict[str, Any]]) -> str | None:
    counts: dict[str, int] = {}
    values: dict[str, set[Any]] = {}
    for found in maps:
        for key, value in found.items():
            counts[key] = counts.get(key, 0) + 1
            values.setdefault(key, set()).add(value)
    # Present in most branches, then with most distinct values.
    return max(counts, key=lambda k: (counts[k], len(values[k]), k)) if counts else None


def _pack(branches: list[tuple[int, dict[str, Any]]]) -> tuple[str | None, str | None, list[_Group]]:
    """Group branches into engine rule sets that respect both limits, and say how to route.

    Two branches that test one attribute for equality with different values (``offering.id``
    = A, = B) are mutually exclusive, and a fact only needs the rule sets holding its value:
    that is the equality key. Of the other branches, those that need a list attribute to
    contain a value (``offering.categories`` contains C) only concern facts whose list holds
    it: that is the list key. What is left is generic and goes to every fact. A rule set's
    worst case of simultaneously true branches is its largest group of one equality value,
    or all of it when routed by list or generic."""
    if not branches:
        return None, None, [_Group([], set())]
    key = _most_discriminating([_equalities(b) for _, b in branches])
    keyed: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    rest: list[tuple[int, dict[str, Any]]] = []
    for item in branches:
        value = _equalities(item[1]).get(key) if key else None
        (keyed.setdefault(value, []) if value is not None else rest).append(item)
    list_key = _most_discriminating([_memberships(b) for _, b in rest])
    listed: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    generic: list[tuple[int, dict[str, Any]]] = []
    for item in rest:
        value = _memberships(item[1]).get(list_key) if list_key else None
        (listed.setdefault(value, []) if value is not None else generic).append(item)
    groups: list[_Group] = []
    current = _Group([], set())
    for value in sorted(keyed, key=str):
        items = keyed[value]
        for start in range(0, len(items), MAX_TRUE):  # a value with too many branches spans rule sets
            part = items[start:start + MAX_TRUE]
            # One value at most MAX_TRUE times per rule set: its branches may all hold at once.
            if current.branches and (len(current.branches) + len(part) + 1 > MAX_RULES or value in current.values):
                groups.append(current)
                current = _Group([], set())
            current.branches += part
            current.values.add(value)
    if current.branches:
        groups.append(current)
    current = _Group([], set(), by_list=True)
    for value in sorted(listed, key=str):
        items = listed[value]
        for start in range(0, len(items), MAX_TRUE):
            part = items[start:start + MAX_TRUE]
            if current.branches and len(current.branches) + len(part) > MAX_TRUE:
                groups.append(current)
                current = _Group([], set(), by_list=True)
            current.branches += part
            current.values.add(value)
    if current.branches:
        groups.append(current)
    for start in range(0, len(generic), MAX_TRUE):
        groups.append(_Group(generic[start:start + MAX_TRUE], set()))
    return key, list_key, groups or [_Group([], set())]


def _assert_and_collect(host: _QuietHost, name: str, events: list[dict[str, Any]], sid: str) -> list[tuple[str, str]]:
    """Assert facts into one engine rule set and collect (action, fact id) of every rule that
    fired, then delete the state.

    The actions are drained straight from the engine's native queue rather than through
    durable-rules' Python action machinery (a closure, a lease renewal and two JSON round
    trips per action: most of the time of an evaluation); our actions only record, so
    nothing they would do is lost."""
    handle = host.get_ruleset(name)._handle
    result = durable_rules_engine.assert_facts(handle, _EngineJson.dumps(events))
    code = result[0]
    if code == 1:  # cannot happen with the catch-all; deleting such a state would crash
        raise EngineError(f"the engine matched nothing in {name}, not even its catch-all")
    if code == 2:
        raise EngineError(f"the engine took distinct facts for duplicates in {name}")
    fired: list[tuple[str, str]] = []
    state_handle = result[1]
    pending = durable_rules_engine.start_action_for_state(handle, state_handle) if code == 0 else None
    message = pending[1] if pending else None
    while message:
        # Only the rule's name and the fact's id are needed: read them off the text rather
        # than decoding the whole fact each time (rule names and ids are ours, quote-free).
        match = _ACTION.match(message)
        fact_id = _FACT_ID.search(message, match.end()) if match else None
        if match is None or fact_id is None:
            raise EngineError(f"unexpected action message from {name}: {message[:200]}")
        fired.append((match.group(1), fact_id.group(1)))
        message = durable_rules_engine.complete_and_start_action(handle, state_handle)
    durable_rules_engine.delete_state(handle, sid)
    return fired


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
        self._route_key, self._list_key, groups = _pack(branches)
        self._generic: list[int] = []
        self._by_value: dict[Any, list[int]] = {}
        self._by_member: dict[Any, list[int]] = {}
        for number, group in enumerate(groups):
            # A rule's name is "<index of the condition>.<branch>": what fired says whose it is.
            definition: dict[str, Any] = {f"{index}.{n}": {"all": [{"m": branch}], "run": str(index)}
                                          for n, (index, branch) in enumerate(group.branches)}
            definition[_CATCH_ALL] = {"all": [{"m": {ALWAYS: True}}], "run": _CATCH_ALL}
            self._chunks.append(_Chunk(f"bssrules{serial}_{number}", definition))
            routes = self._by_member if group.by_list else self._by_value
            for value in group.values:
                routes.setdefault(value, []).append(number)
            if not group.values:
                self._generic.append(number)
        self._pool: queue.LifoQueue[_QuietHost] = queue.LifoQueue()
        self._hosts = 0
        self._pool_size = max(1, pool_size)
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._release(self._new_host())  # fail now, not on the first request, if the engine refuses

    @property
    def chunk_count(self) -> int:
        return len(self._chunks)

    def _new_host(self, counted: bool = False) -> _QuietHost:
        try:
            host = _QuietHost({c.name: copy.deepcopy(c.definition) for c in self._chunks})
        except Exception as exc:  # the engine reports bare numbers ("error code: 202")
            raise EngineError(f"the rule engine refused the compiled rules ({exc}); "
                              f"{len(self._chunks)} rule sets, {self.branch_count} branches") from exc
        if not counted:
            with self._lock:
                self._hosts += 1
        return host

    def _acquire(self) -> _QuietHost:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            with self._lock:
                room = self._hosts < self._pool_size
                if room:
                    self._hosts += 1  # reserved now, so that two threads cannot both take the last place
            if not room:
                return self._pool.get()
            try:
                return self._new_host(counted=True)
            except BaseException:
                with self._lock:
                    self._hosts -= 1
                raise

    def __del__(self) -> None:
        # The engine keeps rule sets in native memory until told to delete them: without
        # this, every engine dropped (e.g. on each catalog revision) leaks ~70 KB per host.
        pool = getattr(self, "_pool", None)
        while pool is not None:
            try:
                host = pool.get_nowait()
            except queue.Empty:
                break
            for ruleset in list(getattr(host, "_ruleset_list", [])):
                try:
                    durable_rules_engine.delete_ruleset(ruleset._handle)
                except Exception:  # noqa: BLE001 - best effort at teardown
                    pass

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
        # Each fact goes only to the rule sets that can hold for it (see _pack).
        routed: dict[int, list[dict[str, Any]]] = {}
        for event in events:
            numbers = set(self._generic)
            if self._route_key:
                numbers.update(self._by_value.get(event.get(self._route_key), ()))
            if self._list_key:
                for member in event.get(self._list_key) or ():
                    numbers.update(self._by_member.get(member, ()))
            for number in numbers:
                routed.setdefault(number, []).append(event)
        host = self._acquire()
        try:
            for number, chunk_events in sorted(routed.items()):
                fired = _assert_and_collect(host, self._chunks[number].name, chunk_events, sid)
                for rule_name, event_id in fired:
                    if rule_name != _CATCH_ALL:
                        results[int(event_id.rsplit("-", 1)[1])].add(self.keys[int(rule_name.split(".")[0])])
        finally:
            self._release(host)
        return results
