"""Decisions remembered per compiled rule set, exactly.

What a compiled rule set decides (the rules that fire) depends only on the outcome of each
test of its conditions, and every test compares one attribute with constants of the rule
set: equality with texts, order with numbers and instants, membership of ids in a list,
the minute of the day and the weekday in the rule set's time zone. So two fact sets that
every test sees alike get the same decision, and a fact set can be reduced to what the
tests can tell apart — its **projection**:

- a text or a flag: the value when a test names it, else "another value";
- a number or an instant: its place among the constants it is compared with (below,
  equal to or above each: two bisections), so 14:03 and 14:37 on the same day are one
  slot when no constant lies between them — validity dates included (``now``);
- an instant tested by ``timeOfDay``: the slot of its local minute among the windows'
  boundaries; by ``dayOfWeek``: its local weekday (both computed in the rule set's zone,
  so a DST change moves the minute exactly as the engine sees it);
- a list: which of the ids tested are in it;
- an attribute no test reads: nothing; an absent one: "absent".

A test of an operator this module does not know keeps the attribute's exact value.

The projection keys a bounded cache (least recently used first out) kept for each compiled
rule set, as long as that rule set lives: a new catalog revision compiles new rule sets, so
nothing is kept across revisions. Only what depends on the fired rules alone is kept (not
explanations, and not SLA decisions, which report the metric's value).
"""
from __future__ import annotations

import itertools
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from typing import Any, Callable, Hashable, Mapping, Sequence

from bssrules.rules.compiled import CompiledRuleSet
from bssrules.rules.conditions import Test, TimeWindow, tests_of
from bssrules.rules.facts import FACT_ATTRIBUTES, local_minute

# Projections kept per compiled rule set: a rule set's projections are bounded by its constants
# (a few per rule) — for eligibility and compatibility that includes the offering and resource
# ids the rules name, so a 10,000-offering catalog has about as many. Measured on the
# configurator benchmark (10,000 offerings, 1,000 rules, 400 baskets): 4,096 mostly missed
# (p99 1.95 ms a basket), 16,384 held them (p99 0.72 ms) for 7 MB more in the process.
DEFAULT_SIZE = 16_384

_ABSENT = ("absent",)  # an attribute the facts do not give
_OTHER = ("other",)  # a text or flag no test names
_ORDERED_OPS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in", "notIn", "between", "exists"})
_EQUALITY_OPS = frozenset({"eq", "ne", "in", "notIn", "exists"})
_LIST_OPS = frozenset({"contains", "notContains", "containsAny", "containsAll", "exists"})

Reducer = Callable[[Any], Hashable]


def _constants(tests: list[Test]) -> set[Any]:
    found: set[Any] = set()
    for test in tests:
        if test.op in ("exists", "timeOfDay", "dayOfWeek"):
            continue
        if isinstance(test.value, tuple):
            found.update(test.value)
        else:
            found.add(test.value)
    return found


def _exact(value: Any) -> Hashable:
    return tuple(value) if isinstance(value, list) else value


def _reducer(attribute: str, tests: list[Test], compiled: CompiledRuleSet) -> Reducer:
    """How one attribute's typed value reduces to what its tests can tell apart."""
    kind = FACT_ATTRIBUTES.get(attribute)
    ops = {t.op for t in tests}
    if kind in ("string", "boolean") and ops <= _EQUALITY_OPS:
        named = frozenset(_constants(tests))
        return lambda value: value if value in named else _OTHER
    if kind == "list" and ops <= _LIST_OPS:
        ids = frozenset(_constants(tests))
        return lambda value: tuple(v for v in value if v in ids)
    if kind == "number" and ops <= _ORDERED_OPS:
        points = sorted(_constants(tests))
        return lambda value: (bisect_left(points, value), bisect_right(points, value))
    if kind == "datetime" and ops <= _ORDERED_OPS | {"timeOfDay", "dayOfWeek"}:
        instants = sorted(_constants(tests))
        # A window [start, end] (both minutes included) holds m as start <= m < end + 1.
        bounds = sorted({b for t in tests if isinstance(t.value, TimeWindow) for b in (t.value.start, t.value.end + 1)})
        local = bool(bounds) or "dayOfWeek" in ops
        weekday = "dayOfWeek" in ops
        zone = compiled.zone

        def instant(value: Any) -> Hashable:
            place = (bisect_left(instants, value), bisect_right(instants, value))
            if not local:
                return place
            minute, day = local_minute(value, zone)
            return place + (bisect_right(bounds, minute), day if weekday else 0)

        return instant
    return _exact


