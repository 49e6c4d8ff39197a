"""Basket validation: every violation at once, each with its code, rule, message and path.

Checks, in this order: the offerings themselves (known, sellable, in force, channel),
bundle cardinality, characteristic values, prerequisites and exclusions of the catalog,
then the rule sets in force at the basket's date — eligibility per item, compatibility
over the basket together with the party's inventory, split billing completeness.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import AbstractSet, Any, Iterable, Mapping

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.model import (
    Characteristic, ProductOffering, ProductOfferingPrice, ProductSpecification, show_value, value_matches_type,
)
from bssrules.catalog.types import format_instant
from bssrules.configurator.model import Basket, BasketItem, InventoryProduct, Path
from bssrules.errors import did_you_mean, format_path
from bssrules.rules.book import RuleBook
from bssrules.rules.compiled import CompiledRuleSet
from bssrules.configurator.remembered import decided
from bssrules.rules.decisions import Decision, fact_values
from bssrules.rules.facts import typed_facts

SELLABLE_STATUSES = ("Active", "Launched")
EFFECTIVE_STATUSES = ("active", "pendingTerminate", "suspended")  # the product exists and is in force
CHARGE_TYPES = {"oneTime": "oneTime", "recurring": "recurring", "usage": "usage"}


@dataclass
class Violation:
    """One reason the basket cannot be ordered as it is."""

    code: str
    message: str
    path: Path
    rule: str | None = None
    rule_set: str | None = None
    explanation: list[dict[str, Any]] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "path": format_path(self.path)}
        if self.rule:
            out["rule"] = self.rule
        if self.rule_set:
            out["ruleSet"] = self.rule_set
        out.update(self.details)
        if self.explanation is not None:
            out["explanation"] = self.explanation
        return out


@dataclass
class ValidationResult:
    valid: bool
    violations: list[Violation]

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "violations": [v.to_dict() for v in self.violations]}


def _now(basket: Basket) -> dt.datetime:
    return basket.as_of or dt.datetime.now(dt.timezone.utc)


# (path, item, parent, the item's offering or None when the catalog has none)
_Resolved = tuple[Path, BasketItem, "BasketItem | None", "ProductOffering | None"]


class _Context:
    """What the checks of one validation share, worked out once: the date, the items with
    their offerings (each looked up once, not once per check), and the party's facts typed
    (for every rule set of every kind)."""

    def __init__(self, basket: Basket, catalog: Catalog):
        self.basket, self.catalog = basket, catalog
        self.now = _now(basket)
        self.offerings = offerings = catalog.offerings
        self.items: list[_Resolved] = [(path, item, parent, offerings.get(item.offering))
                                       for path, item, parent in basket.all_items()]
        self._party: dict[str, Any] | None = None
        # (index, product) of the party's products in force: those the request leaves it,
        # which the basket is judged with, and those it deletes itself (``deleted_by``)
        self.effective: list[tuple[int, InventoryProduct]] = []
        self.deleted: list[tuple[int, InventoryProduct]] = []
        for index, product in enumerate(basket.inventory):
            if product.status in EFFECTIVE_STATUSES:
                (self.effective if product.deleted_by is None else self.deleted).append((index, product))

    def party_values(self) -> dict[str, Any]:
        """The party's typed facts with ``now`` (:func:`party_facts`, read once)."""
        if self._party is None:
            self._party = fact_values(party_facts(self.basket, self.catalog), self.now)
        return self._party


def validate_basket(basket: Basket, catalog: Catalog, rules: RuleBook | None = None,
                    explain: bool = True) -> ValidationResult:
    """Every violation of a basket against the catalog and the rules in force at its date."""
    violations: list[Violation] = []
    context = _Context(basket, catalog)
    offerings = context.offerings
    extended = _extended_by(context)
    for path, item, parent, offering in context.items:
        if offering is None:
            violations.append(Violation("unknownOffering", f"unknown offering '{item.offering}'"
                                        + _hint(item.offering, offerings), path + ("offering",)))
            continue
        violations += _offering_violations(basket, path, item, parent, offering, extended, context.now)
        violations += _bundle_violations(catalog, path, item, offering)
        violations += _characteristic_violations(catalog, path, item, offering)
    violations += _relationship_violations(context)
    if rules is not None:
        violations += _eligibility_violations(context, rules, explain)
        violations += _compatibility_violations(context, rules, explain)
        violations += _split_billing_violations(context, rules, explain)
    return ValidationResult(not violations, violations)


