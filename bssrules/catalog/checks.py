"""Checks across entities: references resolve, nothing nests into itself, offerings only
restrict characteristics their specification has.

They work on :class:`Links` — what these checks need of an entity, small enough to be kept
in the check cache of a project — built from any entity by :func:`links_of`, and report
:class:`Problem` values (entity, path inside it, message, suggestion); the loader
positions them in the YAML, the API turns them into error bodies.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, NamedTuple, Sequence

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.model import (
    Characteristic, Entity, ProductOffering, ProductOfferingPrice, ProductSpecification, Ref, Scalar, show_value,
    value_matches_type,
)
from bssrules.errors import did_you_mean
from bssrules.pricing.units import MEASURED_UNITS, convert

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


class Span(NamedTuple):
    """The range of a characteristic: inclusive bounds."""

    min: int
    max: int


class CharacteristicFacts(NamedTuple):
    """What a characteristic use is checked against."""

    name: str
    value_type: str
    values: tuple[Scalar, ...]
    range: Span | None


class Links(NamedTuple):
    """What the checks across entities need of one entity.

    ``uses`` (of an offering) and ``characteristics`` (of a specification) are None when they
    are not known — the entity failed its own validation there — so that nothing is checked
    against what could not be read."""

    kind: str
    id: str
    refs: tuple[Ref, ...]
    specification: str | None = None
    uses: tuple[tuple[str, tuple[Scalar, ...]], ...] | None = ()
    characteristics: tuple[CharacteristicFacts, ...] | None = ()
    # of a price: (priceType, amount, currency, unit, unitQuantity), what rates naming it agree with
    price: tuple[str, Decimal, str, str | None, Decimal] | None = None
    # of a usage price: the usage type it prices; of a recurring price: its allowances as
    # (path, unit, usage types), checked against the usage types and units the catalog knows
    usage_type: str | None = None
    allowances: tuple[tuple[tuple[str | int, ...], str, tuple[str, ...]], ...] = ()
    # of a specification whose characteristics are not known (one of them in error): the
    # names they are written with, when each has one — what a use may name (None: not known)
    characteristic_names: tuple[str, ...] | None = None


class CatalogPrice(NamedTuple):
    """A price of the catalog as a rate naming it is checked against, and where it is."""

    id: str
    price_type: str
    amount: Decimal
    currency: str
    unit: str | None
    quantity: Decimal  # unitQuantity: the amount is per this many units
    where: str  # file:line:column of the price


PriceOf = Callable[[str], "CatalogPrice | None"]


def characteristic_facts(characteristic: Characteristic) -> CharacteristicFacts:
    """What a characteristic use is checked against, of a characteristic."""
    span = characteristic.range
    return CharacteristicFacts(characteristic.name, characteristic.value_type, tuple(characteristic.values),
                               Span(span.min, span.max) if span else None)


def links_of(entity: Entity, uses_known: bool = True, characteristics_known: bool = True) -> Links:
    """The links of an entity (``*_known=False``: that part of it failed validation)."""
    refs = tuple(entity.refs())
    if isinstance(entity, ProductOffering):
        uses = tuple((u.name, tuple(u.values)) for u in entity.characteristic_uses) if uses_known else None
        return Links(entity.kind, entity.id, refs, entity.product_specification, uses)
    if isinstance(entity, ProductSpecification):
        facts = tuple(map(characteristic_facts, entity.characteristics)) if characteristics_known else None
        return Links(entity.kind, entity.id, refs, characteristics=facts)
    if isinstance(entity, ProductOfferingPrice):
        return Links(entity.kind, entity.id, refs, price=(entity.price_type, entity.amount, entity.currency,
                                                          entity.unit, entity.unit_quantity),
                     usage_type=entity.usage_type,
                     allowances=tuple((("allowances", i), a.unit, tuple(a.usage_types))
                                      for i, a in enumerate(entity.allowances)))
    return Links(entity.kind, entity.id, refs)


def _reference_problems(links: Links, known_ids: KnownIds) -> list[Problem]:
    problems = []
    for path, target_kind, target_id in links.refs:
        known = known_ids(target_kind)
        if target_id not in known:
            problems.append(Problem(links.kind, links.id, path, f"unknown {target_kind} '{target_id}'",
                                    did_you_mean(target_id, known), "unknownReference"))
    return problems


def reference_problems(entity: Entity, known_ids: KnownIds) -> list[Problem]:
    """References of ``entity`` that name nothing known, with the closest known id."""
    return _reference_problems(links_of(entity), known_ids)


def _use_problems(offering: Links, specification: str, characteristics: Iterable[CharacteristicFacts]
                  ) -> list[Problem]:
    problems = []
    by_name = {c.name: c for c in characteristics}
    for i, (name, values) in enumerate(offering.uses or ()):
        spec_char = by_name.get(name)
        if spec_char is None:
            problems.append(Problem(offering.kind, offering.id, ("characteristicUses", i, "name"),
                                    f"productSpecification '{specification}' has no characteristic '{name}'",
                                    did_you_mean(name, by_name), "unknownReference"))
            continue
        for j, value in enumerate(values):
            if not value_matches_type(value, spec_char.value_type):
                message = f"value {show_value(value)} is not of valueType {spec_char.value_type}"
            elif spec_char.values and value not in spec_char.values:
                message = (f"value {show_value(value)} is not one of the values of '{name}': "
                           f"{', '.join(map(str, spec_char.values))}")
            # a characteristic with a range is of valueType integer or number, which the value matched above
            elif spec_char.range and not spec_char.range.min <= value <= spec_char.range.max:  # type: ignore[operator]
                message = f"value {show_value(value)} is outside the range {spec_char.range.min}..{spec_char.range.max}"
            else:
                continue
            problems.append(Problem(offering.kind, offering.id, ("characteristicUses", i, "values", j), message))
    return problems


def _unknown_uses(offering: Links, specification: str, names: Sequence[str]) -> list[Problem]:
    """The characteristic uses of an offering that name none of ``names``."""
    return [Problem(offering.kind, offering.id, ("characteristicUses", i, "name"),
                    f"productSpecification '{specification}' has no characteristic '{name}'",
                    did_you_mean(name, names), "unknownReference")
            for i, (name, _) in enumerate(offering.uses or ()) if name not in names]


def characteristic_use_problems(offering: ProductOffering, characteristics: list[Characteristic]) -> list[Problem]:
    """An offering's characteristic uses must name characteristics of its spec and allowed values."""
    return _use_problems(links_of(offering), offering.product_specification or "",
                         map(characteristic_facts, characteristics))


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


