"""The one module that talks to durable-rules. Nothing else meets its quirks.

What it does about each limit measured in ../shared/DURABLE_RULES.md:

- 512 rules per rule set, 64 true branches per event: conditions are expanded into
  branches (compile.py) and packed into engine rule sets of at most ``MAX_RULES`` branches
  such that no fact can make more than ``MAX_TRUE`` of them true at once: branches that
  test one attribute for equality with different values (``offering.id`` = A, = B …)
  cannot both hold, so many of them share a rule set; the others count against every value.
  A branch counts as often as it may hold: each alternative of an ``$or`` inside it (a
  negated "contains all of") is counted by the engine (:func:`_most_true`).
- 130 ``$iall`` tests in one rule set (a list holding none of a value: a negated
  "contains"): the engine refuses to create it (error 107); packed :data:`MAX_IALL` at most.
  Both measured December 7, found by a property test.
- content de-duplication of events: every fact carries a unique ``id``; decisions assert
  facts (which every matching rule sees) rather than events (which the first rule consumes).
- 1,024 live states, ~87 KB each: a host keeps one state per rule set, always the same
  (``sid`` :data:`_STATE`), into which each evaluation asserts its facts and from which it
  retracts them once it has read what fired. Creating and deleting a state per evaluation
  cost most of an evaluation (measured: about 190 µs per rule set of 400 rules, against
  about 30 µs to assert, read and retract a fact in the kept one) and the engine's memory
  stays flat over a hundred thousand evaluations either way. A host on which an evaluation
  failed is never used again: its states are deleted, then its rule sets, and a new host
  takes its place in the pool, so no failure can leave a host half-broken for the next.
  (Deleting a rule set does not free the states left in it: measured, 40,000 states kept
  about 3.9 GB after their rule sets were deleted. The states are always deleted first.)
- unmatched facts: measured here, a batch in which one fact matches nothing raises
  MessageNotHandled, fires none of the actions of the facts that did match, and a later
  ``delete_state`` of that state crashes the process (segmentation fault). Every rule set
  therefore has a catch-all branch: every fact matches something, always.
- swallowed action exceptions and the background dispatcher: no Python action runs at all.
  The fired rules are drained from the engine's native action queue right after the facts
  are asserted (see :func:`_assert_and_collect`), so nothing can fail silently in an
  action, and none is left for a dispatcher thread to pick up. The catch-all fires once
  for all the facts of an evaluation (``cap``), not once per fact.
- cost of a fact: the engine files the first test of every rule under the hash of its
  attribute's name in a table of 512 slots whose probes start in the first 32, so a fact
  walks, for each of its fields, past about every first test of the rule set (measured:
  a fact's cost grows with its number of fields times the number of distinct first
  tests). So each rule set is sent only the fields its rules test, and every rule tests
  the attribute it is routed by first: the distinct first tests of a rule set are then
  its routing values (a few per rule), not its rules.
- bare numeric errors: conditions are validated and compiled by us before the engine sees
  them; a creation error is re-raised with the rule set it concerns.
- order dependence with ``$not``: not used; absence is an explicit flag of each fact
  asserted, so there is no join and no order.
- background threads and error 307 under concurrency: hosts never start their timer
  threads, and each host is used by one thread at a time (a small pool).
- numbers: the engine compares binary floats (``atof``) — and numbers written without a
  decimal point as 64-bit integers (``atoll``, which clamps past 9.2e18). Every number is
  therefore written with a decimal point, so that it compares as the float it is, exactly
  as Python compares floats (measured on every kind of double: subnormals, the largest,
  -0.0). What floats cannot tell apart is decided exactly instead: see :class:`RuleEngine`.
"""
from __future__ import annotations

import copy
import itertools
import math
import queue
import sys
import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

import json
import re
from decimal import Decimal
from json.encoder import encode_basestring

import durable.engine as durable_engine
import durable_rules_engine
from durable.engine import Host