def _hint(word: str, known: Iterable[str]) -> str:
    suggestion = did_you_mean(word, known)
    return f" (did you mean '{suggestion}'?)" if suggestion else ""


def _extended_by(context: _Context) -> set[str]:
    """Offerings that another item of the basket takes as an option or add-on (in force):
    those may be sold beside it even when they are not sellable on their own."""
    now = context.now
    extended = set()
    for _, _, _, offering in context.items:
        if offering is None:
            continue
        for relationship in offering.relationships:
            if relationship.type in ("option", "addOn") and relationship.valid_for.contains(now):
                extended.add(relationship.offering)
    return extended


def not_in_force_label(offering: ProductOffering, now: dt.datetime) -> str:
    """When the offering is offered, and when the decision was taken: the instants (UTC), as a
    date alone would not say (an offering ending at noon is not offered that afternoon)."""
    start, end = offering.valid_for.start, offering.valid_for.end
    since = f"from {format_instant(start)}" if start else ""
    until = ("to " if start else "until ") + f"{format_instant(end)} (validFor, its end excluded)" if end \
        else "(validFor)"
    return f"offering '{offering.id}' is offered {' '.join(p for p in (since, until) if p)}, not at {format_instant(now)}"


def _offering_violations(basket: Basket, path: Path, item: BasketItem, parent: BasketItem | None,
                         offering: ProductOffering, extended: AbstractSet[str] = frozenset(),
                         now: dt.datetime | None = None) -> list[Violation]:
    found = []
    now = now or _now(basket)
    if offering.lifecycle_status not in SELLABLE_STATUSES:
        found.append(Violation("notSellable", f"offering '{offering.id}' is {offering.lifecycle_status}",
                               path + ("offering",)))
    if not offering.valid_for.contains(now):
        found.append(Violation("notInForce", not_in_force_label(offering, now), path + ("offering",)))
    if parent is None and not offering.sellable and offering.id not in extended:
        found.append(Violation("notSellableAlone", f"offering '{offering.id}' is sold only within a bundle or "
                                                   "as an option or add-on of another item", path + ("offering",)))
    if basket.channel and offering.channels and basket.channel not in offering.channels and parent is None:
        found.append(Violation("channelNotAllowed", f"offering '{offering.id}' is not sold through channel "
                                                    f"'{basket.channel}' (only {', '.join(offering.channels)})",
                               path + ("offering",)))
    return found


def _bundle_violations(catalog: Catalog, path: Path, item: BasketItem, offering: ProductOffering) -> list[Violation]:
    if not offering.is_bundle:
        if item.items:
            return [Violation("notABundle", f"offering '{offering.id}' is not a bundle: it has no components",
                              path + ("items",))]
        return []
    found = []
    allowed = {b.offering: b for b in offering.bundle}
    counts: dict[str, int] = {}
    for i, child in enumerate(item.items):
        if child.offering not in allowed:
            found.append(Violation("notInBundle", f"'{child.offering}' is not a component of bundle '{offering.id}' "
                                                  f"(components: {', '.join(allowed)})", path + ("items", i, "offering")))
            continue
        counts[child.offering] = counts.get(child.offering, 0) + child.quantity
    for child_id, option in allowed.items():
        # Components not listed take their default count.
        count = counts.get(child_id, option.default_count if not item.items else 0)
        if not option.min <= count <= option.max:
            found.append(Violation("bundleCardinality", f"bundle '{offering.id}' takes {option.min} to {option.max} of "
                                                        f"'{child_id}', the basket has {count}", path + ("items",),
                                   details={"component": child_id, "min": option.min, "max": option.max,
                                            "count": count}))
    return found


def _allowed(value: Any, spec: Characteristic, restricted: list[Any] | None) -> str | None:
    """Why a value is not allowed (None when it is)."""
    if not value_matches_type(value, spec.value_type):
        return f"{show_value(value)} is not of valueType {spec.value_type}"
    if spec.values and value not in spec.values:
        return f"{show_value(value)} is not one of {', '.join(map(show_value, spec.values))}"
    if spec.range and not spec.range.min <= value <= spec.range.max:
        return f"{show_value(value)} is outside {spec.range.min}..{spec.range.max}"
    if restricted is not None and value not in restricted:
        return f"{show_value(value)} is not offered by this offering (only {', '.join(map(show_value, restricted))})"
    return None