# The graphs that must have no cycle: (kind, first element of the edge's path, field, what).
_GRAPHS = (("productOffering", "bundle", "bundle"), ("resourceSpecification", "children", "compound resource"),
           ("category", "parent", "category parent"))


# The units an allowance may count in, in the order a message lists them.
_LISTED_UNITS = ("B", "kB", "MB", "GB", "TB", "s", "min", "h")


class _UsagePrice(NamedTuple):
    id: str
    usage_type: str
    unit: str


def _usage_prices(entities: Sequence[Links]) -> list[_UsagePrice]:
    """The usage prices that name a usage type and a unit, first of each id only."""
    prices: dict[str, _UsagePrice] = {}
    for links in entities:
        if links.kind == "productOfferingPrice" and links.usage_type and links.price and links.price[3]:
            prices.setdefault(links.id, _UsagePrice(links.id, links.usage_type, links.price[3]))
    return list(prices.values())


def _offered_with(entities: Sequence[Links]) -> dict[str, set[str]]:
    """Price id -> the ids of the prices listed beside it by an offering."""
    together: dict[str, set[str]] = {}
    for links in entities:
        if links.kind == "productOffering":
            listed = {target for path, kind, target in links.refs if kind == "productOfferingPrice"}
            for price in listed:
                together.setdefault(price, set()).update(listed)
    return together


def _unit_mismatch(unit: str, usage_type: str, price_id: str, offered_with: dict[str, set[str]],
                   usage_prices: Sequence[_UsagePrice]) -> _UsagePrice | None:
    """The usage price of ``usage_type`` an allowance of ``unit`` (on price ``price_id``) cannot
    serve: its bucket is used only by usage in a unit it converts to, and that usage is rated
    at the usage price (per its unit), so an allowance that converts to none of them serves
    nothing. The prices its offerings list beside it count (each must be served); a price no
    offering lists is checked against the catalog's usage prices of the type (one must be)."""
    of_type = [p for p in usage_prices if p.usage_type == usage_type]
    beside = [p for p in of_type if p.id in offered_with.get(price_id, ())]
    if beside:
        return next((p for p in beside if convert(Decimal(1), unit, p.unit) is None), None)
    if of_type and all(convert(Decimal(1), unit, p.unit) is None for p in of_type):
        return of_type[0]
    return None


def _units_counting(unit: str) -> str:
    """The allowance units that convert to ``unit``, as a message lists them."""
    return ", ".join(u for u in _LISTED_UNITS if convert(Decimal(1), u, unit) is not None) or unit


