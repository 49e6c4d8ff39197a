"""Prepaid and allowance buckets (TMF654) and what a product has left and used (TMF677).

A bucket is a row of the hot table ``bucket`` (its balance an exact scaled integer, what
rating reads in columns) with the rest of its TMF document beside it; online rating moves
its balance (:mod:`bssrules.services.usage`), these use cases create, show and delete it.
"""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from bssrules.catalog.model import ProductOfferingPrice
from bssrules.catalog.types import format_instant, parse_instant
from bssrules.dates import rfc3339, shown as quoted, zoned_date_time_problem
from bssrules.errors import Conflict, InvalidInput, NotFound, did_you_mean
from bssrules.money import ISO_4217, minor_unit_exponent, quantum
from bssrules.pricing.allowances import PREFIX as ALLOWANCE_PREFIX
from bssrules.pricing.units import MEASURED_UNITS
from bssrules.quantities import VOLUME_DECIMALS, decimals_of, measure, money
from bssrules.services.ports import UnitOfWork
from bssrules.services.records import MAX_ID, StoredBucket, StoredResource, href, scaled
from bssrules.services.resources import values_at

BUCKET_API = "/tmf-api/prepayBalanceManagement/v4"
BUCKET_FIELDS = ("name", "description", "usageType", "remainingValue", "remainingValueName", "validFor", "product",
                 "partyAccount", "relatedParty", "status", "isShared", "precedence", "floor")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _measured(value: Any, unit: Any) -> Any:
    """``{amount, units}`` with its amount in the written form of :mod:`bssrules.quantities`."""
    if not isinstance(value, dict) or "amount" not in value:
        return value
    return {**value, "amount": measure(value["amount"], value.get("units", unit))}


def render_bucket(stored: StoredBucket) -> dict[str, Any]:
    """A bucket as TMF654 shows it: every amount in units written as its exact value without
    trailing zeros (``0.2``, ``100``), every amount of money at its currency's scale (``12.50``)."""
    document = stored.document
    unit = stored.unit
    shown = {**document, "remainingValue": {**(document.get("remainingValue") or {}),
                                            "amount": measure(stored.remaining, unit)},
             "status": stored.status, "id": stored.id, "href": href(f"{BUCKET_API}/bucket", stored.id),
             "@type": "Bucket"}
    if "initialValue" in document:
        shown["initialValue"] = _measured(document["initialValue"], unit)
    if isinstance(document.get("floor"), (int, Decimal)) and not isinstance(document.get("floor"), bool):
        shown["floor"] = money(document["floor"], unit)
    allowance = document.get("allowance")
    if isinstance(allowance, dict) and ("included" in allowance or "carriedOver" in allowance):
        shown["allowance"] = {**allowance, **{k: _measured(allowance[k], unit) for k in ("included", "carriedOver")
                                              if k in allowance}}
    return shown


def _instant(valid: Any, name: str) -> dt.datetime | None:
    """``validFor.<name>`` as an instant: a date-time spelt as every date of a body is
    (:mod:`bssrules.dates`: the same spellings, offsets of -23:59 to +23:59, the same words)
    that names its zone, else a 400 naming the field — one without (12:00 of which zone?) or a
    plain date was read as UTC, and a bucket meant to end at local midnight served hours too
    long or too short. (The bucket kept a rule of its own: ' 2026-06-01T00:00:00Z', +0200 and
    +02:60 passed, and a zoned date-time with a space for its T was refused as none.)"""
    value = valid.get(name)
    if value is None:
        return None
    problem = zoned_date_time_problem(value)
    if problem is not None:
        raise InvalidInput(f"validFor.{name}: {quoted(value)} {problem}", path=("validFor", name))
    instant = parse_instant(value)
    assert isinstance(instant, dt.datetime)  # (a zoned date-time: zoned_date_time_problem said so)
    return instant


def _rated_units(uow: UnitOfWork) -> set[str]:
    """The units usage is rated per: of the catalog's usage prices and of the usage rule sets'
    rates (a rule's, a threshold's; ``event`` when a rate names none and no catalog price)."""
    prices = [stored.entity for stored in uow.catalog.all("productOfferingPrice")]
    units = {price.unit for price in prices
             if isinstance(price, ProductOfferingPrice) and price.price_type == "usage" and price.unit}

    def rates(node: Any) -> None:
        if isinstance(node, dict):
            rate = node.get("rate")
            if isinstance(rate, dict) and (rate.get("per") or "price" not in rate):  # else: the price's unit
                units.add(str(rate.get("per") or "event"))
            for value in node.values():
                rates(value)
        elif isinstance(node, list):
            for value in node:
                rates(value)

    for rule_set in uow.rule_sets.all():
        if rule_set.kind == "usage":
            rates(rule_set.document)
    return units