class _Projection:
    """The reduction of typed fact values for one compiled rule set (see the module)."""

    def __init__(self, compiled: CompiledRuleSet):
        by_attribute: dict[str, list[Test]] = {}
        for rule in compiled.rules:
            for test in tests_of(rule.fires):
                by_attribute.setdefault(test.attribute, []).append(test)
        self.reducers = [(attribute, _reducer(attribute, tests, compiled))
                         for attribute, tests in sorted(by_attribute.items())]

    def key(self, values: Mapping[str, Any]) -> tuple[Hashable, ...]:
        return tuple(reduce(values[attribute]) if attribute in values else _ABSENT
                     for attribute, reduce in self.reducers)

    def part(self, values: Mapping[str, Any], missing: Hashable = _ABSENT) -> tuple[Hashable, ...]:
        """:meth:`key` of the attributes ``values`` gives, ``missing`` for the others."""
        return tuple(reduce(values[attribute]) if attribute in values else missing
                     for attribute, reduce in self.reducers)


# Marks, in the part of a split key that a fact set's own values make, the attributes those
# values do not give (the shared values' projection stands for them). No reducer returns it.
_NOT_OWN = object()
# Heads a split key: a flat key (:meth:`_Projection.key`) is made of reduced fact values only.
_SPLIT = object()
# Numbers of the parts of split keys: one number per part, never given twice in the process
# (a part numbered again after its memo forgot it gets a new number: an old key then misses).
_part_numbers = itertools.count()


class _Memo:
    """One compiled rule set's projection and its remembered results (LRU, bounded)."""

    def __init__(self, compiled: CompiledRuleSet, size: int):
        self.projection = _Projection(compiled)
        self.size = size
        self.entries: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self.lock = threading.Lock()
        # part of a split key -> its number; id of a long-lived own-values mapping -> (that
        # mapping, the number of its part)
        self._numbers: dict[tuple[Hashable, ...], int] = {}
        self._own_parts: dict[int, tuple[Mapping[str, Any], int]] = {}

    def _number(self, part: tuple[Hashable, ...]) -> int:
        numbers = self._numbers
        number = numbers.get(part)
        if number is None:
            if len(numbers) >= self.size:
                numbers.clear()
                self._own_parts.clear()
            number = numbers[part] = next(_part_numbers)
        return number

    def split_keys(self, shared: Mapping[str, Any], owns: Sequence[Mapping[str, Any]],
                   remember_own: bool = True) -> list[tuple[Hashable, ...]]:
        """Keys of the fact sets ``{**shared, **own}`` for each ``own`` of ``owns``, made of
        the shared values' projection (reduced once for them all) and the own values' (kept
        per mapping when ``remember_own``: the same read-only mapping, e.g. an offering's
        typed facts, reduces alike every time), each part by its number. Equal keys mean
        equal parts, hence equal projections of the merged fact sets (each attribute is the
        own value's reduction, else the shared one's): as exact as :meth:`_Projection.key`.
        The two kinds of key never meet (``_SPLIT`` heads the one, the other holds reduced
        values only)."""
        projection = self.projection
        number = self._number
        shared_number = number(projection.part(shared))
        keys: list[tuple[Hashable, ...]] = []
        parts = self._own_parts
        for own in owns:
            entry = parts.get(id(own)) if remember_own else None
            if entry is not None and entry[0] is own:
                own_number = entry[1]
            else:
                own_number = number(projection.part(own, _NOT_OWN))
                if remember_own:
                    if len(parts) >= self.size:  # bounded as the entries are (a part is cheap to make again)
                        parts.clear()
                    parts[id(own)] = (own, own_number)  # holds the mapping: its id is not reused meanwhile
            keys.append((_SPLIT, own_number, shared_number))
        return keys

    def get_many(self, keys: Sequence[tuple[Hashable, ...]]) -> list[Any]:
        """:meth:`get` of each key, under one hold of the lock."""
        with self.lock:
            entries = self.entries
            found = [entries.get(key) for key in keys]
            for key, result in zip(keys, found):
                if result is not None:
                    entries.move_to_end(key)
            return found

    def get(self, key: tuple[Hashable, ...]) -> Any:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: tuple[Hashable, ...], result: Any) -> None:
        with self.lock:
            self.entries[key] = result
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_memos: dict[int, _Memo] = {}
_memos_lock = threading.Lock()


def memo_of(compiled: CompiledRuleSet, size: int = DEFAULT_SIZE) -> _Memo:
    """The cache of a compiled rule set, made on first use and dropped with the rule set."""
    memo = _memos.get(id(compiled))
    if memo is not None:
        return memo
    with _memos_lock:
        memo = _memos.get(id(compiled))
        if memo is None:
            memo = _memos[id(compiled)] = _Memo(compiled, size)
            # The id may be reused once the rule set is gone: its cache goes with it.
            weakref.finalize(compiled, _memos.pop, id(compiled), None)
    return memo


def forget_all() -> None:
    """Empty every cache (tests measure with and without)."""
    with _memos_lock:
        for memo in _memos.values():
            with memo.lock:
                memo.entries.clear()
            memo._own_parts.clear()
            memo._numbers.clear()


__all__ = ["DEFAULT_SIZE", "memo_of", "forget_all"]
