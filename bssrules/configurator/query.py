"""Configuration query (in the spirit of TMF760 queryProductConfiguration): for a partial
basket, what can still be chosen — options, add-ons, bundle components, characteristic
values — and why the rest cannot.

Each candidate is tried by validating the basket with it: a candidate is selectable when
it adds no violation to those the basket already has; otherwise the new violations are the
reasons. Brute force on purpose: the answer is exactly what validation would say.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.model import Characteristic
from bssrules.configurator.model import Basket, BasketItem
from bssrules.configurator.validate import ValidationResult, Violation, validate_basket
from bssrules.rules.book import RuleBook

RANGE_SAMPLES = 0  # ranges are reported as ranges, not enumerated


def _key(v: Violation) -> tuple[Any, ...]:
    return (v.code, v.rule, v.message, v.path)


def _new_reasons(before: ValidationResult, after: ValidationResult) -> list[dict[str, Any]]:
    known = {_key(v) for v in before.violations}
    return [{"code": v.code, "message": v.message, **({"rule": v.rule} if v.rule else {})}
            for v in after.violations if _key(v) not in known]


def _with_item(basket: Basket, index: int | None, item: BasketItem) -> Basket:
    """The basket with ``item`` added at top level (``index`` None) or replacing item ``index``."""
    items = list(basket.items)
    if index is None:
        items.append(item)
    else:
        items[index] = item
    return basket.model_copy(update={"items": items})


def _candidate_values(characteristic: Characteristic, restricted: list[Any] | None) -> list[Any]:
    values = list(characteristic.values)
    if restricted is not None:
        values = [v for v in (values or restricted) if v in restricted]
    return values


def query_configuration(basket: Basket, catalog: Catalog, rules: RuleBook | None = None) -> dict[str, Any]:
    """What each item of a basket can still take, and what can be added, with reasons."""
    base = validate_basket(basket, catalog, rules, explain=False)
    present = {item.offering for _, item, _ in basket.all_items()}
    items_out = []
    for index, item in enumerate(basket.items):
        offering = catalog.offerings.get(item.offering)
        entry: dict[str, Any] = {"item": item.id, "offering": item.offering, "options": [], "components": [],
                                 "characteristics": []}
        if offering is None:
            entry["unknown"] = True
            items_out.append(entry)
            continue
        now = basket.as_of or dt.datetime.now(dt.timezone.utc)
        for relationship in offering.relationships:
            if relationship.type not in ("option", "addOn") or relationship.offering in present \
                    or not relationship.valid_for.contains(now):
                continue
            candidate = BasketItem(id=f"{item.id}.{relationship.offering}", offering=relationship.offering)
            after = validate_basket(_with_item(basket, None, candidate), catalog, rules, explain=False)
            reasons = _new_reasons(base, after)
            entry["options"].append({"offering": relationship.offering, "relationship": relationship.type,
                                     "selectable": not reasons, "reasons": reasons})
        for component in offering.bundle:
            count = sum(c.quantity for c in item.items if c.offering == component.offering)
            if count >= component.max:
                continue
            grown = item.model_copy(update={"items": list(item.items) + [
                BasketItem(id=f"{item.id}.{component.offering}", offering=component.offering)]})
            after = validate_basket(_with_item(basket, index, grown), catalog, rules, explain=False)
            reasons = _new_reasons(base, after)
            entry["components"].append({"offering": component.offering, "count": count, "max": component.max,
                                        "selectable": not reasons, "reasons": reasons})
        spec = catalog.product_specifications.get(offering.product_specification or "")
        uses = {u.name: list(u.values) for u in offering.characteristic_uses}
        for characteristic in spec.characteristics if spec else []:
            if not characteristic.configurable:
                continue
            described: dict[str, Any] = {"name": characteristic.name, "valueType": characteristic.value_type,
                                         "values": []}
            if characteristic.range:
                described["range"] = {"min": characteristic.range.min, "max": characteristic.range.max}
            for value in _candidate_values(characteristic, uses.get(characteristic.name)):
                changed = item.model_copy(update={"characteristics": {**item.characteristics,
                                                                      characteristic.name: value}})
                after = validate_basket(_with_item(basket, index, changed), catalog, rules, explain=False)
                reasons = _new_reasons(base, after)
                described["values"].append({"value": value, "selectable": not reasons, "reasons": reasons})
            if characteristic.values and uses.get(characteristic.name) is not None:
                for value in characteristic.values:
                    if value not in uses[characteristic.name]:
                        described["values"].append({"value": value, "selectable": False, "reasons": [{
                            "code": "notOffered", "message": f"offering '{offering.id}' allows only "
                                                             f"{', '.join(map(str, uses[characteristic.name]))}"}]})
            entry["characteristics"].append(described)
        items_out.append(entry)
    return {"valid": base.valid, "violations": [v.to_dict() for v in base.violations], "items": items_out}