# What an item's characteristic values come to, per offering and values given: the same
# offering with the same values (what a front end sends) is checked once, not per basket.
# Kept with the offering and specification they were checked against (catalog entities are
# frozen: a new revision brings new objects, and an entry of older ones is not used).
_PLAIN = frozenset({str, int, bool})
_CHECKED: dict[tuple[str, tuple[tuple[Any, ...], ...]],
               tuple[ProductOffering, ProductSpecification | None, list[tuple[str, str, Path]]]] = {}


def _characteristic_violations(catalog: Catalog, path: Path, item: BasketItem,
                               offering: ProductOffering) -> list[Violation]:
    spec = catalog.product_specifications.get(offering.product_specification or "")
    characteristics = item.characteristics
    # Values by their type and repr (1, True and Decimal(1) are equal; Decimal 1 and 1.0 show
    # apart); texts, integers and flags by their types and themselves (equal values of the
    # same of those types have the same repr): the two shapes never meet.
    types = tuple(map(type, characteristics.values()))
    given: tuple[tuple[Any, ...], ...] = (types, tuple(characteristics.items())) if _PLAIN.issuperset(types) else \
        tuple((name, type(value).__name__, repr(value)) for name, value in characteristics.items())
    cached = _CHECKED.get((offering.id, given))
    if cached is None or cached[0] is not offering or cached[1] is not spec:
        found = _characteristic_problems(offering, spec, item.characteristics)
        if len(_CHECKED) >= _OFFERING_VALUES_MAX:
            _CHECKED.clear()
        _CHECKED[(offering.id, given)] = (offering, spec, found)
    else:
        found = cached[2]
    return [Violation(code, message, path + where) for code, message, where in found] if found else []


def _characteristic_problems(offering: ProductOffering, spec: ProductSpecification | None,
                             characteristics: Mapping[str, Any]) -> list[tuple[str, str, Path]]:
    """(code, message, path within the item) of every problem of an item's characteristic values."""
    if spec is None:
        return [] if not characteristics else [
            ("unknownCharacteristic", f"offering '{offering.id}' has no characteristics", ("characteristics",))]
    found = []
    by_name, uses, required = _characteristics_of(offering, spec)
    for name, given in characteristics.items():
        here: Path = ("characteristics", name)
        characteristic = by_name.get(name)
        if characteristic is None:
            found.append(("unknownCharacteristic", f"'{spec.id}' has no characteristic '{name}'"
                          + _hint(name, by_name), here))
            continue
        values = given if isinstance(given, list) else [given]
        if len(values) > characteristic.max_cardinality:
            found.append(("tooManyValues", f"'{name}' takes at most {characteristic.max_cardinality} "
                                           f"value(s), got {len(values)}", here))
        if len(values) < characteristic.min_cardinality:
            found.append(("tooFewValues", f"'{name}' takes at least {characteristic.min_cardinality} "
                                          f"value(s), got {len(values)}", here))
        if len({repr(v) for v in values}) != len(values):
            found.append(("repeatedValue", f"'{name}' lists a value more than once", here))
        for value in values:
            value = Decimal(str(value)) if isinstance(value, float) else value
            problem = _allowed(value, characteristic, uses.get(name))
            if problem:
                found.append(("invalidCharacteristicValue", f"'{name}': {problem}", here))
            elif not characteristic.configurable and characteristic.default is not None and value != characteristic.default:
                found.append(("notConfigurable", f"'{name}' is not configurable (it is "
                                                 f"{show_value(characteristic.default)})", here))
    for name in required:
        if name not in characteristics:
            found.append(("missingCharacteristic", f"'{name}' of '{spec.id}' is required", ("characteristics",)))
    return found


_Characteristics = tuple[dict[str, Characteristic], dict[str, list[Any]], list[str]]
_CHARACTERISTICS: dict[str, tuple[ProductOffering, ProductSpecification, _Characteristics]] = {}


