"""Allowance buckets in the store: the bucket of a product's included units for a month,
made when the month's first usage of the product is rated (:mod:`bssrules.services.usage`)
from what :mod:`bssrules.pricing.allowances` decides, and read back for bills.

An allowance bucket is a TMF654 bucket like any other (listed, shown by
queryUsageConsumption, used by rating by its precedence); its document says where it came
from in the extension ``allowance``: the offering, the price and the allowance of the
catalog, the month, what the month included and what it carried over from the previous one.
Its id is fixed by (product, price, allowance, month) (:func:`bssrules.pricing.allowances.bucket_id`):
made twice it is found made, and the store inserts it only where it is absent.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.model import Allowance, ProductOfferingPrice
from bssrules.catalog.types import format_instant, parse_instant
from bssrules.pricing.allowances import Grant, allowances_of, bucket_id, grant, month_of
from bssrules.pricing.billing import AllowanceUse, BillingPeriod, RecurringFee
from bssrules.quantities import quantity
from bssrules.services.ports import UnitOfWork
from bssrules.services.records import StoredBucket, StoredResource
from bssrules.services.resources import values_at


def product_start(product: StoredResource) -> dt.datetime:
    """When a product started, as bills take it: its ``startDate``, else when it was made."""
    value = product.document.get("startDate")
    try:
        parsed = parse_instant(value) if value else None
    except (ValueError, TypeError):
        parsed = None
    return parsed if isinstance(parsed, dt.datetime) else product.created


def offering_of(product: StoredResource) -> str | None:
    found = values_at(product.document, "productOffering.id")
    return found[0] if found and isinstance(found[0], str) else None


def stored_bucket(made: Grant, partner_id: str | None, now: dt.datetime) -> StoredBucket:
    """The bucket row of a grant, with its TMF654 document."""
    single = made.usage_types[0] if len(made.usage_types) == 1 else None
    document: dict[str, Any] = {
        "name": made.name, "status": "active", "precedence": made.precedence,
        "remainingValue": {"units": made.unit}, "initialValue": {"amount": made.amount, "units": made.unit},
        "validFor": {"startDateTime": format_instant(made.valid_from), "endDateTime": format_instant(made.valid_to)},
        "product": [{"id": made.subscriber, "@referredType": "Product"}],
        "allowance": {"productOfferingPrice": {"id": made.price, "@referredType": "ProductOfferingPrice"},
                      **({"productOffering": {"id": made.offering, "@referredType": "ProductOffering"}}
                         if made.offering else {}),
                      "id": made.allowance, "period": made.period,
                      "included": {"amount": made.included, "units": made.unit},
                      "carriedOver": {"amount": made.carried, "units": made.unit}},
    }
    if single is not None:
        document["usageType"] = single
    else:  # TMF654 names one usage type; several are listed in the extension
        document["usageTypes"] = list(made.usage_types)
    return StoredBucket(made.bucket_id, made.subscriber, made.unit, made.amount, Decimal(0), made.precedence, single,
                        made.valid_from, made.valid_to, "active", 1, now, now, partner_id, document)


def usage_types_of(stored: StoredBucket) -> tuple[str, ...] | None:
    """The usage types of an allowance bucket serving several (None: the column says it)."""
    listed = stored.document.get("usageTypes")
    if isinstance(listed, list) and listed and all(isinstance(t, str) for t in listed):
        return tuple(listed)
    return None


def missing_buckets(catalog: Catalog, wanted: Iterable[tuple[StoredResource, dt.datetime]],
                    present: Mapping[str, StoredBucket], now: dt.datetime) -> list[StoredBucket]:
    """The allowance buckets the products lack for the months of the instants given (each
    product with an instant it is rated at), rollover read from ``present`` (the buckets read,
    by id). A product whose buckets for the month are there costs a few dictionary lookups."""
    made: dict[str, StoredBucket] = {}
    done: set[tuple[str, str]] = set()

    def remaining_of(bucket_id: str) -> Decimal | None:
        found = present.get(bucket_id) or made.get(bucket_id)
        return None if found is None else found.remaining

    offerings: dict[str, list[tuple[ProductOfferingPrice, Allowance]]] = {}
    for product, at in wanted:
        offering = product.document.get("productOffering")
        offering = offering.get("id") if isinstance(offering, dict) else None
        if not isinstance(offering, str):
            continue
        if offering not in offerings:
            offerings[offering] = allowances_of(catalog, offering)
        pairs = offerings[offering]
        if not pairs:  # most products: an offering without allowances, nothing more to do
            continue
        key = (product.id, month_of(at))
        if key in done:
            continue
        done.add(key)
        for price, allowance in pairs:
            if bucket_id(product.id, price.id, allowance.id, key[1]) in present:
                continue  # the common case: made by an earlier usage of the month
            made_now = grant(product.id, offering, price, allowance, product_start(product), key[1], remaining_of)
            if made_now is not None and made_now.bucket_id not in made:
                made[made_now.bucket_id] = stored_bucket(made_now, product.partner_id, now)
    return list(made.values())


def stored_catalog_prices(uow: UnitOfWork) -> Catalog:
    """The offerings and prices of the stored catalog: what allowances are decided from."""
    catalog = Catalog()
    for kind in ("productOffering", "productOfferingPrice"):
        for stored in uow.catalog.all(kind):
            catalog.add(stored.entity)
    return catalog


def month_uses(uow: UnitOfWork, catalog: Catalog, fees: Sequence[RecurringFee], period: BillingPeriod,
               now: dt.datetime) -> list[AllowanceUse]:
    """The allowance buckets of the products of ``fees`` (an account's) for a billed month,
    as bill items see them; a bucket a product lacks (no usage in the month) is made now, as
    its first usage would have made it, so that the next month carries on from it."""
    paid = {(fee.product, fee.price) for fee in fees}
    # the products active in the month (a fee's dates are its product's, as bills read them)
    active = {fee.product for fee in fees if fee.product_start < period.end
              and (fee.product_end is None or fee.product_end > period.start)}
    uses: list[AllowanceUse] = []
    for product_id in sorted(active):
        product = uow.resources.get("product", product_id)
        if product is None or not allowances_of(catalog, offering_of(product)):
            continue
        start = product_start(product)
        if start >= period.end:
            continue
        stored, _ = uow.usages.buckets({"product.id": [product_id]}, 0, 10_000)
        present = {b.id: b for b in stored}
        made = missing_buckets(catalog, [(product, max(start, period.start))], present, now)
        for bucket in made:
            uow.usages.add_bucket(bucket)
        for bucket in [*stored, *made]:
            source = bucket.document.get("allowance")
            if not isinstance(source, dict) or source.get("period") != period.label:
                continue
            price_id = values_at(source, "productOfferingPrice.id")
            price = catalog.prices.get(price_id[0]) if price_id else None
            if price is None or (product_id, price.id) not in paid:
                continue  # shown on the bill of the account that pays its price
            initial = Decimal(str((bucket.document.get("initialValue") or {}).get("amount", bucket.remaining)))
            included = Decimal(str(values_at(source, "included.amount")[0])) if values_at(source, "included.amount") \
                else initial
            uses.append(AllowanceUse(product_id, price.id, str(bucket.document.get("name") or price.name),
                                     price.currency, bucket.unit, usage_types_of(bucket) or
                                     ((bucket.usage_type,) if bucket.usage_type else ()), quantity(included),
                                     quantity(initial - included), quantity(initial - bucket.remaining),
                                     (bucket.valid_from or period.start, bucket.valid_to or period.end)))
    return uses