def _allowance_problems(entities: Sequence[Links]) -> list[tuple[int, Problem]]:
    """An allowance serves usage types that usage prices of the catalog price (``usageType``)
    and counts in a unit the catalog knows (a unit of data or time, or one a usage price is
    charged per: message, movie …) that converts to the unit its usage types are charged per."""
    if not any(links.allowances for links in entities):
        return []
    usage_prices = _usage_prices(entities)
    usage_types = {p.usage_type for p in usage_prices}
    usage_types.update(links.usage_type for links in entities if links.usage_type)
    units: set[str] = set(MEASURED_UNITS) | {p.unit for p in usage_prices}
    units.update(links.price[3] for links in entities
                 if links.price is not None and links.price[0] == "usage" and links.price[3])
    offered_with = _offered_with(entities)
    found: list[tuple[int, Problem]] = []
    for index, links in enumerate(entities):
        for path, unit, types in links.allowances:
            for n, usage_type in enumerate(types):
                if usage_type not in usage_types:
                    known = ", ".join(sorted(usage_types)) or "none: give usage prices a usageType"
                    found.append((index, Problem(
                        links.kind, links.id, path + ("usageTypes", n),
                        f"unknown usage type '{usage_type}': no usage price of the catalog has this usageType "
                        f"(known: {known})", did_you_mean(usage_type, usage_types), "unknownReference")))
            if unit not in units:
                found.append((index, Problem(
                    links.kind, links.id, path + ("unit",),
                    f"unknown unit '{unit}': a unit of data (B, kB, MB, GB, TB) or time (s, min, h), or one a "
                    f"usage price of the catalog is charged per", did_you_mean(unit, units), "unknownReference")))
                continue
            for usage_type in dict.fromkeys(types):
                price = _unit_mismatch(unit, usage_type, links.id, offered_with, usage_prices)
                if price is not None:
                    found.append((index, Problem(
                        links.kind, links.id, path + ("unit",),
                        f"unit '{unit}' cannot convert to {price.unit}, the unit the '{usage_type}' usage price "
                        f"'{price.id}' is charged per: the allowance would serve no {usage_type} usage "
                        f"(give it a unit that converts: {_units_counting(price.unit)})")))
                    break  # one error at the unit is enough
    return found


def link_problems(entities: Sequence[Links], known_ids: KnownIds,
                  in_graphs: Sequence[bool] | None = None) -> list[tuple[int, Problem]]:
    """Every cross-entity problem of entities given by their links, with the index of the
    entity each is about. Where an id is given twice, the first one counts. Cycles are
    looked for among the entities ``in_graphs`` says (by default all)."""
    cache: dict[str, set[str]] = {}

    def known(kind: str) -> set[str]:  # one set per kind, not one per reference
        if kind not in cache:
            cache[kind] = known_ids(kind)
        return cache[kind]

    first: dict[tuple[str, str], int] = {}
    for index, links in enumerate(entities):
        first.setdefault((links.kind, links.id), index)
    found: list[tuple[int, Problem]] = []
    for index, links in enumerate(entities):
        found += [(index, p) for p in _reference_problems(links, known)]
        if links.kind == "productOffering" and links.specification and links.uses:
            spec = first.get(("productSpecification", links.specification))
            facts = entities[spec].characteristics if spec is not None else None
            if facts is not None:
                found += [(index, p) for p in _use_problems(links, links.specification, facts)]
            elif spec is not None and entities[spec].characteristic_names is not None:
                # a characteristic in error still has its name: a use of none of them is an error of its own
                found += [(index, p) for p in _unknown_uses(links, links.specification,
                                                              entities[spec].characteristic_names or ())]
    found += _allowance_problems(entities)
    graphed = [i for i in range(len(entities)) if in_graphs is None or in_graphs[i]]
    for kind, field, what in _GRAPHS:
        edges = {entities[i].id: [target for path, _, target in entities[i].refs if path[0] == field]
                 for i in graphed if entities[i].kind == kind and first[(kind, entities[i].id)] == i}
        found += [(first[(kind, p.id)], p) for p in _cycle_problems(kind, edges, (field,), what)]
    return found


def catalog_problems(catalog: Catalog, known_ids: KnownIds | None = None) -> list[Problem]:
    """Every cross-entity problem of a catalog (references resolved against ``known_ids``,
    by default the catalog's own ids)."""
    return [p for _, p in link_problems([links_of(e) for e in catalog], known_ids or catalog.ids)]


def referrers(catalog_entities: Iterable[Entity], kind: str, id: str) -> list[tuple[str, str]]:
    """(kind, id) of every entity that refers to the given one."""
    return sorted({(e.kind, e.id) for e in catalog_entities for _, k, i in e.refs() if k == kind and i == id})