def _characteristics_of(offering: ProductOffering, spec: ProductSpecification) -> _Characteristics:
    """(characteristics by name, values the offering restricts them to, names required with no
    default) of an offering, worked out once per offering and specification."""
    cached = _CHARACTERISTICS.get(offering.id)
    if cached is not None and cached[0] is offering and cached[1] is spec:
        return cached[2]
    by_name = {c.name: c for c in spec.characteristics}
    uses = {u.name: list(u.values) for u in offering.characteristic_uses}
    required = []
    for characteristic in spec.characteristics:
        restricted = uses.get(characteristic.name)
        # the value taken when none is chosen: the one the offering allows, else the spec's
        # default if the offering allows it (order completion stores the same: services.orders)
        has_default = (restricted is not None and len(restricted) == 1) or (
            characteristic.default is not None and (restricted is None or characteristic.default in restricted))
        if characteristic.min_cardinality > 0 and not has_default:
            required.append(characteristic.name)
    if len(_CHARACTERISTICS) >= _OFFERING_VALUES_MAX:
        _CHARACTERISTICS.clear()
    _CHARACTERISTICS[offering.id] = (offering, spec, (by_name, uses, required))
    return by_name, uses, required


def _present_offerings(basket: Basket) -> set[str]:
    return {item.offering for _, item, _ in basket.all_items()}


def _effective_inventory(basket: Basket) -> list[tuple[int, Any]]:
    """(index, product) of the party's products in force that the request leaves it (not
    ``deleted_by`` one of its items): what the basket is judged with."""
    return [(i, p) for i, p in enumerate(basket.inventory) if p.status in EFFECTIVE_STATUSES and p.deleted_by is None]


def _deleted_at(product: Any) -> Path:
    """Where the request deletes a product: its delete item's ``product.id``."""
    return tuple(product.deleted_by) + ("product", "id")


def _relationship_violations(context: _Context) -> list[Violation]:
    found = []
    items = context.items
    in_basket = {item.offering for _, item, _, _ in items}
    owned = {p.offering for _, p in context.effective}
    present = in_basket | owned
    now = context.now
    deleted: dict[str, Any] = {}  # offering -> the first product of it the request deletes
    for _, product in context.deleted:
        deleted.setdefault(product.offering, product)
    for path, _, _, offering in items:
        if offering is None or not offering.relationships:
            continue
        for relationship in offering.relationships:
            if not relationship.valid_for.contains(now):
                continue
            target = relationship.offering
            if relationship.type == "requires" and target not in present:
                gone = deleted.get(target)
                found.append(Violation("missingPrerequisite", f"'{offering.id}' requires '{target}', which is "
                                                              "neither in the basket nor an effective product"
                                       + (f" (product '{gone.id}', which has it, is deleted by "
                                          f"{format_path(_deleted_at(gone))})" if gone else ""),
                                       path + ("offering",),
                                       details={"requires": target, **({"deleted": gone.id} if gone else {})}))
            if relationship.type == "excludes" and target in present:
                where = "in the basket" if target in in_basket else "already owned"
                found.append(Violation("excluded", f"'{offering.id}' cannot go with '{target}' ({where})",
                                       path + ("offering",), details={"excludes": target}))
    found += _excluded_by_owned(context)
    if deleted:
        found += _prerequisites_deleted(context, present, deleted)
    return found


def _excluded_by_owned(context: _Context) -> list[Violation]:
    """The items whose offering a product the party keeps ``excludes``: the pair seen from the
    owned side (an exclusion is declared on one of the two offerings; "cannot be combined"
    holds whichever of them is bought first). A pair the item's own offering excludes as
    well is reported once, by the item's check."""
    found = []
    reported: set[tuple[Path, str]] = set()
    now = context.now
    for _, product in context.effective:
        owned = context.offerings.get(product.offering)
        if owned is None:
            continue
        for relationship in owned.relationships:
            if relationship.type != "excludes" or not relationship.valid_for.contains(now):
                continue
            for path, item, _, offering in context.items:
                if offering is None or item.offering != relationship.offering or (path, owned.id) in reported:
                    continue
                if any(r.type == "excludes" and r.offering == owned.id and r.valid_for.contains(now)
                       for r in offering.relationships):
                    continue  # (the item's own exclusion of it: reported there)
                reported.add((path, owned.id))
                found.append(Violation("excluded", f"'{offering.id}' cannot go with '{owned.id}' (already owned: "
                                                   f"product '{product.id}', whose offering excludes it)",
                                       path + ("offering",), details={"excludedBy": owned.id, "product": product.id}))
    return found