from bssrules.errors import BssRulesError
from bssrules.rules.compile import compile_condition
from bssrules.rules.conditions import Condition, attributes_of, tests_of
from bssrules.rules.evaluate import holds
from bssrules.rules.facts import ALWAYS, FACT_ATTRIBUTES, engine_key, engine_number, flatten_facts

MAX_RULES = 400  # branches per engine rule set (the engine fails from 512)
MAX_TRUE = 60  # times branches of one rule set may hold at once for one fact, catch-all aside (the engine fails past 64)
# "$iall" tests (a list holding no such value: a negated "contains") of one engine rule set: the
# engine refuses to create one of 130 ("Could not create ruleset, error code: 107"; 129 pass,
# whatever the branches they are spread over), measured December 7 with 44 rules "party VIP and
# not containsAll of 3 offerings" (44 branches of 3) packed into one rule set by MAX_TRUE alone
MAX_IALL = 120
_CATCH_ALL = "__caught"
_CAUGHT = '{"%s"' % _CATCH_ALL  # how an action message of the catch-all begins
_CATCH_ALL_CAP = 100_000  # facts per action of the catch-all
_STATE = "0"  # the sid of the one state a host keeps per rule set (see the module's docstring)
_EXPONENT = re.compile(r"[0-9][eE][-+]?[0-9]")
_ACTION = re.compile(r'\s*\{\s*"([^"]+)"\s*:')
_FACT_ID = re.compile(r'"id"\s*:\s*"(s\d+-\d+)"')
# An action message as the engine writes it for the facts we write (the rule, then the fact
# as it was given, beginning with its id); anything else is read with the two above.
_FIRED = re.compile(r'\{"([^"]+)":\{"m":\{"id":"(s\d+-\d+)"')


