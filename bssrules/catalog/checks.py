"""Checks across entities: references resolve, nothing nests into itself, offerings only
restrict characteristics their specification has.

They work on any :class:`Catalog` and report :class:`Problem` values (entity, path inside
it, message, suggestion); the loader positions them in the YAML, the API turns them
into error bodies.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.model import Characteristic, Entity, ProductOffering, show_value, value_matches_type
from bssrules.errors import did_you_mean

KnownIds = Callable[[str], set[str]]


@dataclass(frozen=True)
class Problem:
    """One cross-entity problem, located by entity and by path inside it."""

    kind: str
    id: str
    path: tuple[str | int, ...]
    message: str
    suggestion: str | None = None
    code: str = "invalid"


def reference_problems(entity: Entity, known_ids: KnownIds) -> list[Problem]:
    """References of ``entity`` that name nothing known, with the closest known id."""
    problems = []
    for path, target_kind, target_id in entity.refs():
        known = known_ids(target_kind)
        if target_id not in known:
            problems.append(Problem(entity.kind, entity.id, path,
                                    f"unknown {target_kind} '{target_id}'",
                                    did_you_mean(target_id, known), "unknownReference"))
    return problems


def characteristic_use_problems(offering: ProductOffering, characteristics: list[Characteristic]) -> list[Problem]:
    """An offering's characteristic uses must name characteristics of its spec and allowed values."""
    problems = []
    by_name = {c.name: c for c in characteristics}
    for i, use in enumerate(offering.characteristic_uses):
        spec_char = by_name.get(use.name)
        if spec_char is None:
            problems.append(Problem(offering.kind, offering.id, ("characteristicUses", i, "name"),
                                    f"productSpecification '{offering.product_specification}' has no "
                                    f"characteristic '{use.name}'", did_you_mean(use.name, by_name),
                                    "unknownReference"))
            continue
        for j, value in enumerate(use.values):
            if not value_matches_type(value, spec_char.value_type):
                message = f"value {show_value(value)} is not of valueType {spec_char.value_type}"
            elif spec_char.values and value not in spec_char.values:
                message = (f"value {show_value(value)} is not one of the values of '{use.name}': "
                           f"{', '.join(map(str, spec_char.values))}")
            # a characteristic with a range is of valueType integer or number, which the value matched above
            elif spec_char.range and not spec_char.range.min <= value <= spec_char.range.max:  # type: ignore[operator]
                message = f"value {show_value(value)} is outside the range {spec_char.range.min}..{spec_char.range.max}"
            else:
                continue
            problems.append(Problem(offering.kind, offering.id, ("characteristicUses", i, "values", j), message))
    return problems


def _cycle_problems(kind: str, edges: dict[str, list[str]], path: tuple[str, ...], what: str) -> list[Problem]:
    """One problem per cycle in a graph given as id -> children ids."""
    problems, state = [], {}
    reported: set[frozenset[str]] = set()

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for child in edges.get(node, []):
            if state.get(child) == "open":
                cycle = trail[trail.index(child):] + [child]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    problems.append(Problem(kind, cycle[0], path, f"{what} cycle: {' -> '.join(cycle)}",
                                            code="cycle"))
            elif child in edges and state.get(child) is None:
                visit(child, trail + [child])
        state[node] = "done"

    for node in sorted(edges):
        if state.get(node) is None:
            visit(node, [node])
    return problems


def catalog_problems(catalog: Catalog, known_ids: KnownIds | None = None) -> list[Problem]:
    """Every cross-entity problem of a catalog (references resolved against ``known_ids``,
    by default the catalog's own ids)."""
    lookup = known_ids or catalog.ids
    cache: dict[str, set[str]] = {}

    def known(kind: str) -> set[str]:  # one set per kind, not one per reference
        if kind not in cache:
            cache[kind] = lookup(kind)
        return cache[kind]

    problems: list[Problem] = []
    for entity in catalog:
        problems += reference_problems(entity, known)
    for offering in catalog.offerings.values():
        spec = catalog.product_specifications.get(offering.product_specification or "")
        if spec is not None:
            problems += characteristic_use_problems(offering, spec.characteristics)
    problems += _cycle_problems("productOffering", {o.id: [b.offering for b in o.bundle]
                                                    for o in catalog.offerings.values()}, ("bundle",), "bundle")
    problems += _cycle_problems("resourceSpecification", {r.id: list(r.children)
                                                          for r in catalog.resource_specifications.values()},
                                ("children",), "compound resource")
    problems += _cycle_problems("category", {c.id: [c.parent] if c.parent else []
                                             for c in catalog.categories.values()}, ("parent",), "category parent")
    return problems


def referrers(catalog_entities: Iterable[Entity], kind: str, id: str) -> list[tuple[str, str]]:
    """(kind, id) of every entity that refers to the given one."""
    return sorted({(e.kind, e.id) for e in catalog_entities for _, k, i in e.refs() if k == kind and i == id})