def _prerequisites_deleted(context: _Context, present: AbstractSet[str], deleted: Mapping[str, Any]
                           ) -> list[Violation]:
    """The prerequisites (``requires``) of the products the party keeps that the request
    deletes: each a violation at the delete item (the products kept were bought with what
    they require; only what the request takes away is its doing)."""
    found = []
    for _, product in context.effective:
        offering = context.offerings.get(product.offering)
        if offering is None:
            continue
        for relationship in offering.relationships:
            target = relationship.offering
            if relationship.type == "requires" and relationship.valid_for.contains(context.now) \
                    and target not in present and target in deleted:
                gone = deleted[target]
                found.append(Violation("missingPrerequisite", f"product '{product.id}' ('{offering.id}'), which the "
                                                              f"party keeps, requires '{target}': product '{gone.id}' "
                                                              "is deleted, and neither the basket nor another "
                                                              "effective product brings it",
                                       _deleted_at(gone), details={"requires": target, "product": product.id,
                                                                   "deleted": gone.id}))
    return found


def _rule_sets(rules: RuleBook, kind: str, now: dt.datetime) -> list[CompiledRuleSet]:
    """The version in force of each rule set of ``kind``. Only versions of that kind count: a
    rule set id may hold versions of different kinds over time (v1 eligibility, v2
    compatibility), and a version of another kind has another outcome."""
    chosen = []
    for rule_set_id, versions in rules.versions.items():
        in_force = [v for v in versions if v.kind == kind and v.definition.valid_for.contains(now)]
        if in_force:
            chosen.append(in_force[-1])
    return chosen


def party_facts(basket: Basket, catalog: Catalog) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    party = basket.party.model_dump(by_alias=True, exclude_none=True)
    if party:
        facts["party"] = party
    if basket.channel:
        facts["channel"] = {"id": basket.channel}
    caller = basket.caller.model_dump(by_alias=True, exclude_none=True)
    if caller:
        facts["caller"] = caller
    effective = [p.offering for _, p in _effective_inventory(basket)]
    specs = sorted({spec for o in effective
                    if o in catalog.offerings and (spec := catalog.offerings[o].product_specification)})
    facts["inventory"] = {"offerings": sorted({p.offering for p in basket.inventory}),
                          "activeOfferings": sorted(set(effective)), "productSpecifications": specs}
    return facts


# Typed facts of an offering, kept with the offering they were made from (catalog entities
# are frozen: the same object always gives the same facts; a new revision brings new objects).
_OFFERING_VALUES: dict[str, tuple[ProductOffering, Mapping[str, Any]]] = {}
_OFFERING_VALUES_MAX = 200_000


def offering_values(offering: ProductOffering) -> Mapping[str, Any]:
    """The typed ``offering.*`` facts eligibility rules see (computed once per offering)."""
    cached = _OFFERING_VALUES.get(offering.id)
    if cached is not None and cached[0] is offering:
        return cached[1]
    values = typed_facts({"offering": {"id": offering.id, "partnerEligible": offering.partner_eligible,
                                       "categories": offering.categories, "channels": offering.channels,
                                       "lifecycleStatus": offering.lifecycle_status,
                                       **({"productSpecification": offering.product_specification}
                                          if offering.product_specification else {})}})
    if len(_OFFERING_VALUES) >= _OFFERING_VALUES_MAX:
        _OFFERING_VALUES.clear()
    shown = MappingProxyType(values)  # shared by every validation: read-only
    _OFFERING_VALUES[offering.id] = (offering, shown)
    return shown


_CHARGE_VALUES: dict[tuple[str, str], tuple[ProductOffering, ProductOfferingPrice, Mapping[str, Any]]] = {}


def charge_values(offering: ProductOffering, price: ProductOfferingPrice) -> Mapping[str, Any]:
    """The typed ``charge.*`` facts of an offering's price that split billing rules see
    (computed once per offering and price, kept as :func:`offering_values` are)."""
    cached = _CHARGE_VALUES.get((offering.id, price.id))
    if cached is not None and cached[0] is offering and cached[1] is price:
        return cached[2]
    values = MappingProxyType(typed_facts({"charge": {"type": CHARGE_TYPES[price.price_type], "offering": offering.id,
                                                      "currency": price.currency, "amount": price.amount}}))
    if len(_CHARGE_VALUES) >= _OFFERING_VALUES_MAX:
        _CHARGE_VALUES.clear()
    _CHARGE_VALUES[(offering.id, price.id)] = (offering, price, values)
    return values