def _check_units(uow: UnitOfWork, units: str) -> None:
    """A bucket's units are a currency or a unit usage may be counted in (data, time, or one a
    rate is charged per), written as rating matches them, case and all: a bucket in ``gb``
    would never serve a usage in GB, and one in ``EURO`` never pay a charge."""
    if units in ISO_4217 or units in MEASURED_UNITS:
        return
    rated = _rated_units(uow)
    if units in rated:
        return
    others = ", ".join(sorted(rated - MEASURED_UNITS)) or "none"
    raise InvalidInput(f"units {units!r} is no unit a bucket can serve: a unit of data (B, kB, MB, GB, TB) or time "
                       f"(s, min, h), one a usage rate is charged per ({others}), or a currency code (EUR …)",
                       path=("remainingValue", "units"),
                       suggestion=did_you_mean(units, MEASURED_UNITS | rated | ISO_4217))


def _check_amounts(units: str, amount: Decimal, floor: Decimal | None) -> None:
    """Money no finer than its currency's minor unit (a balance of 5.001 EUR could never be paid
    out to the cent), and a balance no lower than the floor it may go down to."""
    if units in ISO_4217:
        for name, value in (("remainingValue.amount", amount), ("floor", floor)):
            if value is not None and value != value.quantize(quantum(units)):
                raise InvalidInput(f"{name} {value} {units} is finer than the minor unit of {units} "
                                   f"({minor_unit_exponent(units)} decimals)", path=tuple(name.split(".")))
    if floor is not None and amount < floor:
        raise InvalidInput(f"remainingValue.amount {amount} {units} is below " + (
            f"the bucket's floor ({floor}), the lowest its balance may go: give a lower floor (null: no limit) for a "
            "balance owed" if units in ISO_4217 else "0: a unit bucket holds the units it may still give"),
            path=("remainingValue", "amount"))


BUCKET_STATES = ("active", "expired", "suspended")  # TMF654 Bucket.status (only an active one serves)


def _check_serving(stored: StoredBucket, document: dict[str, Any]) -> None:
    """What a bucket must be to ever serve as its fields say: a state of TMF654, a usage type
    that names a service (or ``any``), a validity that ends after it starts, and units no
    finer than a usage volume's (a unit bucket of 1E-30 MB "gave" what no rated volume loses)."""
    if stored.status not in BUCKET_STATES:
        raise InvalidInput(f"status {stored.status!r} is not a state of a bucket: one of {', '.join(BUCKET_STATES)}",
                           path=("status",), suggestion=did_you_mean(stored.status, BUCKET_STATES))
    usage_type = document.get("usageType")
    if usage_type is not None and (not isinstance(usage_type, str) or not usage_type.strip()):
        raise InvalidInput("usageType names the service the bucket serves (a usage's usageType), or 'any'",
                           path=("usageType",))
    if stored.valid_from is not None and stored.valid_to is not None and stored.valid_to <= stored.valid_from:
        raise InvalidInput(f"validFor ends ({format_instant(stored.valid_to)}) before it starts "
                           f"({format_instant(stored.valid_from)}): such a bucket never serves a usage",
                           path=("validFor", "endDateTime"))
    if stored.unit not in ISO_4217:
        for name, value in (("remainingValue.amount", stored.remaining), ("floor", stored.floor)):
            if value is not None and decimals_of(value) > VOLUME_DECIMALS:
                raise InvalidInput(f"{name} {value} {stored.unit} has more than {VOLUME_DECIMALS} decimals, the finest "
                                   "step of a usage's volume", path=tuple(name.split(".")))


