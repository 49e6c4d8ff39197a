"""Compiling conditions onto the engine's vocabulary.

A condition becomes negation-normal form over engine atoms (``$neq``, ``$lt``, ``$iany``
…) with absence made explicit through the presence flags of the flat event — the engine
has no reliable "not exists" (``$nex`` was seen to hang) and ``$iall`` is false on an empty
list — then disjunctive normal form: one engine rule per branch. The branch count is
bounded so that a rule can never exceed the engine's limits (see engine.py).
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Union

from bssrules.rules.conditions import All, Condition, Not, Test, TimeWindow
from bssrules.rules.facts import ALWAYS, engine_key

MAX_BRANCHES = 256


class TooComplex(ValueError):
    """A condition whose disjunctive normal form has more branches than the engine takes."""


@dataclass(frozen=True)
class Atom:
    key: str
    op: str  # eq neq lt lte gt gte iany iallneq
    value: Any

    def to_json(self) -> dict[str, Any]:
        value = _engine_value(self.value)
        if self.op == "eq":
            return {self.key: value}
        if self.op == "iany":
            return {"$iany": {self.key: {"$i": value}}}
        if self.op == "iallneq":
            return {"$iall": {self.key: {"$neq": {"$i": value}}}}
        return {f"${self.op}": {self.key: value}}


@dataclass(frozen=True)
class AndN:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class OrN:
    items: tuple["Node", ...]


Node = Union[Atom, AndN, OrN]


def _engine_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return value


def _present(attribute: str, flag: bool = True) -> Atom:
    return Atom(engine_key(attribute, "present"), "eq", flag)


_FLIP = {"eq": "neq", "neq": "eq", "lt": "gte", "gte": "lt", "lte": "gt", "gt": "lte"}


def _window(key: str, window: TimeWindow, negated: bool) -> Node:
    start, end = Atom(key, "gte", window.start), Atom(key, "lte", window.end)
    if not negated:
        return AndN((start, end)) if window.start <= window.end else OrN((start, end))
    before, after = Atom(key, "lt", window.start), Atom(key, "gt", window.end)
    return OrN((before, after)) if window.start <= window.end else AndN((after, before))


def _positive(t: Test) -> Node:
    key, op, value = engine_key(t.attribute), t.op, t.value
    present = _present(t.attribute)
    if op == "exists":
        return _present(t.attribute, value)
    if op == "eq":
        return Atom(key, "eq", value)
    if op == "ne":
        return AndN((present, Atom(key, "neq", value)))
    if op in ("lt", "lte", "gt", "gte"):
        return Atom(key, op, value)
    if op == "in":
        return OrN(tuple(Atom(key, "eq", v) for v in value))
    if op == "notIn":
        return AndN((present,) + tuple(Atom(key, "neq", v) for v in value))
    if op == "between":
        return AndN((Atom(key, "gte", value[0]), Atom(key, "lte", value[1])))
    if op == "timeOfDay":
        return _window(engine_key(t.attribute, "minute"), value, negated=False)
    if op == "dayOfWeek":
        return OrN(tuple(Atom(engine_key(t.attribute, "weekday"), "eq", d) for d in value))
    if op == "contains":
        return Atom(key, "iany", value)
    if op == "notContains":
        return AndN((present, _empty_or_without(t.attribute, value)))
    if op == "containsAny":
        return OrN(tuple(Atom(key, "iany", v) for v in value))
    if op == "containsAll":
        return AndN(tuple(Atom(key, "iany", v) for v in value))
    raise ValueError(f"unknown operator {op}")


def _empty_or_without(attribute: str, value: Any) -> Node:
    return OrN((Atom(engine_key(attribute, "count"), "eq", 0), Atom(engine_key(attribute), "iallneq", value)))


def _negative(t: Test) -> Node:
    """not t: true when the attribute is absent, or present and failing the test."""
    key, op, value = engine_key(t.attribute), t.op, t.value
    absent = _present(t.attribute, False)
    if op == "exists":
        return _present(t.attribute, not value)
    if op in _FLIP:
        return OrN((absent, Atom(key, _FLIP[op], value)))
    if op == "ne":
        return OrN((absent, Atom(key, "eq", value)))
    if op == "in":
        return OrN((absent, AndN(tuple(Atom(key, "neq", v) for v in value))))
    if op == "notIn":
        return OrN((absent,) + tuple(Atom(key, "eq", v) for v in value))
    if op == "between":
        return OrN((absent, Atom(key, "lt", value[0]), Atom(key, "gt", value[1])))
    if op == "timeOfDay":
        return OrN((absent, _window(engine_key(t.attribute, "minute"), value, negated=True)))
    if op == "dayOfWeek":
        others = [d for d in range(1, 8) if d not in value]
        return OrN((absent,) + tuple(Atom(engine_key(t.attribute, "weekday"), "eq", d) for d in others))
    if op == "contains":
        return OrN((absent, _empty_or_without(t.attribute, value)))
    if op == "notContains":
        return OrN((absent, Atom(key, "iany", value)))
    if op == "containsAny":  # absent, empty, or none of them: three branches, not three per value
        return OrN((absent, Atom(engine_key(t.attribute, "count"), "eq", 0),
                    AndN(tuple(Atom(key, "iallneq", v) for v in value))))
    if op == "containsAll":
        return OrN((absent,) + tuple(_empty_or_without(t.attribute, v) for v in value))
    raise ValueError(f"unknown operator {op}")


def to_nnf(condition: Condition, negated: bool = False) -> Node:
    """Negation-normal form over engine atoms."""
    if isinstance(condition, Test):
        return _negative(condition) if negated else _positive(condition)
    if isinstance(condition, Not):
        return to_nnf(condition.item, not negated)
    items = tuple(to_nnf(c, negated) for c in condition.items)
    conjunctive = isinstance(condition, All) != negated
    return AndN(items) if conjunctive else OrN(items)


def to_dnf(node: Node, limit: int = MAX_BRANCHES) -> list[tuple[Atom, ...]]:
    """Branches (conjunctions of atoms) whose union is the node; :class:`TooComplex` past ``limit``."""
    if isinstance(node, Atom):
        return [(node,)]
    if isinstance(node, OrN):
        branches = [b for item in node.items for b in to_dnf(item, limit)]
    else:
        branches = [()]
        for item in node.items:
            parts = to_dnf(item, limit)
            if len(branches) * len(parts) > limit:
                raise TooComplex(f"more than {limit} alternatives once expanded")
            branches = [a + b for a, b in itertools.product(branches, parts)]
    if len(branches) > limit:
        raise TooComplex(f"{len(branches)} alternatives once expanded, more than {limit}")
    return [tuple(dict.fromkeys(b)) for b in branches]


def branch_json(branch: tuple[Atom, ...]) -> dict[str, Any]:
    """One engine condition for one branch."""
    if not branch:
        return {ALWAYS: True}
    atoms = [a.to_json() for a in branch]
    return atoms[0] if len(atoms) == 1 else {"$and": atoms}


def _routable(node: OrN) -> bool:
    """An alternative of equalities of one attribute (``in``) or of members of one list
    (``containsAny``): what a fact is routed by, so expanded into branches."""
    atoms = [item for item in node.items if isinstance(item, Atom)]
    return len(atoms) == len(node.items) and len({(a.key, a.op) for a in atoms}) == 1 and atoms[0].op in ("eq", "iany")


# A branch: the atoms every fact it holds for passes (the engine files the first under its
# attribute's hash), and the nested alternatives the engine decides as they are ($or).
_Branch = tuple[tuple[Atom, ...], tuple[Node, ...]]


def _split(node: Node, top: bool, limit: int) -> list[_Branch]:
    if isinstance(node, Atom):
        return [((node,), ())]
    if isinstance(node, OrN):
        if top or _routable(node):
            branches = [b for item in node.items for b in _split(item, top, limit)]
            if len(branches) > limit:
                raise TooComplex(f"{len(branches)} alternatives once expanded, more than {limit}")
            return branches
        return [((), (node,))]
    out: list[_Branch] = [((), ())]
    for item in node.items:
        parts = _split(item, False, limit)
        if len(out) * len(parts) > limit:
            raise TooComplex(f"more than {limit} alternatives once expanded")
        out = [(a + c, b + d) for (a, b), (c, d) in itertools.product(out, parts)]
    return out


def _flat(node: Node) -> Node:
    """The same node with nested alternatives (conjunctions) of alternatives (conjunctions)
    merged and groups of one item replaced by the item: ``any: [{offering.id: {in: …}}]``
    is then an alternative of equalities, routable."""
    if isinstance(node, Atom):
        return node
    kind = type(node)
    items: list[Node] = []
    for item in (_flat(i) for i in node.items):
        items += list(item.items) if isinstance(item, kind) else [item]
    return items[0] if len(items) == 1 else kind(tuple(items))


def _node_json(node: Node) -> dict[str, Any]:
    if isinstance(node, Atom):
        return node.to_json()
    return {"$or" if isinstance(node, OrN) else "$and": [_node_json(item) for item in node.items]}


def compile_condition(condition: Condition) -> list[dict[str, Any]]:
    """The engine conditions (one engine rule each) whose union is ``condition``.

    Only the alternatives a fact is routed by (``in``, ``containsAny``, and a condition's
    own top-level alternatives) become separate engine rules; the others stay alternatives
    within one rule (the engine's ``$or``), after the plain tests of the rule, so that the
    engine files the rule under a test it can look up by value. A branch with no plain test
    is expanded whole (a rule beginning with an ``$or`` is looked at for every fact: measured,
    150 such rules took the engine seconds per call). The full expansion (:func:`to_dnf`)
    bounds the size of a condition either way: one that expands past ``MAX_BRANCHES`` is
    refused (the rule sets' load says so), so the engine never sees more than that."""
    node = to_nnf(condition)
    to_dnf(node)  # TooComplex past MAX_BRANCHES, as before: what is accepted does not change
    out: list[dict[str, Any]] = []
    for atoms, nested in _split(_flat(node), True, MAX_BRANCHES):
        atoms = tuple(dict.fromkeys(atoms))
        if not nested:
            out.append(branch_json(atoms))
        elif not atoms:
            out += [branch_json(b) for b in to_dnf(AndN(nested))]
        else:
            out.append({"$and": [a.to_json() for a in atoms] + [_node_json(n) for n in nested]})
    return out


def validity_condition(start: dt.datetime | None, end: dt.datetime | None) -> Condition:
    """``now`` within [start, end): how a rule's validFor reaches the engine."""
    tests: list[Condition] = []
    if start is not None:
        tests.append(Test("now", "gte", start))
    if end is not None:
        tests.append(Test("now", "lt", end))
    return All(tuple(tests))


__all__ = ["Atom", "TooComplex", "to_nnf", "to_dnf", "compile_condition", "validity_condition"]
