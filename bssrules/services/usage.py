"""Online rating (TMF635 usage), prepaid and allowance buckets (TMF654), and what has been
consumed and charged so far (TMF677 and the aggregated-usage extension).

A posted usage is stored at once as rated or rejected (never lost): its subscription (the
inventory product that used it) is locked for the transaction, so concurrent records of one
subscriber update its buckets and accumulators one after the other on PostgreSQL — no
update is lost — while different subscribers rate in parallel. Rating itself is the pure
function of :mod:`bssrules.pricing.rating`, given the subscription's state and handed the
new state back; this module only reads and writes that state.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from bssrules.services import notifications
from bssrules.catalog.types import format_instant, parse_instant
from bssrules.errors import Conflict, InvalidInput, NotFound
from bssrules.money import ISO_4217
from bssrules.pricing.rating import DEFAULT_PAYER, period_of, rate_records, usage_rule_sets
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.rules.loader import RuleBook
from bssrules.rules.model import SplitBillingRuleSet, UsageRuleSet
from bssrules.services.records import MAX_ID, ChargeRow, StoredResource, href
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork
from bssrules.services.runtime import Runtime

API = "/tmf-api/usageManagement/v4"
BUCKET_API = "/tmf-api/prepayBalanceManagement/v4"
EFFECTIVE = ("active", "pendingTerminate")
ANY_SERVICE = "any"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


# ------------------------------------------------------------------ usage records (TMF635)


def _characteristics(body: Mapping[str, Any]) -> dict[str, Any]:
    return {c["name"]: c.get("value") for c in body.get("usageCharacteristic") or []
            if isinstance(c, dict) and c.get("name")}


def subscriber_of(body: Mapping[str, Any]) -> str | None:
    """The subscription that used it: the ``productId`` characteristic, else the product of
    the first ``ratedProductUsage``."""
    found = _characteristics(body).get("productId")
    if isinstance(found, str) and found:
        return found
    refs = values_at(body, "ratedProductUsage.productRef.id")
    return refs[0] if refs and isinstance(refs[0], str) else None


_ZONED = re.compile(r"T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


def usage_instant(value: Any) -> dt.datetime | None:
    """The instant of a usage: a date-time that names its zone (a usage without one would be
    rated at the wrong time of day), else None."""
    if not isinstance(value, str) or not _ZONED.search(value):
        return None
    try:
        parsed = parse_instant(value)
    except (ValueError, TypeError):
        return None
    return parsed if isinstance(parsed, dt.datetime) and parsed.tzinfo is not None else None


def record_of(usage_id: str, body: Mapping[str, Any]) -> tuple[UsageRecord | None, str | None]:
    """The usage record a TMF635 body describes, or why it cannot be rated."""
    characteristics = _characteristics(body)
    subscriber = subscriber_of(body)
    if not subscriber:
        return None, "no subscription: give the usageCharacteristic productId (the inventory product id)"
    if len(subscriber) > 128:
        return None, f"productId has {len(subscriber)} characters; an inventory product id has at most 128"
    service = characteristics.get("service") or body.get("usageType")
    if not isinstance(service, str) or not service:
        return None, "no service: give usageType or the usageCharacteristic service"
    if len(service) > MAX_ID:
        return None, f"the service (usageType) has at most {MAX_ID} characters; this one has {len(service)}"
    start = usage_instant(body.get("usageDate"))
    if start is None:
        return None, f"usageDate {body.get('usageDate')!r} is not a date-time with a time zone (e.g. " \
                     "2026-06-01T03:00:00Z)"
    raw_volume = characteristics.get("volume", 1)
    try:
        volume = Decimal(repr(raw_volume)) if isinstance(raw_volume, float) else Decimal(str(raw_volume))
    except (InvalidOperation, ValueError):
        return None, f"volume {raw_volume!r} is not a number"
    if isinstance(raw_volume, bool) or not volume.is_finite() or volume < 0:
        return None, f"volume {raw_volume!r} must be a number of at least 0"
    roaming = characteristics.get("roaming")
    if roaming is not None and not isinstance(roaming, bool):
        return None, f"roaming {roaming!r} must be true or false"
    text = {k: characteristics.get(k) for k in ("unit", "country")}
    for name, value in text.items():
        if value is not None and not isinstance(value, str):
            return None, f"{name} {value!r} must be text"
    usage_type = body.get("usageType") if characteristics.get("service") else None
    return UsageRecord(usage_id, subscriber, service, start, volume, text["unit"], usage_type, roaming,
                       text["country"]), None


def inactive(product: StoredResource, at: dt.datetime) -> str | None:
    """Why a subscription could not have been used at ``at``, if it could not: it had not
    started, had ended (terminationDate), or is not in a state that carries traffic. A late
    record of a time the subscription was active still rates. A suspended subscription is
    left to the rule sets (their prerequisites say what an effective service is)."""
    doc = product.document
    status = doc.get("status")
    start, end = (usage_instant(doc.get(k)) or _date_instant(doc.get(k)) for k in ("startDate", "terminationDate"))
    if start is not None and at < start:
        return f"subscription {product.id} started at {format_instant(start)}, after this usage"
    if end is not None and at >= end:
        return f"subscription {product.id} ended at {format_instant(end)}, before this usage"
    if status in ("created", "pendingActive", "cancelled", "aborted") or \
            (status == "terminated" and end is None):
        return f"subscription {product.id} is {status}"
    return None


def _date_instant(value: Any) -> dt.datetime | None:
    try:
        parsed = parse_instant(value) if value else None
    except (ValueError, TypeError):
        return None
    # parse_instant makes a date-time of every text and date, and hands anything else back
    # unchanged: that is no instant either (the request schemas let only text in)
    return parsed if isinstance(parsed, dt.datetime) else None


def _subscriber(uow: UnitOfWork, runtime: Runtime, product: StoredResource, at: dt.datetime) -> Subscriber:
    """What rating needs of a subscription, in few queries (rating is on the hot path)."""
    classification, active = None, set()
    if product.party_id:
        party = uow.resources.get("individual", product.party_id) or \
            uow.resources.get("organization", product.party_id)
        if party is not None:
            found = [c.get("value") for c in party.document.get("partyCharacteristic") or []
                     if isinstance(c, dict) and c.get("name") == "classification"]
            classification = found[0] if found and isinstance(found[0], str) else None
        for owned in uow.resources.find("product", {"relatedParty.id": [product.party_id]}, 1000):
            if owned.document.get("status") in EFFECTIVE:
                active.update(values_at(owned.document, "productOffering.id"))
    payers: dict[str, str] = {}
    for related in product.document.get("relatedParty") or []:
        role, party_id = (related.get("role"), related.get("id")) if isinstance(related, dict) else (None, None)
        if role and party_id and role not in payers:
            accounts = uow.resources.find("billingAccount", {"relatedParty.id": [party_id]}, 1)
            if accounts:
                payers[role] = accounts[0].id
    account = values_at(product.document, "billingAccount.id")
    if account and DEFAULT_PAYER not in payers:
        payers[DEFAULT_PAYER] = account[0]
    offering = values_at(product.document, "productOffering.id")
    return Subscriber(product.id, product.party_id, classification, offering[0] if offering else None,
                      tuple(sorted(active)), payers, split_billing_for(runtime.rules, payers, at))


def split_billing_for(rules: RuleBook, payers: Mapping[str, str], at: dt.datetime) -> str | None:
    """The split billing rule set of a subscription: the first in force (by id) every payer
    role of which the subscription has an account for."""
    for rule_set_id in sorted(rules.versions):
        versions = [c for c in rules.versions[rule_set_id]
                    if c.kind == "splitBilling" and c.definition.valid_for.contains(at)]
        if not versions:
            continue
        definition = versions[-1].definition
        assert isinstance(definition, SplitBillingRuleSet)  # its kind is splitBilling
        roles = {role for rule in definition.rules for role, _ in rule.parts()}
        if definition.default:
            roles.add(definition.default)
        if roles and roles <= set(payers):
            return rule_set_id
    return None


def _bucket(stored: StoredResource) -> Bucket:
    doc = stored.document
    remaining = doc.get("remainingValue") or {}
    usage_type = doc.get("usageType")
    valid = doc.get("validFor") or {}
    floor = doc.get("floor", 0)
    return Bucket(stored.id, values_at(doc, "product.id")[0], str(remaining.get("units")),
                  Decimal(str(remaining.get("amount", 0))), int(doc.get("precedence", 100)),
                  () if usage_type in (None, ANY_SERVICE) else (usage_type,),
                  _bucket_instant(valid.get("startDateTime")), _bucket_instant(valid.get("endDateTime")),
                  None if floor is None else Decimal(str(floor)))


def _bucket_instant(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_instant(value)
    if not isinstance(parsed, dt.datetime):
        # parse_instant hands back what is neither text nor a date (the request schema lets
        # only text in); create_bucket answers this as a malformed bucket
        raise TypeError(f"{value!r} is not a date-time")
    return parsed


def _accumulator_id(key: AccumulatorKey) -> str:
    return f"{key.accumulator}|{key.subscriber}|{key.period}"


def _state(uow: UnitOfWork, runtime: Runtime, record: UsageRecord) -> RatingState:
    # only an active bucket serves usage (a suspended one keeps its balance untouched)
    buckets = {s.id: _bucket(s) for s in uow.resources.find("bucket", {"product.id": [record.subscriber]})
               if s.document.get("status", "active") == "active"}
    totals: dict[AccumulatorKey, AccumulatorTotal] = {}
    for compiled in usage_rule_sets(runtime.rules, record.start):
        assert isinstance(compiled.definition, UsageRuleSet)  # usage_rule_sets gives only usage rule sets
        for accumulator in compiled.definition.accumulators:
            key = AccumulatorKey(f"{compiled.id}/{accumulator.id}", record.subscriber,
                                 period_of(record.start, compiled, accumulator.period))
            found = uow.resources.get("accumulator", _accumulator_id(key))
            if found is not None:
                doc = found.document
                totals[key] = AccumulatorTotal(Decimal(str(doc["volume"])), Decimal(str(doc["amount"])),
                                               tuple(doc.get("reached") or ()))
    return RatingState(buckets, totals)


def _save_state(uow: UnitOfWork, before: RatingState, after: RatingState, now: dt.datetime, owner: str | None) -> None:
    for bucket_id, bucket in after.buckets.items():
        if before.buckets.get(bucket_id) == bucket:
            continue
        stored = uow.resources.get("bucket", bucket_id, for_update=True)
        if stored is None:  # read by _state in this transaction, deleted by another since
            raise Conflict(f"bucket '{bucket_id}' was deleted while this usage was rated; send the usage again")
        document = dict(stored.document, remainingValue={**(stored.document.get("remainingValue") or {}),
                                                         "amount": bucket.remaining})
        uow.resources.replace(stored.bumped(document, now))
    for key, total in after.accumulators.items():
        if before.accumulators.get(key) == total:
            continue
        document = {"accumulator": key.accumulator, "subscriber": key.subscriber, "period": key.period,
                    "volume": total.volume, "amount": total.amount, "reached": list(total.reached)}
        stored = uow.resources.get("accumulator", _accumulator_id(key), for_update=True)
        if stored is None:
            uow.resources.insert(StoredResource("accumulator", _accumulator_id(key), 1, now, now, document,
                                                party_id=key.subscriber, partner_id=owner))
        else:
            uow.resources.replace(stored.bumped(document, now))


def _money(amount: Decimal, currency: str | None) -> dict[str, Any]:
    return {"unit": currency, "value": amount}


def _rated_document(body: dict[str, Any], result: RatedUsage, now: dt.datetime) -> dict[str, Any]:
    document = {k: v for k, v in body.items() if k not in ("id", "href", "@type", "status", "ratedProductUsage")}
    document["status"] = result.status
    if result.status == "rejected":
        document["rejectionReason"] = [dict(r) for r in result.reasons]
        if result.rule_set:
            document["ratedBy"] = {"ruleSet": result.rule_set, "rule": result.rule}
        return document
    rated = []
    product_ref = {"id": result.record.subscriber, "@referredType": "Product"}
    base = {"ratingDate": format_instant(now), "usageRatingTag": result.rule, "offerTariffType": result.rule_set,
            "ratingAmountType": "total", "isBilled": False, "productRef": product_ref}
    if result.prepaid > 0 or not result.charges:
        rated.append({**base, "taxIncludedRatingAmount": _money(result.prepaid if result.prepaid else result.amount,
                                                                result.currency),
                      **({"bucketValueConvertedInAmount": _money(result.prepaid, result.currency)}
                         if result.prepaid else {})})
    for part in result.charges:
        rated.append({**base, "taxIncludedRatingAmount": _money(part.amount, result.currency),
                      "billingAccount": {"id": part.billing_account, "role": part.payer}})
    document["ratedProductUsage"] = rated
    document["ratedBy"] = {"ruleSet": result.rule_set, "rule": result.rule,
                           "ratedVolume": result.rated_volume, "amount": _money(result.amount, result.currency),
                           **({"provisioningId": result.provisioning_id} if result.provisioning_id else {}),
                           **({"bucket": [{"id": b, "taken": t} for b, t in result.buckets]} if result.buckets else {})}
    if result.events:
        document["event"] = [{"eventType": e.kind, "accumulator": e.accumulator, "threshold": e.threshold,
                              "action": e.action, "value": e.value, "period": e.period} for e in result.events]
    return document


def render_usage(stored: StoredResource, billed: set[str] | None = None) -> dict[str, Any]:
    """A usage as TMF635 shows it; ``billed``: the billing accounts whose bill took its
    charge (``isBilled`` follows the bill runs, which do not rewrite the usage)."""
    document = stored.document
    if billed:
        document = dict(document, ratedProductUsage=[
            dict(r, isBilled=True) if values_at(r, "billingAccount.id")[:1] and
            values_at(r, "billingAccount.id")[0] in billed else r
            for r in document.get("ratedProductUsage") or []])
    return {**document, "id": stored.id, "href": href(f"{API}/usage", stored.id), "@type": "Usage"}


def create_usages(uow: UnitOfWork, runtime: Runtime, bodies: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bool]]:
    """Store and rate several usages in one transaction, answered in the order given.

    They are rated in (subscription, usageDate) order, which is also the order the
    subscriptions are locked in: two batches never wait on each other in a cycle."""
    if len({b.get("id") for b in bodies if b.get("id")}) != len([b for b in bodies if b.get("id")]):
        raise InvalidInput("the same usage id appears twice in one request", path=("id",))
    never = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    order = sorted(range(len(bodies)), key=lambda i: (subscriber_of(bodies[i]) or "",
                                                      usage_instant(bodies[i].get("usageDate")) or never, i))
    answers: list[tuple[dict[str, Any], bool] | None] = [None] * len(bodies)
    for i in order:
        answers[i] = _create_one(uow, runtime, bodies[i])
    uow.commit()
    return [a for a in answers if a is not None]


def create_usage(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store and rate one usage; (usage, created). The same id posted again returns the
    stored usage unchanged (mediation may resend; nothing is rated twice)."""
    answer = _create_one(uow, runtime, body)
    uow.commit()
    return answer