def _eligibility_violations(context: _Context, rules: RuleBook, explain: bool) -> list[Violation]:
    rule_sets = _rule_sets(rules, "eligibility", context.now)
    if not rule_sets:
        return []
    targets = [(path, offering) for path, _, _, offering in context.items if offering is not None]
    shared = context.party_values()
    facts = [offering_values(o) for _, o in targets]
    found = []
    for compiled in rule_sets:
        decisions = decided(compiled, facts, shared, explain)
        for (path, offering), decision in zip(targets, decisions):
            for reason in decision.outcome["reasons"]:
                trace = [t.to_dict() for t in decision.trace if t.rule == reason["rule"]] if explain else None
                details = {"reason": reason["code"], "label": reason["label"]}
                if "alternate" in reason:
                    details["alternate"] = reason["alternate"]
                found.append(Violation("notEligible", f"'{offering.id}': {reason['label']}", path + ("offering",),
                                       reason["rule"], compiled.id, trace, details))
    return found


def _compatibility_violations(context: _Context, rules: RuleBook, explain: bool) -> list[Violation]:
    basket, catalog = context.basket, context.catalog
    rule_sets = _rule_sets(rules, "compatibility", context.now)
    if not rule_sets:
        return []
    offerings, specs = context.offerings, catalog.product_specifications
    sources = [(path, item.offering, item.resources, offering) for path, item, _, offering in context.items]
    in_basket = len(sources)
    sources += [(("inventory", i), p.offering, p.resources, offerings.get(p.offering))
                for i, p in context.effective]
    facts = _present(sources, specs)  # with what the party has: the rules of `scope: basketAndInventory`
    own: dict[str, list[str]] | None = None  # what the basket's items bring: the rules of `scope: basket`
    shared = context.party_values()
    found = []
    origin: dict[tuple[str, str], Path] | None = None
    for compiled in rule_sets:
        rules_by_id = compiled.by_key()
        scoped = in_basket < len(sources) and _basket_scoped(compiled)
        if scoped and own is None:
            own = _present(sources[:in_basket], specs)
        scoped = scoped and own != facts
        together, *alone = decided(compiled, [facts, own] if scoped and own is not None else [facts], shared,
                                   explain, lasting=False)
        violated = _scoped_violations(rules_by_id, together, alone[0] if alone else None)
        if not violated:
            continue
        brought = _brought_by_deleted(context, compiled, rules_by_id, violated, sources, in_basket, facts, shared)
        if origin is None:  # who contributes what: the first basket item (or inventory product) that brings an id
            origin = {}
            for path, kind, id in _contributions(context, sources):
                origin.setdefault((kind, id), path)
        for violation, decision in violated:
            rule = rules_by_id[violation["rule"]].source
            path = origin.get((rule.subject.kind, rule.subject.id), ())
            trace = [t.to_dict() for t in decision.trace if t.rule == violation["rule"]] if explain else None
            details = {"type": violation["type"], "subject": violation["subject"]}
            if "target" in violation:
                details["target"] = violation["target"]
            message = violation["message"]
            if violation["rule"] in brought:  # the request's deletions break the rule: say which and where
                gone_at, gone_ids, what = brought[violation["rule"]]
                what, gone_id = what or "it", gone_ids[0]
                details["deleted"] = gone_id
                # (several products deleted that each brought it: the first is named, all are said)
                gone = f"product '{gone_id}', which brings {what}, is" if len(gone_ids) == 1 else \
                    "products " + ", ".join(f"'{g}'" for g in gone_ids) + f", which bring {what}, are"
                index = path[1] if path[:1] == ("inventory",) else None
                if isinstance(index, int):  # a product the party keeps: the delete item is where to look
                    kept = basket.inventory[index].id
                    details["product"] = kept
                    path = gone_at
                    message += f" (product '{kept}' is kept, and {gone} deleted)"
                else:
                    message += f" ({gone} deleted" + (f" by {format_path(gone_at)})" if len(gone_ids) == 1 else
                                                      f", the first by {format_path(gone_at)})")
            found.append(Violation("incompatible", message, path, violation["rule"], compiled.id, trace, details))
    return found