def create_bucket(uow: UnitOfWork, body: dict[str, Any]) -> dict[str, Any]:
    """A balance of units or money for a product: ``remainingValue`` {amount, units: GB, message
    … or a currency}, ``usageType`` (a service, or ``any``), and the extensions ``precedence``
    (lowest used first) and ``floor`` (how low a money balance may go; null: no limit)."""
    unknown = sorted(set(body) - set(BUCKET_FIELDS) - {"id", "@type", "href"})
    if unknown:
        raise InvalidInput(f"unsupported field {unknown[0]!r} for Bucket", path=(unknown[0],))
    bucket_id = body.get("id") or str(uuid.uuid4())
    if not isinstance(bucket_id, str):
        raise InvalidInput("id must be a string", path=("id",))
    if len(bucket_id) > MAX_ID:
        raise InvalidInput(f"id has at most {MAX_ID} characters; this one has {len(bucket_id)}", path=("id",))
    if bucket_id.startswith(ALLOWANCE_PREFIX):
        raise InvalidInput(f"ids beginning with '{ALLOWANCE_PREFIX}' are the allowance buckets' the catalog gives; "
                           "choose another or leave it out", path=("id",))
    if uow.usages.bucket(bucket_id) is not None:
        raise Conflict(f"a Bucket with id '{bucket_id}' already exists")
    if uow.usages.bucket_taken(bucket_id):  # said without telling whose it is
        raise Conflict(f"the id '{bucket_id}' is not available; choose another or leave it out")
    products = values_at(body, "product.id")
    if len(products) != 1:
        raise InvalidInput("a bucket belongs to exactly one product: give product [{id}]", path=("product",))
    product = uow.resources.get("product", products[0])
    if product is None:
        raise NotFound("Product", products[0])
    remaining = body.get("remainingValue")
    if not isinstance(remaining, dict) or not isinstance(remaining.get("units"), str) \
            or not isinstance(remaining.get("amount"), (int, float, Decimal)) or isinstance(remaining.get("amount"), bool):
        raise InvalidInput("remainingValue needs amount (a number) and units (GB, message … or a currency code)",
                           path=("remainingValue",))
    for name in ("precedence",):
        if name in body and (not isinstance(body[name], int) or isinstance(body[name], bool)):
            raise InvalidInput(f"{name} must be an integer", path=(name,))
    if "floor" in body and body["floor"] is not None and (
            not isinstance(body["floor"], (int, float, Decimal)) or isinstance(body["floor"], bool)):
        raise InvalidInput("floor must be a number or null (no limit)", path=("floor",))
    if "floor" in body and remaining["units"] not in ISO_4217:
        raise InvalidInput("only a money bucket (units a currency code) has a floor", path=("floor",))
    document = {k: v for k, v in body.items() if k in BUCKET_FIELDS}
    document.setdefault("status", "active")
    document["initialValue"] = dict(remaining)  # what bucketCounter "used" is counted from
    now = _now()
    try:
        valid = document.get("validFor") or {}
        starts, ends = _instant(valid, "startDateTime"), _instant(valid, "endDateTime")
        if starts is not None or ends is not None:  # answered as TMF654's date-time: 2026-06-01T10:00:00+02:00
            document["validFor"] = {k: rfc3339(v) if k in ("startDateTime", "endDateTime") and isinstance(v, str)
                                    else v for k, v in valid.items()}
        floor = document.get("floor", 0)
        usage_type = document.get("usageType")
        stored = StoredBucket(bucket_id, products[0], remaining["units"], Decimal(str(remaining["amount"])),
                              None if floor is None else Decimal(str(floor)), int(document.get("precedence", 100)),
                              None if usage_type in (None, "any") else str(usage_type),
                              starts, ends,
                              str(document["status"]), 1, now, now, product.partner_id,
                              {**document, "remainingValue": {k: v for k, v in remaining.items() if k != "amount"}})
        scaled(stored.remaining)
        if stored.floor is not None:
            scaled(stored.floor)
    except (ValueError, KeyError, TypeError, InvalidOperation, AttributeError) as exc:
        raise InvalidInput(f"malformed bucket: {exc}") from None
    for name, value, limit in (("units", stored.unit, 40), ("usageType", stored.usage_type, 128),
                               ("status", stored.status, 40)):
        if value is not None and len(value) > limit:
            raise InvalidInput(f"{name} has at most {limit} characters; this one has {len(value)}", path=(name,))
    _check_units(uow, stored.unit)
    _check_amounts(stored.unit, stored.remaining, stored.floor)
    _check_serving(stored, document)
    uow.usages.add_bucket(stored)
    uow.commit()
    return render_bucket(stored)