def _number_text(value: float) -> str:
    """A float written positionally, always with a decimal point: the engine reads a number
    without one as a 64-bit integer (1e19, 1e300 and -1e19 all became 9223372036854775807 or
    its negative)."""
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


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
    fired rules are read from the engine's native queue (see :func:`_assert_and_collect`).

    It keeps one engine state per rule set (:data:`_STATE`); ``started`` names the rule sets
    whose state has had an action started, the only states the engine can delete safely."""

    def __init__(self, definitions: dict[str, Any]):
        super().__init__(definitions)
        self.handles: dict[str, int] = {name: self.get_ruleset(name)._handle for name in definitions}
        self.started: set[str] = set()

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
    keys: frozenset[str]  # the event fields its rules test: all a fact sends it


def _keys_of(node: Any) -> set[str]:
    """The event fields a compiled engine condition tests."""
    keys: set[str] = set()
    if isinstance(node, list):
        for item in node:
            keys |= _keys_of(item)
        return keys
    if not isinstance(node, dict):
        return keys
    for key, value in node.items():
        if key in ("$and", "$or"):
            keys |= _keys_of(value)
        elif key in ("$iany", "$iall") or (key.startswith("$") and isinstance(value, dict)):
            keys |= {k for k in value if not k.startswith("$")}
        elif not key.startswith("$"):
            keys.add(key)
    return keys


def _routed_first(branch: dict[str, Any], route_key: str | None, list_key: str | None) -> dict[str, Any]:
    """The same branch with the test it is routed by first (see the module's docstring)."""
    atoms = branch.get("$and")
    if not isinstance(atoms, list) or len(branch) != 1:
        return branch

    def rank(atom: dict[str, Any]) -> int:
        if route_key is not None and len(atom) == 1 and route_key in atom:
            return 0
        inner = atom.get("$iany") if len(atom) == 1 else None
        if list_key is not None and isinstance(inner, dict) and list_key in inner:
            return 1
        return 2

    return {"$and": sorted(atoms, key=rank)}


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
    weights = {id(b): json.dumps(b).count('"$iall"') for _, b in branches}
    # the engine counts each alternative of an "$or" that holds (a negated "contains all of"
    # is one): a branch may be that many true at once (44 rules of "VIP and not containsAll of
    # 3 offerings", 40 to a rule set: error 303 for a VIP holding one of them, 2 alternatives each)
    holding = {id(b): _most_true(b) for _, b in branches}

    def weight(items: list[tuple[int, dict[str, Any]]]) -> int:
        return sum(weights[id(b)] for _, b in items)

    def true_at_once(items: list[tuple[int, dict[str, Any]]]) -> int:
        return sum(holding[id(b)] for _, b in items)

    def slices(items: list[tuple[int, dict[str, Any]]]) -> list[list[tuple[int, dict[str, Any]]]]:
        """The items in order, cut in runs that may hold MAX_TRUE times at most and have at most
        MAX_IALL "$iall" tests (a branch beyond either stays alone: the engine then says what
        it refuses)."""
        runs: list[list[tuple[int, dict[str, Any]]]] = [[]]
        for item in items:
            if runs[-1] and (true_at_once(runs[-1]) + holding[id(item[1])] > MAX_TRUE
                             or weight(runs[-1]) + weights[id(item[1])] > MAX_IALL):
                runs.append([])
            runs[-1].append(item)
        return runs

    key = _most_discriminating([_equalities(b) for _, b in branches])
    if len(branches) <= MAX_RULES and weight(branches) <= MAX_IALL:
        # One rule set, to which every fact goes, when the most branches that can hold at once
        # (those of one equality value, and all the others) stay within the engine's limit:
        # one engine call per evaluation instead of one per group.
        per_value: dict[Any, int] = {}
        unkeyed = 0
        for _, branch in branches:
            value = _equalities(branch).get(key) if key else None
            if value is None:
                unkeyed += holding[id(branch)]
            else:
                per_value[value] = per_value.get(value, 0) + holding[id(branch)]
        if max(per_value.values(), default=0) + unkeyed <= MAX_TRUE:
            return key, None, [_Group(list(branches), set())]
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
        for part in slices(keyed[value]):  # a value with too many branches spans rule sets
            # One value at most MAX_TRUE times per rule set: its branches may all hold at once.
            if current.branches and (len(current.branches) + len(part) + 1 > MAX_RULES or value in current.values
                                     or weight(current.branches) + weight(part) > MAX_IALL):
                groups.append(current)
                current = _Group([], set())
            current.branches += part
            current.values.add(value)
    if current.branches:
        groups.append(current)
    current = _Group([], set(), by_list=True)
    for value in sorted(listed, key=str):
        for part in slices(listed[value]):
            if current.branches and (true_at_once(current.branches) + true_at_once(part) > MAX_TRUE
                                     or weight(current.branches) + weight(part) > MAX_IALL):
                groups.append(current)
                current = _Group([], set(), by_list=True)
            current.branches += part
            current.values.add(value)
    if current.branches:
        groups.append(current)
    for part in slices(generic):
        groups.append(_Group(part, set()))
    return key, list_key, groups or [_Group([], set())]


def _most_true(expression: Any) -> int:
    """How many times the engine may count a compiled branch as holding for one fact: each
    alternative of an "$or" that holds counts (an "$and" of several: their combinations)."""
    if isinstance(expression, dict):
        if "$or" in expression and isinstance(expression["$or"], list):
            return sum(_most_true(e) for e in expression["$or"])
        if "$and" in expression and isinstance(expression["$and"], list):
            return math.prod(_most_true(e) for e in expression["$and"])
    return 1


def _assert_and_collect(host: _QuietHost, name: str, events: str) -> list[tuple[str, str]]:
    """Assert facts (a JSON list) into the state of one engine rule set, collect (rule, fact
    id) of every rule that fired, and retract the facts, leaving the state as it was.

    The actions are drained straight from the engine's native queue rather than through
    durable-rules' Python action machinery (a closure, a lease renewal and two JSON round
    trips per action: most of the time of an evaluation); our actions only record, so
    nothing they would do is lost. Any failure leaves the host to be discarded (see
    :meth:`RuleEngine._discard`), its states with it."""
    handle = host.handles[name]
    state_handle: int | None = None
    has_action: bool | None = None  # whether the state holds an action (None: cannot tell)
    started = name in host.started  # whether an action of the state was ever started
    fired: list[tuple[str, str]] = []
    try:
        code, state_handle = durable_rules_engine.assert_facts(handle, events)
        if code == 1:  # cannot happen with the catch-all
            has_action = False
            raise EngineError(f"the engine matched nothing in {name}, not even its catch-all")
        if code == 2:
            raise EngineError(f"the engine took distinct facts for duplicates in {name}")
        has_action = True  # the catch-all fired
        pending = durable_rules_engine.start_action_for_state(handle, state_handle)
        if not pending:  # cannot happen either, for the same reason
            has_action = False
            raise EngineError(f"the engine fired nothing in {name}, not even its catch-all")
        started = True
        host.started.add(name)
        message = pending[1]
        while message:
            if not message.startswith(_CAUGHT):
                # Only the rule's name and the fact's id are needed: read them off the text rather
                # than decoding the whole fact each time (rule names and ids are ours, quote-free).
                match = _FIRED.match(message)
                if match is not None:
                    fired.append((match.group(1), match.group(2)))
                else:
                    action = _ACTION.match(message)
                    fact_id = _FACT_ID.search(message, action.end()) if action else None
                    if action is None or fact_id is None:
                        raise EngineError(f"unexpected action message from {name}: {message[:200]}")
                    fired.append((action.group(1), fact_id.group(1)))
            message = durable_rules_engine.complete_and_start_action(handle, state_handle)
        code = durable_rules_engine.retract_facts(handle, events)[0]
        if code != 0:
            raise EngineError(f"the engine could not retract the facts of an evaluation from {name} (code {code})")
    except BaseException:
        if _forget_state(handle, _STATE, state_handle, has_action, started):
            host.started.discard(name)
        raise
    return fired


def _forget_state(handle: Any, sid: str, state_handle: int | None, has_action: bool | None, started: bool) -> bool:
    """Delete the state of a failed evaluation, whenever the engine allows it; say whether it did.

    Measured: deleting a state on which no action was ever started crashes the process
    (``free(): invalid pointer``, or a segmentation fault): the engine sets a state's action
    context only when it starts an action, and frees that context with the state. So an
    action is started first when none ever was:

    - when asserting failed, the state (if the engine kept one) is found by starting any
      action of the rule set: only this host's state can be alive in it, since a host
      serves one evaluation at a time;
    - after a successful assert, the catch-all fired (``has_action``): starting an action
      either starts it now, or finds one already started (it is leased) — both safe.

    A state with no action at all (the engine matched nothing on its first use), or whose
    case cannot be told, is left to its host, which is discarded: a leak of one state, never
    a crash. Errors here are swallowed: the failure being reported matters more, and the
    host goes anyway."""
    if not started and has_action is not False:
        try:
            if state_handle is None:
                started = bool(durable_rules_engine.start_action(handle))
            else:
                started = bool(durable_rules_engine.start_action_for_state(handle, state_handle)) or bool(has_action)
        except Exception:  # noqa: BLE001 - cannot tell whether an action was started: leave the state
            started = False
    if not started:
        return False
    try:
        durable_rules_engine.delete_state(handle, sid)
    except Exception:  # noqa: BLE001 - the host is discarded anyway (see RuleEngine.matching_many)
        return False
    return True


def _delete_rulesets(host: _QuietHost) -> None:
    """Give a host's states and rule sets back to native memory (the engine keeps them until
    told). Only states on which an action was started are deleted: measured, deleting one on
    which none ever was crashes the process (``free(): invalid pointer``: the engine sets a
    state's action context only when it starts an action, and frees it with the state); such
    a state (the first evaluation of its rule set failed before anything fired) is left."""
    for name in sorted(host.started):
        try:
            durable_rules_engine.delete_state(host.handles[name], _STATE)
        except Exception:  # noqa: BLE001 - best effort at teardown
            pass
    host.started.clear()
    for ruleset in list(getattr(host, "_ruleset_list", [])):
        try:
            durable_rules_engine.delete_ruleset(ruleset._handle)
        except Exception:  # noqa: BLE001 - best effort at teardown
            pass


def _finite(node: Any) -> Any:
    """A compiled engine condition with every infinite float made the largest finite one, as
    facts are (:func:`bssrules.rules.facts.engine_number`): the engine cannot read an
    infinity, and a constant beyond the float range (``gt: 1e400``) is valid YAML."""
    if isinstance(node, float):
        return math.copysign(sys.float_info.max, node) if math.isinf(node) else node
    if isinstance(node, dict):
        return {key: _finite(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_finite(value) for value in node]
    return node


# The tests whose operands the engine compares as floats (numbers and instants); the other
# tests compare texts, booleans, list members or small integers (minutes, weekdays, sizes).
_FLOAT_COMPARED = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "notIn", "between")


class RuleEngine:
    """Conditions compiled onto durable-rules: :meth:`matching` says which hold for facts.

    Rules are ``(key, condition)`` pairs; keys come back for the conditions that hold.
    Safe to share between threads; evaluations never see each other's facts.

    Exact for every number. The engine compares numbers and instants as binary floats
    (:func:`bssrules.rules.facts.engine_number`), a monotone rounding: where a fact and a
    constant it is compared with have different floats, their order is the exact one, and
    the engine's answer is exact. Where they have the same float but are different numbers
    (``100.00000000000000001`` and ``100``; two instants a microsecond apart in year 9999;
    two numbers beyond the float range), it may not be: the rules holding such a constant
    are decided for that fact by the exact evaluator (:func:`bssrules.rules.evaluate.holds`,
    on Decimals and datetimes) instead. Conditions never compare two facts, so a fact and
    the constants of its attribute are all that can collide; finding those that do is a
    dictionary look-up per numeric attribute of a fact.
    """

    def __init__(self, rules: Sequence[tuple[str, Condition]], zone: ZoneInfo | None = None, pool_size: int = 4):
        self.zone = zone or ZoneInfo("UTC")
        self.keys = [key for key, _ in rules]
        self._conditions = [condition for _, condition in rules]
        self.attributes = sorted({"now"}.union(*(attributes_of(c) for _, c in rules)) if rules else {"now"})
        serial = next(_serial)
        branches: list[tuple[int, dict[str, Any]]] = []
        for index, (_, condition) in enumerate(rules):
            branches += [(index, _finite(b)) for b in compile_condition(condition)]
        self.branch_count = len(branches)
        self._collisions = _collision_index(self._conditions)
        # Rules that share a key: a doubtful one is decided with all of them (see matching_many).
        by_key: dict[str, list[int]] = {}
        for index, key in enumerate(self.keys):
            by_key.setdefault(key, []).append(index)
        self._sharing_key = {index: indexes for indexes in by_key.values() if len(indexes) > 1 for index in indexes}
        self._key_of_rule: dict[str, str] = {}  # engine rule name -> key of its condition
        self._chunks = []
        self._route_key, self._list_key, groups = _pack(branches)
        self._generic: list[int] = []
        self._by_value: dict[Any, list[int]] = {}
        self._by_member: dict[Any, list[int]] = {}
        for number, group in enumerate(groups):
            # A rule's name is "<index of the condition>.<branch>": what fired says whose it is.
            definition: dict[str, Any] = {
                f"{index}.{n}": {"all": [{"m": _routed_first(branch, self._route_key, self._list_key)}],
                                 "run": str(index)}
                for n, (index, branch) in enumerate(group.branches)}
            self._key_of_rule.update((f"{index}.{n}", self.keys[index]) for n, (index, _) in enumerate(group.branches))
            # One action for all the facts of an evaluation, however many (each fact matches it).
            definition[_CATCH_ALL] = {"all": [{"m": {ALWAYS: True}}], "run": _CATCH_ALL, "cap": _CATCH_ALL_CAP}
            keys = frozenset({ALWAYS}.union(*(_keys_of(branch) for _, branch in group.branches)))
            self._chunks.append(_Chunk(f"bssrules{serial}_{number}", definition, keys))
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
        self.hosts_discarded = 0  # hosts on which an evaluation failed (never used again)
        self._own_parts: dict[tuple[int, tuple[str, ...]], _OwnPart] = {}
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
        while True:
            try:
                return self._pool.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                room = self._hosts < self._pool_size
                if room:
                    self._hosts += 1  # reserved now, so that two threads cannot both take the last place
            if room:
                try:
                    return self._new_host(counted=True)
                except BaseException:
                    with self._lock:
                        self._hosts -= 1
                    raise
            try:
                # Wait for a host to come back; look again now and then, since a host that
                # failed is not coming back (its place is free for a new one).
                return self._pool.get(timeout=0.05)
            except queue.Empty:
                continue

    def __del__(self) -> None:
        # The engine keeps rule sets in native memory until told to delete them: without
        # this, every engine dropped (e.g. on each catalog revision) leaks ~70 KB per host.
        pool = getattr(self, "_pool", None)
        while pool is not None:
            try:
                host = pool.get_nowait()
            except queue.Empty:
                break
            _delete_rulesets(host)

    def _release(self, host: _QuietHost) -> None:
        self._pool.put(host)

    def _discard(self, host: _QuietHost) -> None:
        """A host on which an evaluation failed is not reused: whatever the failure left in
        it goes with it, and its place in the pool is free for a new host."""
        with self._lock:
            self._hosts -= 1
            self.hosts_discarded += 1
        _delete_rulesets(host)

    def matching(self, values: Mapping[str, Any]) -> set[str]:
        """Keys of the rules whose condition holds for typed fact values."""
        return self.matching_many([values])[0]

    def matching_many(self, facts: Sequence[Mapping[str, Any]],
                      shared: Mapping[str, Any] | None = None) -> list[set[str]]:
        """:meth:`matching` for several fact sets at once, with one engine call per rule set
        concerned. ``shared`` holds typed values common to all of them (a basket's party,
        channel, inventory and date): fact set ``i`` is ``{**shared, **facts[i]}``, and
        what they share is flattened, checked and written once."""
        if not facts:
            return []
        common: Mapping[str, Any] = shared or {}
        serial = f"s{next(self._sids)}"
        given: set[str] = set().union(*facts)
        own_attributes = [a for a in self.attributes if a in given]
        owned = set(own_attributes)
        shared_event = flatten_facts(common, self.zone, [a for a in self.attributes if a not in owned])
        shared_doubtful = self._doubtful(common, shared_event, owned, inside=False)
        shared_members = _members(shared_event)
        own_events: list[list[tuple[str, str]]] = []
        own_fragments: list[dict[int, str] | None] = []
        doubtful: dict[int, set[int]] = {}  # fact set -> rules its floats cannot decide
        route_key, list_key = self._route_key, self._list_key
        # Each fact goes only to the rule sets that can hold for it (see _pack).
        routed: dict[int, list[int]] = {}
        own_key = tuple(own_attributes)
        from_common = [a for a in own_attributes if a in common]  # own attributes some fact sets may lack
        for number, values in enumerate(facts):
            own = self._own_part(values, common, own_attributes, own_key, owned, from_common)
            own_events.append(own.members)
            own_fragments.append(own.fragments)
            if own.doubtful or shared_doubtful:
                doubtful[number] = own.doubtful | shared_doubtful
            targets = set(self._generic)
            if route_key:
                targets.update(self._by_value.get(own.route if own.route is not _ABSENT
                                                 else shared_event.get(route_key), ()))
            if list_key:
                for member in (own.members_of_list if own.members_of_list is not _ABSENT
                               else shared_event.get(list_key)) or ():
                    targets.update(self._by_member.get(member, ()))
            for target in targets:
                routed.setdefault(target, []).append(number)
        results: list[set[str]] = [set() for _ in facts]
        key_of_rule = self._key_of_rule
        prefix = serial + "-"
        host = self._acquire()
        try:
            for chunk_number, numbers in sorted(routed.items()):
                chunk = self._chunks[chunk_number]
                head = _fragment(shared_members, chunk.keys)
                texts = []
                for number in numbers:
                    # A kept part (a catalog entity's facts) sends each rule set the same fields: written once.
                    fragments = own_fragments[number]
                    tail = fragments.get(chunk_number) if fragments is not None else None
                    if tail is None:
                        tail = _fragment(own_events[number], chunk.keys)
                        if fragments is not None:
                            fragments[chunk_number] = tail
                    body = f"{head},{tail}" if head and tail else head or tail
                    texts.append(f'{{"id":"{prefix}{number}","sid":"{_STATE}"{"," if body else ""}{body}}}')
                for rule_name, event_id in _assert_and_collect(host, chunk.name, "[" + ",".join(texts) + "]"):
                    rule_key = key_of_rule.get(rule_name)
                    if rule_key is None or not event_id.startswith(prefix):
                        raise EngineError(f"the engine reported rule {rule_name} for fact {event_id}, which is not "
                                          f"one of this evaluation's in {chunk.name}")
                    results[int(event_id[len(prefix):])].add(rule_key)
        except BaseException:
            self._discard(host)
            raise
        self._release(host)
        for number, indexes in doubtful.items():
            self._decide_exactly(results[number], indexes, {**common, **facts[number]})
        return results

    def _own_part(self, values: Mapping[str, Any], common: Mapping[str, Any], own_attributes: list[str],
                  own_key: tuple[str, ...], owned: set[str], from_common: list[str]) -> "_OwnPart":
        """What one fact set sends of its own: its event's members, the rules its floats
        cannot decide, its routing values. Kept for read-only facts (a ``MappingProxyType``,
        as a catalog entity's facts are) that take nothing from the shared part: an offering
        in every basket is flattened and written once."""
        frozen = type(values) is MappingProxyType and all(a in values for a in from_common)
        if frozen:
            cached = self._own_parts.get((id(values), own_key))
            if cached is not None and cached.values is values:
                return cached
        merged = values if not common else {a: values[a] if a in values else common[a]
                                             for a in own_attributes if a in values or a in common}
        event = flatten_facts(merged, self.zone, own_attributes)
        event.pop(ALWAYS, None)  # the shared part carries it
        part = _OwnPart(values, _members(event), self._doubtful(merged, event, owned, inside=True),
                        event.get(self._route_key, _ABSENT) if self._route_key else _ABSENT,
                        event.get(self._list_key, _ABSENT) if self._list_key else _ABSENT,
                        {} if frozen else None)
        if frozen:
            if len(self._own_parts) >= _OWN_PARTS_MAX:
                self._own_parts.clear()
            self._own_parts[(id(values), own_key)] = part  # the part holds the values: their id stays theirs
        return part

    def _doubtful(self, values: Mapping[str, Any], event: Mapping[str, Any], owned: set[str],
                  inside: bool) -> set[int]:
        """Rules whose floats cannot decide for these values: those holding a constant of an
        attribute (among ``owned``, or outside it) with the value's float but another value."""
        found: set[int] = set()
        for attribute, key, floats in self._collisions:
            if (attribute in owned) != inside:
                continue
            seen = event.get(key)  # there when the attribute is in the facts
            constants = floats.get(seen) if seen is not None else None
            if constants and (len(constants) > 1 or values[attribute] not in constants):  # else: the very constant
                exact = values[attribute]
                for constant, indexes in constants.items():
                    if constant != exact:
                        found.update(indexes)
        return found

    def _decide_exactly(self, keys: set[str], indexes: set[int], values: Mapping[str, Any]) -> None:
        """Correct what the engine said of rules whose floats could not decide, by deciding
        them (and any rule sharing their key) with the exact evaluator."""
        for index in list(indexes):
            indexes.update(self._sharing_key.get(index, ()))
        held = {self.keys[index] for index in indexes if holds(self._conditions[index], values, self.zone)}
        keys.difference_update(self.keys[index] for index in indexes)
        keys.update(held)


_MEMBER_NAMES: dict[str, str] = {}  # event field -> its JSON member name ('"party__type":')


_ABSENT: Any = object()  # a routing field the fact set's own event does not have
_OWN_PARTS_MAX = 100_000  # own parts kept per engine (then forgotten, all at once)


@dataclass(frozen=True)
class _OwnPart:
    values: Mapping[str, Any]
    members: list[tuple[str, str]]
    doubtful: set[int]
    route: Any
    members_of_list: Any
    fragments: dict[int, str] | None  # rule set -> the members it is sent (kept parts only)


def _value_text(value: Any) -> str:
    """One value of a flat event as the engine reads it (see :class:`_EngineJson`)."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        text = repr(value)
        return _number_text(value) if "e" in text or "E" in text else text
    if kind is int:
        return str(value)
    if kind is list and all(type(v) is str for v in value):
        return "[" + ",".join(map(encode_basestring, value)) + "]"
    return _EngineJson.dumps(value)


def _members(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, JSON member) of every field of a flat event, each written once: a rule set is
    sent the members it tests (:func:`_fragment`)."""
    members = []
    for key, value in event.items():
        name = _MEMBER_NAMES.get(key)
        if name is None:
            name = _MEMBER_NAMES.setdefault(key, encode_basestring(key) + ":")
        members.append((key, name + _value_text(value)))
    return members


def _fragment(members: list[tuple[str, str]], keys: frozenset[str]) -> str:
    """The members of an event that a rule set tests (JSON members, no braces)."""
    return ",".join([member for key, member in members if key in keys])


_Collisions = list[tuple[str, str, dict[float, dict[Any, set[int]]]]]


def _collision_index(conditions: Sequence[Condition]) -> _Collisions:
    """(attribute, engine key, float -> exact constant -> rules) of every number or instant
    that conditions compare a fact with: a fact whose float is there and which is not that
    constant is where the engine's float comparison may be wrong."""
    floats: dict[str, dict[float, dict[Any, set[int]]]] = {}
    for index, condition in enumerate(conditions):
        for test in tests_of(condition):
            kind = FACT_ATTRIBUTES[test.attribute]
            if kind not in ("number", "datetime") or test.op not in _FLOAT_COMPARED:
                continue
            for constant in test.value if isinstance(test.value, tuple) else (test.value,):
                number = engine_number(constant)
                if kind == "datetime" and abs(number) < _EXACT_SECONDS:
                    continue  # no other instant has this float
                by_float = floats.setdefault(test.attribute, {}).setdefault(number, {})
                by_float.setdefault(constant, set()).add(index)
    return [(attribute, engine_key(attribute), by_float) for attribute, by_float in sorted(floats.items())]


# Instants are whole microseconds: below 2**33 seconds from 1970 (from 1697 to 2242) floats
# of epoch seconds are less than a microsecond apart (2**-20 s), so two different instants
# there never share one, and the engine compares them exactly.
_EXACT_SECONDS = 2.0 ** 33