def _brought_by_deleted(context: _Context, compiled: CompiledRuleSet, rules_by_id: Mapping[str, Any],
                        violated: list[tuple[dict[str, Any], Decision]],
                        sources: list[tuple[Path, str, list[str], ProductOffering | None]], in_basket: int,
                        facts: dict[str, list[str]], shared: Mapping[str, Any]
                        ) -> dict[str, tuple[Path, list[str], str | None]]:
    """rule -> (where the request deletes it, product id) of the product whose deletion breaks
    the rule: a rule broken with the party's products as the request leaves them, and not
    with the products it deletes still there. Empty when the request deletes nothing."""
    # in the request's order: the first delete item that brought what is missing is named
    deleted: dict[Path, Any] = {("inventory", i): p for i, p in sorted(context.deleted,
                                                                       key=lambda d: tuple(d[1].deleted_by or ()))}
    gone: list[tuple[Path, str, list[str], ProductOffering | None]] = [
        (path, p.offering, p.resources, context.offerings.get(p.offering)) for path, p in deleted.items()]
    if not gone or not violated:
        return {}
    specs = context.catalog.product_specifications
    before = _present(sources + gone, specs)
    if before == facts:
        return {}
    own = _present(sources[:in_basket], specs)
    scoped = _basket_scoped(compiled)
    together, *alone = decided(compiled, [before, own] if scoped else [before], shared, False, lasting=False)
    was = {v["rule"] for v, _ in _scoped_violations(rules_by_id, together, alone[0] if alone else None)}
    taken = {(attribute, id) for attribute, ids in before.items() for id in ids if id not in facts[attribute]}
    brought: dict[str, tuple[Path, list[str], str | None]] = {}
    for violation, _ in violated:
        key = violation["rule"]
        if key in was:
            continue
        rule = rules_by_id[key].source
        # what taking a product away can leave missing: a requirement's target, or (exactlyOne:
        # none left) one of the rule's ``among`` (the compound subject's children)
        if rule.type == "required" and rule.target is not None:
            kind, wanted = rule.target.kind, [rule.target.id]
        elif rule.type == "exactlyOne":
            among = list(rule.among)
            if not among and rule.subject.kind == "resourceSpecification":
                compound = context.catalog.resource_specifications.get(rule.subject.id)
                among = list(compound.children) if compound is not None else []
            kind, wanted = rule.subject.kind, among
        else:  # (a rule's condition on what is taken away): no delete item can be told
            continue
        attribute = rule.subject.attribute if rule.target is None else rule.target.attribute
        missing = {id for id in wanted if (attribute, id) in taken}
        bringing: dict[str, tuple[Any, str]] = {}  # each deleted product that brought what is missing
        for path, brings_kind, id in _contributions(context, gone):
            if brings_kind == kind and id in missing:
                bringing.setdefault(deleted[path].id, (deleted[path], id))
        if bringing:  # named at the first one's delete item (the others are said in the message)
            product, id = next(iter(bringing.values()))
            brought[key] = (_deleted_at(product), list(bringing), None if rule.type == "required" else f"{kind} {id}")
        # else: no deleted product brought what is missing; the rule stays at its subject's place
    return brought


def _basket_scoped(compiled: CompiledRuleSet) -> bool:
    """Whether a rule of the (compatibility) rule set has ``scope: basket``."""
    return any(getattr(r, "scope", None) == "basket" for r in compiled.definition.rules)


def _present(sources: list[tuple[Path, str, list[str], ProductOffering | None]],
             specs: Mapping[str, Any]) -> dict[str, list[str]]:
    """The compatibility facts of what ``sources`` bring together (basket items, inventory
    products): their offerings, the offerings' product specifications, and the resource
    specifications of those and of each source's own choice."""
    product_specs: set[str] = set()
    resource_specs: set[str] = set()
    for _, _, chosen, offering in sources:
        if offering is not None and (spec_id := offering.product_specification):
            product_specs.add(spec_id)
            spec = specs.get(spec_id)
            if spec is not None:
                resource_specs.update(spec.resource_specifications)
        resource_specs.update(chosen)
    return {"present.productOfferings": sorted({offering_id for _, offering_id, _, _ in sources}),
            "present.productSpecifications": sorted(product_specs),
            "present.resourceSpecifications": sorted(resource_specs)}