def get_bucket(uow: UnitOfWork, bucket_id: str) -> dict[str, Any]:
    stored = uow.usages.bucket(bucket_id)
    if stored is None:
        raise NotFound("Bucket", bucket_id)
    return render_bucket(stored)


def list_buckets(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int
                 ) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.usages.buckets(filters, offset, limit)
    return [render_bucket(s) for s in page], total


def delete_bucket(uow: UnitOfWork, bucket_id: str) -> None:
    stored = uow.usages.bucket(bucket_id, for_update=True)
    if stored is None:
        raise NotFound("Bucket", bucket_id)
    if bucket_id.startswith(ALLOWANCE_PREFIX):  # deleted, the month's next usage would give its units again
        raise Conflict(f"bucket '{bucket_id}' is an allowance the catalog gives for its month: it cannot be deleted")
    uow.usages.delete_bucket(stored.subscription, bucket_id)
    uow.commit()


def query_usage_consumption(uow: UnitOfWork, body: dict[str, Any]) -> dict[str, Any]:
    """TMF677: the buckets of a product (``searchCriteria.product`` or a ``productId``), with
    what is left and what was used, as of now."""
    criteria = body.get("searchCriteria") or {}
    products = values_at(criteria, "product.id") or values_at(body, "product.id")
    if not products:
        raise InvalidInput("name the product: searchCriteria.product [{id}]", path=("searchCriteria",))
    buckets, consumption = [], []
    for product_id in products:
        if uow.resources.get("product", product_id) is None:
            raise NotFound("Product", product_id)
        stored, _ = uow.usages.buckets({"product.id": [product_id]}, 0, 10_000)
        found = []
        for bucket in stored:
            shown = render_bucket(bucket)
            initial = (bucket.document.get("initialValue") or {}).get("amount")
            found.append({k: v for k, v in shown.items() if k not in ("precedence", "floor")}
                         | ({"bucketCounter": [{"counterType": "used", "value": {
                             "amount": measure(Decimal(str(initial)) - bucket.remaining, bucket.unit),
                             "units": shown["remainingValue"]["units"]}}]} if initial is not None else {}))
        buckets += found
        # the standard place (usageConsumption[].bucketRefOrValue), one report per product
        consumption.append({"product": [{"id": product_id, "@referredType": "Product"}], "bucketRefOrValue": found,
                            "@type": "UsageConsumption"})
    now = _now()
    query_id = body.get("id") or str(uuid.uuid4())
    if uow.resources.get(CONSUMPTION_KIND, query_id) is not None:
        raise Conflict(f"a QueryUsageConsumption with id '{query_id}' already exists")
    document = {**{k: v for k, v in body.items() if k not in ("id", "href", "@type")},
                "queryUsageConsumptionDate": format_instant(now), "searchCriteria": criteria,
                "usageConsumption": consumption, "bucket": buckets}
    query = StoredResource(CONSUMPTION_KIND, query_id, 1, now, now, document)
    uow.resources.insert(query)  # (TMF677: a query is a resource, read again at its href, deleted there)
    uow.commit()
    return render_consumption(query)


CONSUMPTION_KIND = "queryUsageConsumption"
CONSUMPTION_API = "/tmf-api/usageConsumption/v4"


def render_consumption(stored: StoredResource) -> dict[str, Any]:
    """A stored query as TMF677 shows it: what it answered when it was made."""
    return {**stored.document, "id": stored.id, "href": href(f"{CONSUMPTION_API}/{CONSUMPTION_KIND}", stored.id),
            "@type": "QueryUsageConsumption"}


def get_usage_consumption(uow: UnitOfWork, query_id: str) -> dict[str, Any]:
    stored = uow.resources.get(CONSUMPTION_KIND, query_id)
    if stored is None:
        raise NotFound("QueryUsageConsumption", query_id)
    return render_consumption(stored)


def list_usage_consumptions(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int
                            ) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page(CONSUMPTION_KIND, filters, offset, limit)
    return [render_consumption(s) for s in page], total


def delete_usage_consumption(uow: UnitOfWork, query_id: str) -> None:
    stored = uow.resources.get(CONSUMPTION_KIND, query_id, for_update=True)
    if stored is None:
        raise NotFound("QueryUsageConsumption", query_id)
    uow.resources.delete(CONSUMPTION_KIND, query_id)
    uow.commit()