def _create_one(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    usage_id = body.get("id") or str(uuid.uuid4())
    if not isinstance(usage_id, str) or not usage_id or len(usage_id) > 128:
        raise InvalidInput("id must be a non-empty string of at most 128 characters", path=("id",))
    if uow.resources.taken("usage", usage_id):  # (taken first: a get, then taken, races with a commit between)
        existing = uow.resources.get("usage", usage_id)
        if existing is None:  # another partner's usage: not this caller's to see
            raise Conflict(f"the usage id '{usage_id}' is not available; choose another or leave it out")
        return render_usage(existing, uow.charges.billed_accounts([usage_id]).get(usage_id)), False
    now = _now()
    owner = None  # a usage belongs to the partner whose customer's subscription used it
    charges: list[ChargeRow] = []
    record, problem = record_of(usage_id, body)
    if record is None:
        result = RatedUsage(UsageRecord(usage_id, subscriber_of(body) or "", "", now, Decimal(0)), "rejected",
                            ({"code": "malformed", "label": problem or "malformed"},))
    else:
        product = uow.resources.get("product", record.subscriber, for_update=True)  # serialises the subscriber
        not_active = inactive(product, record.start) if product is not None else None
        if product is None:
            result = RatedUsage(record, "rejected", ({"code": "unknownSubscriber",
                                                      "label": f"no product '{record.subscriber}' in the inventory"},))
        elif not_active:
            owner = product.partner_id
            result = RatedUsage(record, "rejected", ({"code": "subscriptionNotActive", "label": not_active},))
        else:
            owner = product.partner_id
            subscriber = _subscriber(uow, runtime, product, record.start)
            before = _state(uow, runtime, record)
            results, after = rate_records([record], {subscriber.id: subscriber}, runtime.rules, before)
            result = results[0]
            if result.status == "rated":
                _save_state(uow, before, after, now, owner)
                offering = subscriber.offering if subscriber.offering and len(subscriber.offering) <= MAX_ID else None
                charges = [ChargeRow(usage_id, i, record.subscriber, part.billing_account, part.payer, record.service,
                                     offering, record.start, part.amount, result.currency or "")
                           for i, part in enumerate(result.charges)]
    document = _rated_document(body, result, now)
    stored = StoredResource("usage", usage_id, 1, now, now, document, state=result.status,
                            party_id=result.record.subscriber if 0 < len(result.record.subscriber) <= 128 else None,
                            partner_id=owner)
    # Before the charges: the same id posted at the same time by another client stops here
    # (KeyTaken), and the whole rating is rolled back and answered as a resend.
    uow.resources.insert(stored)
    if charges:
        uow.charges.add(charges)
    for event in result.events:  # a threshold reached: budget control, blocking, rate change
        notifications.publish(uow, "TMF635", "UsageThresholdReachedEvent", "usageThreshold", {
            "accumulator": event.accumulator, "threshold": event.threshold, "action": event.action,
            "product": {"id": event.subscriber}, "period": event.period, "value": event.value,
            "usage": {"id": usage_id}}, owner)
    return render_usage(stored), True


def get_usage(uow: UnitOfWork, usage_id: str) -> dict[str, Any]:
    stored = uow.resources.get("usage", usage_id)
    if stored is None:
        raise NotFound("Usage", usage_id)
    return render_usage(stored, uow.charges.billed_accounts([usage_id]).get(usage_id))


def list_usage(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page("usage", filters, offset, limit)
    billed = uow.charges.billed_accounts([s.id for s in page])
    return [render_usage(s, billed.get(s.id)) for s in page], total


# ------------------------------------------------------------------------ buckets (TMF654)

BUCKET_FIELDS = ("name", "description", "usageType", "remainingValue", "remainingValueName", "validFor", "product",
                 "partyAccount", "relatedParty", "status", "isShared", "precedence", "floor")


def render_bucket(stored: StoredResource) -> dict[str, Any]:
    return {**stored.document, "id": stored.id, "href": href(f"{BUCKET_API}/bucket", stored.id), "@type": "Bucket"}


def create_bucket(uow: UnitOfWork, body: dict[str, Any]) -> dict[str, Any]:
    """A balance of units or money for a product: ``remainingValue`` {amount, units: GB, message
    … or a currency}, ``usageType`` (a service, or ``any``), and the extensions ``precedence``
    (lowest used first) and ``floor`` (how low a money balance may go; null: no limit)."""
    unknown = sorted(set(body) - set(BUCKET_FIELDS) - {"id", "@type", "href"})
    if unknown:
        raise InvalidInput(f"unsupported field {unknown[0]!r} for Bucket", path=(unknown[0],))
    bucket_id = body.get("id") or str(uuid.uuid4())
    if uow.resources.get("bucket", bucket_id) is not None:
        raise Conflict(f"a Bucket with id '{bucket_id}' already exists")
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
    stored = StoredResource("bucket", bucket_id, 1, now, now, document, state=document["status"],
                            party_id=products[0], partner_id=product.partner_id)
    try:
        _bucket(stored)
    except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
        raise InvalidInput(f"malformed bucket: {exc}") from None
    uow.resources.insert(stored)
    uow.commit()
    return render_bucket(stored)


def get_bucket(uow: UnitOfWork, bucket_id: str) -> dict[str, Any]:
    stored = uow.resources.get("bucket", bucket_id)
    if stored is None:
        raise NotFound("Bucket", bucket_id)
    return render_bucket(stored)


def list_buckets(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int
                 ) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page("bucket", filters, offset, limit)
    return [render_bucket(s) for s in page], total


def delete_bucket(uow: UnitOfWork, bucket_id: str) -> None:
    if uow.resources.get("bucket", bucket_id, for_update=True) is None:
        raise NotFound("Bucket", bucket_id)
    uow.resources.delete("bucket", bucket_id)
    uow.commit()


# --------------------------------------------------------- consumption and running totals


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
        stored, _ = uow.resources.page("bucket", {"product.id": [product_id]}, 0, 10_000)
        found = []
        for bucket in stored:
            shown = render_bucket(bucket)
            initial = (bucket.document.get("initialValue") or {}).get("amount")
            found.append({k: v for k, v in shown.items() if k not in ("precedence", "floor")}
                         | ({"bucketCounter": [{"counterType": "used", "value": {
                             "amount": Decimal(str(initial)) - Decimal(str(shown["remainingValue"]["amount"])),
                             "units": shown["remainingValue"]["units"]}}]} if initial is not None else {}))
        buckets += found
        # the standard place (usageConsumption[].bucketRefOrValue), one report per product
        consumption.append({"product": [{"id": product_id, "@referredType": "Product"}], "bucketRefOrValue": found,
                            "@type": "UsageConsumption"})
    now = _now()
    return {"id": str(uuid.uuid4()), "href": f"/tmf-api/usageConsumption/v4/queryUsageConsumption",
            "queryUsageConsumptionDate": format_instant(now), "searchCriteria": criteria,
            "usageConsumption": consumption, "bucket": buckets, "@type": "QueryUsageConsumption"}


def _period(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = parse_instant(value)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}", path=(name,)) from None
    assert isinstance(parsed, dt.datetime)  # parse_instant makes a date-time of every text
    return parsed


def aggregated_usage(uow: UnitOfWork, billing_account: list[str] | None, product: list[str] | None,
                     start: str | None, end: str | None, by: list[str]) -> dict[str, Any]:
    """What rated usage comes to so far for payers or products over [start, end): totals
    per currency (and per ``by``: service, billingAccount, product, payerRole), exactly."""
    if not billing_account and not product:
        raise InvalidInput("name billingAccount or product (or both)", path=("billingAccount",))
    columns = {"service": "service", "billingAccount": "billing_account", "product": "subscriber",
               "payerRole": "payer_role"}
    unknown = [b for b in by if b not in columns]
    if unknown:
        from bssrules.errors import did_you_mean
        raise InvalidInput(f"cannot group by {unknown[0]!r}", path=("groupBy",),
                           suggestion=did_you_mean(unknown[0], columns))
    for kind, ids in (("billingAccount", billing_account or []), ("product", product or [])):
        for identifier in ids:  # a partner asks only about its own payers and products
            if uow.resources.get(kind, identifier) is None:
                raise NotFound("BillingAccount" if kind == "billingAccount" else "Product", identifier)
    since, until = _period(start, "start"), _period(end, "end")
    rows = uow.charges.totals(billing_accounts=billing_account, subscribers=product, start=since, end=until,
                              by=[columns[b] for b in by])
    names = {v: k for k, v in columns.items()}
    return {"billingAccount": billing_account or [], "product": product or [],
            "period": {"startDateTime": start, "endDateTime": end},
            "total": [{"unit": r["currency"], "value": r["amount"], "count": r["count"],
                       **{names[c]: r[c] for c in r if c in names}} for r in rows],
            "@type": "AggregatedUsage"}


def list_accumulators(uow: UnitOfWork, product: str) -> list[dict[str, Any]]:
    """The running totals of a product, every period, with the thresholds reached."""
    page, _ = uow.resources.page("accumulator", {"subscriber": [product]}, 0, 10_000)
    return [{**s.document, "id": s.id} for s in page]