def _scoped_violations(rules: Mapping[str, Any], together: Decision, alone: Decision | None
                       ) -> list[tuple[dict[str, Any], Decision]]:
    """Each violation with the decision that found it, in the rule set's order: a rule of
    ``scope: basketAndInventory`` as decided on the basket with the party's products
    (``together``); one of ``scope: basket`` as decided on the basket's own items (``alone``;
    None: the same facts) — a ``required`` one only when the party's products do not have
    its target either."""
    with_inventory = {v["rule"]: v for v in together.outcome["violations"]}
    if alone is None:
        return [(v, together) for v in together.outcome["violations"]]
    own = {v["rule"]: v for v in alone.outcome["violations"]}
    found = []
    for key, rule in rules.items():
        if getattr(rule.source, "scope", None) != "basket":
            if key in with_inventory:
                found.append((with_inventory[key], together))
        elif key in own and (rule.source.type != "required" or key in with_inventory):
            # (a requirement's explanation shows all that is present, the party's products too)
            found.append((with_inventory[key], together) if rule.source.type == "required" else (own[key], alone))
    return found


def _contributions(context: _Context, sources: list[tuple[Path, str, list[str], ProductOffering | None]]
                   ) -> Iterable[tuple[Path, str, str]]:
    """(path, kind, id) of what each source (a basket item or an inventory product: path,
    offering id, resources chosen, the offering) brings: its offering, the offering's
    product specification, and the resource specifications of both."""
    specs = context.catalog.product_specifications
    for path, offering_id, chosen, offering in sources:
        yield path, "productOffering", offering_id
        spec_id = offering.product_specification if offering is not None else None
        if spec_id:
            yield path, "productSpecification", spec_id
            spec = specs.get(spec_id)
            if spec is not None:
                for resource in spec.resource_specifications:
                    yield path, "resourceSpecification", resource
        for resource in chosen:
            yield path, "resourceSpecification", resource


def _split_billing_violations(context: _Context, rules: RuleBook, explain: bool) -> list[Violation]:
    basket, catalog, now = context.basket, context.catalog, context.now
    rule_sets = _rule_sets(rules, "splitBilling", now)
    if not rule_sets:
        return []
    charges = []  # every charge of the basket, decided together per rule set
    facts = []
    prices = catalog.prices
    for path, _, _, offering in context.items:
        if offering is None:
            continue
        for price_id, kept, values in _charges_of(offering, prices):
            price = prices.get(price_id)
            if price is not kept:  # the catalog's prices changed since: this one's facts again
                values = charge_values(offering, price) if price is not None else None
            if price is not None and values is not None and price.valid_for.contains(now):
                charges.append((path, offering, price))
                facts.append(values)
    shared = context.party_values()
    found = []
    payers = basket.payers
    for compiled in rule_sets:
        for (path, offering, price), decision in zip(charges, decided(compiled, facts, shared, False)):
            payer = decision.outcome["payer"]
            if payer is None:
                found.append(Violation("noPayer", f"no split billing rule names a payer for the "
                                                  f"{price.price_type} charge '{price.id}' of '{offering.id}'",
                                       path + ("offering",), None, compiled.id, details={"price": price.id}))
                continue
            # every payer of the charge: its first one, and each of the shares it is split into
            # (each share is billed to its own role's account when the order completes)
            roles = [payer] + [share["payer"] for share in decision.outcome.get("shares") or ()
                               if share["payer"] != payer]
            for role in dict.fromkeys(roles):
                if role in payers:
                    continue
                which = " (its share)" if role != payer else ""
                found.append(Violation("noBillingAccount", f"the {price.price_type} charge '{price.id}' of "
                                                           f"'{offering.id}' is paid by '{role}'{which}, and the basket "
                                                           f"names no billing account for '{role}'",
                                       ("payers",), decision.outcome["rule"], compiled.id,
                                       details={"price": price.id, "payer": role, "item": format_path(path)}))
    return found


_Charges = tuple[tuple[str, ProductOfferingPrice | None, Mapping[str, Any] | None], ...]
_CHARGES: dict[str, tuple[ProductOffering, _Charges]] = {}


def _charges_of(offering: ProductOffering, prices: dict[str, ProductOfferingPrice]) -> _Charges:
    """(price id, the price ``prices`` held, its :func:`charge_values`; None and None when it
    held none) of each price of an offering, in the offering's order, kept per offering: the
    caller takes the values only while ``prices`` still holds that very price."""
    cached = _CHARGES.get(offering.id)
    if cached is not None and cached[0] is offering:
        return cached[1]
    found = tuple((price_id, price, charge_values(offering, price) if price is not None else None)
                  for price_id in offering.prices for price in (prices.get(price_id),))
    if len(_CHARGES) >= _OFFERING_VALUES_MAX:
        _CHARGES.clear()
    _CHARGES[offering.id] = (offering, found)
    return found
