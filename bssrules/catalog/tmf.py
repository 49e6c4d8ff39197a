"""The catalog in TM Forum TMF620 shape, both ways.

``to_tmf`` renders an entity as the TMF620 resource (``id``, ``href``, ``@type``,
``validFor`` with ``startDateTime``/``endDateTime`` …); ``from_tmf`` reads a TMF620 create
or patch body back into the model, refusing — never dropping — what it cannot keep.
Documented extensions: ``partnerEligible`` on ProductOffering; ``defaultValue`` and
``unitOfMeasure`` on a characteristic that has no value entry to carry them; ``atEnd`` and
``earlyTermination`` on a ProductOfferingTerm (what happens at the end of the commitment and
what ending it early costs: TMF620 has no attribute for either); ``usageType`` (the usage
type a usage price is for) and ``allowance`` (the units a recurring price includes each
month, as the catalog YAML writes them) on a ProductOfferingPrice.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import AbstractSet, Any, Callable

from pydantic import ValidationError

from bssrules.catalog.model import (
    KINDS, Category, Characteristic, Entity, ProductCatalog, ProductOffering, ProductOfferingPrice,
    OfferingTerm, ProductSpecification, ResourceSpecification,
)
from bssrules.catalog.types import ValidFor, format_instant
from bssrules.errors import InvalidInput, did_you_mean

TMF_TYPES = {
    "catalog": "Catalog", "category": "Category", "productSpecification": "ProductSpecification",
    "productOffering": "ProductOffering", "productOfferingPrice": "ProductOfferingPrice",
    "resourceSpecification": "ResourceSpecification",
}
# Fields the server manages: accepted in a body (clients echo them back) and ignored.
SERVER_MANAGED = {"href", "lastUpdate", "version", "@baseType", "@schemaLocation", "@type"}
# Fields computed from other resources: shown, never written through this resource.
DERIVED = {"category": {"productOffering", "subCategory"}}
EXTENSIONS = {"productOffering": {"partnerEligible"}, "productOfferingPrice": {"usageType", "allowance"}}
TERM_EXTENSIONS = {"atEnd", "earlyTermination"}
CHARACTERISTIC_EXTENSIONS = {"defaultValue", "unitOfMeasure"}


@dataclass(frozen=True)
class Meta:
    """Store-managed facts about an entity."""

    version: int
    last_update: dt.datetime


def _period(valid_for: ValidFor) -> dict[str, str] | None:
    period = {}
    if valid_for.start:
        period["startDateTime"] = format_instant(valid_for.start)
    if valid_for.end:
        period["endDateTime"] = format_instant(valid_for.end)
    return period or None


def _ref(base: str, kind: str, id: str) -> dict[str, str]:
    ref = {"id": id, "@referredType": TMF_TYPES[kind]}
    if kind in TMF_TYPES and kind != "resourceSpecification":
        ref = {"id": id, "href": f"{base}/{kind}/{id}", "@referredType": TMF_TYPES[kind]}
    return ref


def _characteristic(c: Characteristic) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.name, "valueType": c.value_type, "configurable": c.configurable,
                           "minCardinality": c.min_cardinality, "maxCardinality": c.max_cardinality}
    if c.description:
        out["description"] = c.description
    values: list[dict[str, Any]] = []
    for v in c.values:
        entry: dict[str, Any] = {"valueType": c.value_type, "value": v, "isDefault": v == c.default}
        if c.unit:
            entry["unitOfMeasure"] = c.unit
        values.append(entry)
    if c.range:
        entry = {"valueType": c.value_type, "valueFrom": c.range.min, "valueTo": c.range.max,
                 "rangeInterval": "closed"}
        if c.unit:
            entry["unitOfMeasure"] = c.unit
        values.append(entry)
    if values:
        out["productSpecCharacteristicValue"] = values
    elif c.unit:
        out["unitOfMeasure"] = c.unit
    if c.default is not None and not c.values:
        out["defaultValue"] = c.default
    return out


def to_tmf(entity: Entity, meta: Meta, base: str, derived: dict[str, Any] | None = None) -> dict[str, Any]:
    """The TMF620 resource for ``entity``; ``base`` is the API path prefix for hrefs."""
    kind = entity.kind
    out: dict[str, Any] = {"id": entity.id, "href": f"{base}/{kind}/{entity.id}", "@type": TMF_TYPES[kind],
                           "name": entity.name}
    if entity.description:
        out["description"] = entity.description
    out.update({"version": str(meta.version), "lastUpdate": format_instant(meta.last_update),
                "lifecycleStatus": entity.lifecycle_status})
    period = _period(entity.valid_for)
    if period:
        out["validFor"] = period
    out.update(_RENDER[kind](entity, base))
    out.update(derived or {})
    return out


def _render_offering(o: ProductOffering, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {"isBundle": o.is_bundle, "isSellable": o.sellable, "partnerEligible": o.partner_eligible}
    if o.product_specification:
        out["productSpecification"] = _ref(base, "productSpecification", o.product_specification)
    if o.bundle:
        out["bundledProductOffering"] = [
            {**_ref(base, "productOffering", b.offering), "bundledProductOfferingOption": {
                "numberRelOfferLowerLimit": b.min, "numberRelOfferUpperLimit": b.max,
                **({"numberRelOfferDefault": b.default} if b.default is not None else {})},
             **({} if b.charged else {"charged": False})}  # extension, shown only when not the default
            for b in o.bundle]
        for item in out["bundledProductOffering"]:
            item.pop("@referredType")
    if o.categories:
        out["category"] = [_ref(base, "category", c) for c in o.categories]
    if o.channels:
        out["channel"] = [{"id": c} for c in o.channels]
    if o.prices:
        out["productOfferingPrice"] = [_ref(base, "productOfferingPrice", p) for p in o.prices]
    if o.relationships:
        out["productOfferingRelationship"] = [
            {**_ref(base, "productOffering", r.offering), "relationshipType": r.type,
             **({"validFor": _period(r.valid_for)} if _period(r.valid_for) else {})}
            for r in o.relationships]
    if o.characteristic_uses:
        out["prodSpecCharValueUse"] = [
            {"name": u.name, "productSpecCharacteristicValue": [{"value": v} for v in u.values],
             "productSpecification": _ref(base, "productSpecification", o.product_specification or "")}
            for u in o.characteristic_uses]
    if o.terms:
        out["productOfferingTerm"] = [render_term(t) for t in o.terms]
    return out


def render_term(t: OfferingTerm) -> dict[str, Any]:
    """A term as TMF620 ``ProductOfferingTerm`` (with the ``atEnd`` and ``earlyTermination`` extensions)."""
    out: dict[str, Any] = {"name": t.name}
    if t.description:
        out["description"] = t.description
    out["duration"] = {"amount": t.duration.amount, "units": t.duration.units}
    period = _period(t.valid_for)
    if period:
        out["validFor"] = period
    out["atEnd"] = t.at_end
    if t.early_termination:
        out["earlyTermination"] = t.early_termination.model_dump(by_alias=True, exclude_none=True)
    return out


def _render_spec(s: ProductSpecification, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {"isBundle": False}
    if s.brand:
        out["brand"] = s.brand
    if s.product_number:
        out["productNumber"] = s.product_number
    if s.characteristics:
        out["productSpecCharacteristic"] = [_characteristic(c) for c in s.characteristics]
    if s.resource_specifications:
        out["resourceSpecification"] = [_ref(base, "resourceSpecification", r) for r in s.resource_specifications]
    return out


def _render_price(p: ProductOfferingPrice, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {"isBundle": False, "priceType": p.price_type,
                           "price": {"unit": p.currency, "value": p.amount}}
    if p.recurring_period:
        out["recurringChargePeriodType"] = p.recurring_period
        out["recurringChargePeriodLength"] = p.period_length
    if p.unit:
        out["unitOfMeasure"] = {"amount": p.unit_quantity, "units": p.unit}
    if p.usage_type:
        out["usageType"] = p.usage_type
    if p.allowances:  # an extension: TMF620 has no included units
        out["allowance"] = [a.model_dump(by_alias=True, exclude_none=True) for a in p.allowances]
    return out


def _render_category(c: Category, base: str) -> dict[str, Any]:
    return {"isRoot": c.is_root, **({"parentId": c.parent} if c.parent else {})}


def _render_catalog(c: ProductCatalog, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {"catalogType": c.catalog_type}
    if c.categories:
        out["category"] = [_ref(base, "category", i) for i in c.categories]
    if c.related_parties:
        out["relatedParty"] = [{"id": p.id, **({"name": p.name} if p.name else {}), "role": p.role,
                                "@referredType": p.referred_type} for p in c.related_parties]
    return out


def _render_resource(r: ResourceSpecification, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {"isBundle": r.is_compound}
    if r.part_number:
        out["partNumber"] = r.part_number
    if r.characteristics:
        out["resourceSpecCharacteristic"] = [_characteristic(c) for c in r.characteristics]
    if r.children:
        out["resourceSpecRelationship"] = [{"id": c, "relationshipType": "contains"} for c in r.children]
    return out


_RENDER: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "productOffering": _render_offering, "productSpecification": _render_spec,
    "productOfferingPrice": _render_price, "category": _render_category, "catalog": _render_catalog,
    "resourceSpecification": _render_resource,
}

# ---------------------------------------------------------------------------------------
# TMF body -> model


class _Reader:
    """Reads one TMF body, remembering which keys were consumed so leftovers are refused."""

    def __init__(self, body: dict[str, Any], path: tuple[str | int, ...] = ()):
        if not isinstance(body, dict):
            raise InvalidInput(f"expected an object at {'.'.join(map(str, path)) or 'the top level'}", path=path)
        self.body, self.path = body, path
        self.used: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.body.get(key, default)

    def items(self, key: str) -> list["_Reader"]:
        value = self.get(key) or []
        if not isinstance(value, list):
            raise InvalidInput(f"'{key}' must be an array", path=self.path + (key,))
        return [_Reader(v, self.path + (key, i)) for i, v in enumerate(value)]

    def ref_id(self, key: str) -> object:
        """The ``id`` of the reference at ``key`` as given (the model checks it), None without one."""
        value = self.get(key)
        if value is None:
            return None
        return _ref_in(_Reader(value, self.path + (key,)))

    def done(self, extra: AbstractSet[str] = frozenset()) -> None:
        unknown = sorted(set(self.body) - self.used - set(extra))
        if unknown:
            supported = sorted(self.used | set(extra))
            raise InvalidInput(
                f"unsupported field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
                f"{' at ' + '.'.join(map(str, self.path)) if self.path else ''}; supported: {', '.join(supported)}",
                path=self.path + (unknown[0],), suggestion=did_you_mean(unknown[0], supported))


def _period_in(reader: _Reader, key: str = "validFor") -> dict[str, Any]:
    value = reader.get(key)
    if value is None:
        return {}
    period = _Reader(value, reader.path + (key,))
    out = {"start": period.get("startDateTime"), "end": period.get("endDateTime")}
    period.done()
    return {"validFor": {k: v for k, v in out.items() if v is not None}}


def _characteristic_in(r: _Reader) -> dict[str, Any]:
    out: dict[str, Any] = {k: r.get(t) for k, t in (
        ("name", "name"), ("description", "description"), ("valueType", "valueType"),
        ("configurable", "configurable"), ("minCardinality", "minCardinality"),
        ("maxCardinality", "maxCardinality"))}
    values, default = [], r.get("defaultValue")
    units = {r.get("unitOfMeasure")} - {None}
    for entry in r.items("productSpecCharacteristicValue"):
        entry.get("valueType")
        if entry.get("rangeInterval") not in (None, "closed"):
            raise InvalidInput("only closed ranges (rangeInterval 'closed': both ends included) are supported",
                               path=entry.path + ("rangeInterval",))
        units |= {entry.get("unitOfMeasure")} - {None}
        if len(units) > 1:
            raise InvalidInput(f"one characteristic has one unit; got {', '.join(sorted(units))}",
                               path=entry.path + ("unitOfMeasure",))
        if entry.get("valueFrom") is not None or entry.get("valueTo") is not None:
            out["range"] = {"min": entry.get("valueFrom"), "max": entry.get("valueTo")}
        else:
            values.append(entry.get("value"))
            if entry.get("isDefault"):
                default = entry.get("value")
        entry.done()
    r.done()
    out.update(values=values, unit=next(iter(units), None), default=default)
    return {k: v for k, v in out.items() if v is not None and v != []}


def _offering_in(r: _Reader) -> dict[str, Any]:
    out: dict[str, Any] = {"productSpecification": r.ref_id("productSpecification"),
                           "sellable": r.get("isSellable"), "partnerEligible": r.get("partnerEligible")}
    r.get("isBundle")  # derived from bundledProductOffering
    bundle = []
    for b in r.items("bundledProductOffering"):
        b.get("href"), b.get("name"), b.get("lifecycleStatus")
        option_value = b.get("bundledProductOfferingOption") or {}
        option = _Reader(option_value, b.path + ("bundledProductOfferingOption",))
        bundle.append({"offering": b.get("id"), "min": option.get("numberRelOfferLowerLimit"),
                       "max": option.get("numberRelOfferUpperLimit"), "default": option.get("numberRelOfferDefault"),
                       "charged": b.get("charged")})
        option.done()
        b.done(extra={"@type", "@baseType", "@schemaLocation", "@referredType"})
    out["bundle"] = [{k: v for k, v in item.items() if v is not None} for item in bundle]
    out["categories"] = [_ref_in(c) for c in r.items("category")]
    out["channels"] = [_ref_in(c) for c in r.items("channel")]
    out["prices"] = [_ref_in(c) for c in r.items("productOfferingPrice")]
    relationships = []
    for rel in r.items("productOfferingRelationship"):
        item = {"type": rel.get("relationshipType"), **_period_in(rel)}
        item["offering"] = _ref_in(rel, keep_open=True)
        rel.get("role")
        rel.done(extra={"@type", "@baseType", "@schemaLocation", "@referredType"})
        relationships.append(item)
    out["relationships"] = relationships
    uses = []
    for use in r.items("prodSpecCharValueUse"):
        use.ref_id("productSpecification")
        use.get("valueType"), use.get("description"), use.get("minCardinality"), use.get("maxCardinality")
        values = []
        for v in use.items("productSpecCharacteristicValue"):
            values.append(v.get("value"))
            v.get("valueType"), v.get("isDefault"), v.get("unitOfMeasure")
            v.done()
        uses.append({"name": use.get("name"), "values": values})
        use.done()
    out["characteristicUses"] = uses
    terms = []
    for term in r.items("productOfferingTerm"):
        read: dict[str, Any] = {"name": term.get("name"), "description": term.get("description"),
                                "atEnd": term.get("atEnd"), **_period_in(term)}
        if term.get("duration") is not None:
            duration = _Reader(term.get("duration"), term.path + ("duration",))
            units = duration.get("units")
            # "months" as well as "month": TMF620 leaves the unit's spelling open
            read["duration"] = {"amount": duration.get("amount"),
                                "units": units[:-1] if isinstance(units, str) and units.endswith("s") else units}
            duration.done()
        early = term.get("earlyTermination")
        if early is not None:
            charge = _Reader(early, term.path + ("earlyTermination",))
            read["earlyTermination"] = {k: _number(charge.get(k)) for k in ("charge", "amount", "currency", "share")}
            read["earlyTermination"] = {k: v for k, v in read["earlyTermination"].items() if v is not None}
            charge.done()
        term.done(extra={"@type", "@baseType", "@schemaLocation"})
        terms.append({k: v for k, v in read.items() if v is not None})
    out["terms"] = terms
    return out


def _ref_in(r: _Reader, keep_open: bool = False) -> object:
    r.get("href"), r.get("name"), r.get("version"), r.get("@referredType")
    ref_id = r.get("id")
    if not keep_open:
        r.done(extra={"@type", "@baseType", "@schemaLocation"})
    return ref_id


def _spec_in(r: _Reader) -> dict[str, Any]:
    r.get("isBundle")
    chars = []
    for c in r.items("productSpecCharacteristic"):
        chars.append(_characteristic_in(c))
    return {"brand": r.get("brand"), "productNumber": r.get("productNumber"), "characteristics": chars,
            "resourceSpecifications": [_ref_in(x) for x in r.items("resourceSpecification")]}


def _number(value: Any) -> Any:
    return Decimal(repr(value)) if isinstance(value, float) else value


def _price_in(r: _Reader) -> dict[str, Any]:
    r.get("isBundle")
    out: dict[str, Any] = {"priceType": r.get("priceType"),
                           "recurringPeriod": r.get("recurringChargePeriodType"),
                           "periodLength": r.get("recurringChargePeriodLength")}
    price = r.get("price")
    if price is not None:
        money = _Reader(price, ("price",))
        out["amount"], out["currency"] = _number(money.get("value")), money.get("unit")
        money.done()
    uom = r.get("unitOfMeasure")
    if uom is not None:
        quantity = _Reader(uom, ("unitOfMeasure",))
        out["unit"], out["unitQuantity"] = quantity.get("units"), _number(quantity.get("amount"))
        quantity.done()
    usage_type, allowances = r.get("usageType"), r.get("allowance")
    if usage_type is not None:
        out["usageType"] = usage_type
    if allowances is not None:
        out["allowances"] = allowances
    return out


def _category_in(r: _Reader) -> dict[str, Any]:
    for derived in ("productOffering", "subCategory"):
        if r.body.get(derived):
            raise InvalidInput(f"'{derived}' of a category is derived: set membership with the offering's "
                               "'category' (or the child category's 'parentId')", path=(derived,))
        r.get(derived)
    parent, is_root = r.get("parentId"), r.get("isRoot")
    if is_root is not None and bool(is_root) != (parent is None):
        raise InvalidInput("isRoot contradicts parentId: a category is a root exactly when it has no parent",
                           path=("isRoot",))
    return {"parent": parent}


def _catalog_in(r: _Reader) -> dict[str, Any]:
    parties = []
    for p in r.items("relatedParty"):
        parties.append({"id": p.get("id"), "name": p.get("name"), "role": p.get("role"),
                        "referredType": p.get("@referredType")})
        p.get("href")
        p.done(extra={"@type", "@baseType", "@schemaLocation"})
    return {"catalogType": r.get("catalogType"), "categories": [_ref_in(c) for c in r.items("category")],
            "relatedParties": [{k: v for k, v in p.items() if v is not None} for p in parties]}


_READ: dict[str, Callable[[_Reader], dict[str, Any]]] = {
    "productOffering": _offering_in, "productSpecification": _spec_in, "productOfferingPrice": _price_in,
    "category": _category_in, "catalog": _catalog_in,
}


# Model field -> TMF attribute, so that API messages speak the API's vocabulary.
_TMF_NAMES = {
    "categories": "category", "channels": "channel", "prices": "productOfferingPrice",
    "bundle": "bundledProductOffering", "relationships": "productOfferingRelationship",
    "characteristicUses": "prodSpecCharValueUse", "sellable": "isSellable",
    "characteristics": "productSpecCharacteristic", "resourceSpecifications": "resourceSpecification",
    "parent": "parentId", "relatedParties": "relatedParty", "terms": "productOfferingTerm",
    "amount": "price.value", "currency": "price.unit", "recurringPeriod": "recurringChargePeriodType",
    "periodLength": "recurringChargePeriodLength", "unit": "unitOfMeasure.units",
    "unitQuantity": "unitOfMeasure.amount", "start": "startDateTime", "end": "endDateTime",
    "allowances": "allowance",
}
# Inside these lists, names mean something else.
_SCOPED = {
    "bundle": {"offering": "id", "min": "bundledProductOfferingOption.numberRelOfferLowerLimit",
               "max": "bundledProductOfferingOption.numberRelOfferUpperLimit",
               "default": "bundledProductOfferingOption.numberRelOfferDefault", "charged": "charged"},
    "relationships": {"offering": "id", "type": "relationshipType"},
    "characteristics": {"default": "defaultValue", "values": "productSpecCharacteristicValue",
                        "range": "productSpecCharacteristicValue", "unit": "unitOfMeasure"},
    "characteristicUses": {"values": "productSpecCharacteristicValue"},
    "relatedParties": {"referredType": "@referredType"},
    "terms": {"amount": "amount", "currency": "currency", "unit": "unit", "start": "startDateTime",
              "end": "endDateTime"},
}


def tmf_path(path: tuple[str | int, ...] | list[str | int]) -> str:
    """A model path (``categories.0``) in TMF terms (``category[0]``)."""
    text, scope = "", None
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        names = _SCOPED.get(scope or "", _TMF_NAMES) if scope else _TMF_NAMES
        text += ("." if text else "") + names.get(part, part)
        scope = part if part in _SCOPED else scope
    return text


def from_tmf(kind: str, body: dict[str, Any]) -> Entity:
    """Read a TMF620 body into the model; raise :class:`InvalidInput` for what does not fit."""
    if kind not in _READ:
        raise InvalidInput(f"{TMF_TYPES.get(kind, kind)} cannot be written through this API")
    reader = _Reader(body)
    declared_type = body.get("@type") if isinstance(body, dict) else None
    if declared_type not in (None, TMF_TYPES[kind]):
        raise InvalidInput(f"@type '{declared_type}' does not match this resource ({TMF_TYPES[kind]})",
                           path=("@type",))
    data: dict[str, Any] = {"id": reader.get("id"), "name": reader.get("name"),
                            "description": reader.get("description"),
                            "lifecycleStatus": reader.get("lifecycleStatus"), **_period_in(reader)}
    data.update(_READ[kind](reader))
    reader.done(extra=SERVER_MANAGED)
    data = {k: v for k, v in data.items() if v is not None and v != []}
    try:
        return KINDS[kind].model_validate(data)
    except ValidationError as exc:
        problems = [f"{tmf_path(e['loc']) or '(body)'}: {e['msg'].removeprefix('Value error, ')}"
                    for e in exc.errors(include_url=False)]
        first = exc.errors(include_url=False)[0]
        raise InvalidInput("invalid " + TMF_TYPES[kind] + ": " + "; ".join(problems),
                           path=tuple(first["loc"]), details=problems) from None
