"""Online rating (TMF635 usage) and what has been consumed and charged so far (the
aggregated-usage extension and the running totals of seed 003).

A posted usage is stored at once as rated or rejected (never lost), in two database round
trips in the common case (:mod:`bssrules.store.online` draws them): the first locks its
subscription and reads its balances, its accumulators and the revision of its rating
context; the second writes the usage, its charges, the balances and the totals — only if
the revision and every value read are still as read — and commits. Concurrent records of one
subscriber thus update its buckets and accumulators one after the other (no update is
lost), while different subscribers rate in parallel. The context (party class, effective
offerings, payers) comes from the worker's cache when its revision is the one read
(:mod:`bssrules.services.rating_context`). Rating itself is the pure function of
:mod:`bssrules.pricing.rating`, given the state and handing the new state back. A batch is
rated the same way, set-based: one read, one rating call, one write.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import time
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Collection, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

import simplejson

from bssrules import jsontext
from bssrules.services import notifications
from bssrules.services.dating import DatingPolicy
from bssrules.catalog.types import format_instant, parse_instant, zoned_instant
from bssrules.errors import Conflict, InvalidInput, NotFound
from bssrules.pricing.allowances import month_of
from bssrules.quantities import VOLUME_DECIMALS, PlainDecimal, decimals_of, money, number_text, plain, quantity
from bssrules.pricing.rating import (
    outside_calendar, period_of, rate_records, rating_order, usage_rule_set_versions, usage_rule_sets,
)
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, Event, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.rules.loader import RuleBook
from bssrules.rules.model import SplitBillingRuleSet, UsageRuleSet
from bssrules.services.allowance_buckets import missing_buckets, usage_types_of
from bssrules.services.known_keys import PartnerCheck, PartnerMoved
from bssrules.services.rating_context import ContextCache, RatingContext, load_context, load_contexts
from bssrules.services.records import (
    MAX_ID, BalanceChange, ChargeRow, HotState, KeyTaken, PartlyStored, StoredAccumulator, StoredBucket,
    StoredResource, StoredUsage, UsageWrite, href,
)
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork
from bssrules.services.runtime import Runtime, RuntimeCache

API = "/tmf-api/usageManagement/v4"
ANY_SERVICE = "any"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


# ------------------------------------------------------------------ usage records (TMF635)


def _characteristics(body: Mapping[str, Any]) -> dict[str, Any]:
    return {c["name"]: c.get("value") for c in body.get("usageCharacteristic") or []
            if isinstance(c, dict) and c.get("name")}


def subscriber_of(body: Mapping[str, Any], characteristics: Mapping[str, Any] | None = None) -> str | None:
    """The subscription that used it: the ``productId`` characteristic, else the product of
    the first ``ratedProductUsage`` (``characteristics``: the body's, when read already)."""
    found = (_characteristics(body) if characteristics is None else characteristics).get("productId")
    if isinstance(found, str) and found:
        return found
    refs = values_at(body, "ratedProductUsage.productRef.id")
    return refs[0] if refs and isinstance(refs[0], str) else None


# the instant of a usage: a date-time that names its zone, else None (as bulk rating reads it)
usage_instant = zoned_instant


_decimals = decimals_of


# a date-time text that names its zone (as catalog.types.zoned_instant reads it)
_ZONED_TEXT = re.compile(r"T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


def _written(value: Any) -> str:
    """A value as the caller wrote it: a text in quotes, anything else as its JSON text (a
    number as written, ``true``, ``null``, a list — never a Python repr such as
    Decimal('1E-13'), True or None)."""
    if isinstance(value, str):
        return repr(value)
    try:
        return jsontext.dumps(value)[:80]
    except (TypeError, ValueError):
        return repr(value)[:80]


def _date_problem(value: Any) -> str:
    """Why a usageDate is not an instant: no zone, not a date-time, or one the calendar cannot hold."""
    if isinstance(value, str) and _ZONED_TEXT.search(value):
        try:
            parse_instant(value)
        except ValueError as exc:
            if "outside the calendar" in str(exc):
                return f"usageDate {exc}"
    return f"usageDate {value!r} is not a date-time with a time zone (e.g. 2026-06-01T03:00:00Z)"


def _repeated(listed: list[Any]) -> str | None:
    """Why a usage's characteristics say two things: a name given twice with different values."""
    seen: dict[str, Any] = {}
    for c in listed:
        if isinstance(c, dict) and c.get("name"):
            name, value = c["name"], c.get("value")
            if name in seen and seen[name] != value:
                return (f"usageCharacteristic '{name}' is given twice, with different values "
                        f"({_written(seen[name])} and {_written(value)}): a usage has one")
            seen.setdefault(name, value)
    return None


def record_of(usage_id: str, body: Mapping[str, Any]) -> tuple[UsageRecord | None, str | None]:
    """The usage record a TMF635 body describes, or why it cannot be rated."""
    characteristics = _characteristics(body)
    listed = body.get("usageCharacteristic")
    if isinstance(listed, list) and len(listed) > len(characteristics):  # (a name twice, or an entry without one)
        repeated = _repeated(listed)
        if repeated:  # (the last one would win, unsaid: two productIds charged the second subscription)
            return None, repeated
    subscriber = subscriber_of(body, characteristics)
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
        return None, _date_problem(body.get("usageDate"))
    raw_volume = characteristics.get("volume", 1)
    if type(raw_volume) is int:  # (the usual volume: exact as it is, no decimals)
        volume = Decimal(raw_volume)
    else:
        try:
            if isinstance(raw_volume, str):  # (a number's text: not "1_000", other scripts' digits …)
                found = number_text(raw_volume)
                if found is None:
                    raise ValueError(raw_volume)
                volume = found
            else:
                volume = Decimal(repr(raw_volume)) if isinstance(raw_volume, float) else Decimal(str(raw_volume))
        except (InvalidOperation, ValueError):
            return None, f"volume {_written(raw_volume)} is not a number"
    if isinstance(raw_volume, bool) or not volume.is_finite() or volume < 0:
        return None, f"volume {_written(raw_volume)} must be a number of at least 0"
    if type(raw_volume) is not int and _decimals(volume) > VOLUME_DECIMALS:
        # as bulk rating reads it: the same record is not rated on one path and refused on the other
        return None, f"volume {_written(raw_volume)} has more than {VOLUME_DECIMALS} decimals"
    roaming = characteristics.get("roaming")
    if roaming is not None and not isinstance(roaming, bool):
        return None, f"roaming {_written(roaming)} must be true or false"
    text = {k: characteristics.get(k) for k in ("unit", "country")}
    for name, value in text.items():
        if value is not None and not isinstance(value, str):
            return None, f"{name} {_written(value)} must be text"
    # usage.type is the usageType sent, always (also when it stands in for the service)
    usage_type = body.get("usageType")
    if usage_type == "":
        usage_type = None
    if usage_type is not None and not isinstance(usage_type, str):
        return None, f"usageType {_written(usage_type)} must be text"
    if usage_type is not None and len(usage_type) > MAX_ID:
        return None, f"usageType has at most {MAX_ID} characters; this one has {len(usage_type)}"
    return UsageRecord(usage_id, subscriber, service, start, volume, text["unit"], usage_type, roaming,
                       text["country"]), None


def inactive(product: StoredResource, at: dt.datetime) -> str | None:
    """Why a subscription could not have been used at ``at``, if it could not: it had not
    started, had ended (terminationDate), or is not in a state that carries traffic. A late
    record of a time the subscription was active still rates. A suspended subscription is
    left to the rule sets (their prerequisites say what an effective service is)."""
    doc = product.document
    status = doc.get("status")
    start, end = _instant_of(doc.get("startDate")), _instant_of(doc.get("terminationDate"))
    if start is not None and at < start:
        return f"subscription {product.id} started at {format_instant(start)}, after this usage"
    if end is not None and at >= end:
        return f"subscription {product.id} ended at {format_instant(end)}, before this usage"
    if status in ("created", "pendingActive", "cancelled", "aborted") or \
            (status == "terminated" and end is None):
        return f"subscription {product.id} is {status}"
    return None


def _instant_of(value: Any) -> dt.datetime | None:
    """A product's start or termination date as an instant (a date-time with its zone, else a
    date or a date-time read as UTC), None when it has none: parsed once per text (every
    usage of a subscription reads the same dates of its product)."""
    if type(value) is str:
        return _instant_of_text(value)
    return usage_instant(value) or _date_instant(value)


@functools.lru_cache(maxsize=4096)
def _instant_of_text(value: str) -> dt.datetime | None:
    return usage_instant(value) or _date_instant(value)


def _date_instant(value: Any) -> dt.datetime | None:
    try:
        parsed = parse_instant(value) if value else None
    except (ValueError, TypeError):
        return None
    # parse_instant makes a date-time of every text and date, and hands anything else back
    # unchanged: that is no instant either (the request schemas let only text in)
    return parsed if isinstance(parsed, dt.datetime) else None


def split_billing_sets(rules: RuleBook) -> list[tuple[str, list[Any]]]:
    """The split billing rule sets of ``rules`` by id, each with its versions: what
    :func:`split_billing_for` looks through (made once for a batch of usages)."""
    found = [(rule_set_id, [c for c in rules.versions[rule_set_id] if c.kind == "splitBilling"])
             for rule_set_id in sorted(rules.versions)]
    return [(rule_set_id, versions) for rule_set_id, versions in found if versions]


def split_billing_for(rules: RuleBook, payers: Mapping[str, str], at: dt.datetime,
                      sets: list[tuple[str, list[Any]]] | None = None) -> str | None:
    """The split billing rule set of a subscription: the first in force (by id) every payer
    role of which the subscription has an account for (``sets``: :func:`split_billing_sets`
    of ``rules``, when made already)."""
    for rule_set_id, candidates in split_billing_sets(rules) if sets is None else sets:
        versions = [c for c in candidates if c.definition.valid_for.contains(at)]
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


def _money(amount: Decimal, currency: str | None) -> dict[str, Any]:
    return {"unit": currency, "value": amount}


class _Written:
    """What the documents of one batch share, made once: the rating date's text and the
    written form of the amounts taken from money buckets (a batch takes the same few)."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.now_text = format_instant(now)
        self._money: dict[tuple[type, Decimal, str | None], Any] = {}

    def money(self, value: Decimal, currency: str | None) -> Any:
        key = (type(value), value, currency)  # (equal values have one written form: money normalizes)
        found = self._money.get(key)
        if found is None:
            found = self._money[key] = money(value, currency)
        return found


def _taken(result: RatedUsage, money_buckets: Collection[str], written: _Written | None = None
           ) -> list[tuple[str, Decimal]]:
    """The buckets a usage took from, each with what it took in its written form: money at
    the currency's scale (a money bucket), units as an exact quantity (a unit bucket)."""
    as_money = money if written is None else written.money
    return [(b, as_money(t, result.currency) if b in money_buckets else quantity(t)) for b, t in result.buckets]


def _event_value(result: RatedUsage, event: Event, by_volume: Collection[str]) -> Any:
    """The total an event reached: a volume as a quantity, an amount as money."""
    return quantity(event.value) if event.accumulator in by_volume else money(event.value, result.currency)


def volume_accumulators(rules: RuleBook, events: Sequence[Event]) -> frozenset[str]:
    """Of the accumulators (``rule set/accumulator``) events name, those that count volume."""
    found = set()
    for event in events:
        rule_set, _, accumulator = event.accumulator.partition("/")
        for compiled in rules.versions.get(rule_set, ()):
            if any(a.id == accumulator and a.measure == "volume"
                   for a in getattr(compiled.definition, "accumulators", ())):
                found.add(event.accumulator)
    return frozenset(found)


# what a usage's document does not take from the body as sent: what the server says of it
# (a client's status, rating, events or reasons are not stored: rating writes its own, or none)
_KEPT_OUT = frozenset({"id", "href", "@type", "status", "ratedProductUsage", "ratedBy", "event", "rejectionReason"})


def _rated_document(body: dict[str, Any], result: RatedUsage, now: dt.datetime,
                    money_buckets: Collection[str] = (), by_volume: Collection[str] = (),
                    taken: list[tuple[str, Decimal]] | None = None, now_text: str | None = None) -> dict[str, Any]:
    """The document stored for a usage. Volumes and units taken are written as exact
    quantities, money at its currency's scale (:mod:`bssrules.quantities`); ``money_buckets``:
    the ids of the money buckets among those it took from; ``by_volume``: the accumulators
    of its events that count volume (the others count money). ``taken`` (what
    :func:`_taken` gives) and ``now_text`` (``now`` formatted): made once by the caller."""
    document = {k: v for k, v in body.items() if k not in _KEPT_OUT}
    document["status"] = result.status
    if result.status == "rejected":
        document["rejectionReason"] = [dict(r) for r in result.reasons]
        if result.rule_set:
            document["ratedBy"] = {"ruleSet": result.rule_set, "rule": result.rule}
        return document
    rated = []
    product_ref = {"id": result.record.subscriber, "@referredType": "Product"}
    base = {"ratingDate": now_text or format_instant(now), "usageRatingTag": result.rule,
            "offerTariffType": result.rule_set,
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
                           "ratedVolume": quantity(result.rated_volume),
                           "amount": _money(result.amount, result.currency),
                           **({"provisioningId": result.provisioning_id} if result.provisioning_id else {}),
                           **({"bucket": [{"id": b, "taken": t} for b, t in
                                          (taken if taken is not None else _taken(result, money_buckets))]}
                              if result.buckets else {})}
    refused = getattr(result, "refused_volume", Decimal(0))  # (capped rating, issue 12 item 5)
    if refused:
        # the part a rateUpToCap threshold cut off: its volume in the record's unit, and why
        document["ratedBy"]["refused"] = {"volume": quantity(refused),
                                          **({"unit": result.record.unit} if result.record.unit else {}),
                                          "reason": [dict(r) for r in result.reasons]}
    if result.events:
        document["event"] = [{"eventType": e.kind, "accumulator": e.accumulator, "threshold": e.threshold,
                              "action": e.action, "value": _event_value(result, e, by_volume), "period": e.period}
                             for e in result.events]
    return document


def render_usage(stored: StoredUsage, billed: set[str] | None = None) -> dict[str, Any]:
    """A usage as TMF635 shows it; ``billed``: the billing accounts whose bill took its
    charge (``isBilled`` follows the bill runs, which do not rewrite the usage)."""
    document = stored.document
    if billed:
        document = dict(document, ratedProductUsage=[
            dict(r, isBilled=True) if values_at(r, "billingAccount.id")[:1] and
            values_at(r, "billingAccount.id")[0] in billed else r
            for r in document.get("ratedProductUsage") or []])
    by = document.get("ratedBy")
    if isinstance(by, dict) and ("ratedVolume" in by or "bucket" in by or "refused" in by):
        # (a document stored before quantities had one form; a number read back as 1E-7)
        document = dict(document, ratedBy=_written_by(by))
    return {**document, "id": stored.id, "href": href(f"{API}/usage", stored.id), "@type": "Usage"}


def _written_by(by: dict[str, Any]) -> dict[str, Any]:
    """A stored ``ratedBy`` with its volumes in their written form, and what buckets took
    without exponent (whether a bucket held money is not kept: its digits stay)."""
    by = dict(by)
    if "ratedVolume" in by:
        by["ratedVolume"] = quantity(by["ratedVolume"])
    if isinstance(by.get("refused"), dict) and "volume" in by["refused"]:
        by["refused"] = {**by["refused"], "volume": quantity(by["refused"]["volume"])}
    if isinstance(by.get("bucket"), list):
        by["bucket"] = [{**t, "taken": plain(t["taken"])} if isinstance(t, dict) and "taken" in t else t
                        for t in by["bucket"]]
    return by


class JsonDocument(dict[str, Any]):
    """A JSON object with the text it is written as (``json``), made once: the store keeps that
    text (:func:`bssrules.store.hot_rows.usage_values`) and the HTTP layer sends it as it is."""

    json: str = ""


# the text of a stored usage: jsontext.dumps(document, sort_keys=True), made faster. One
# encoder of each kind, made once (simplejson.dumps makes one per call: a third of its cost)
def _default(value: Any) -> Any:  # (as jsontext.dumps: instants and dates as their ISO text)
    if isinstance(value, dt.datetime):
        return format_instant(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


_ENCODER = simplejson.JSONEncoder(use_decimal=True, sort_keys=True, ensure_ascii=False, default=_default)
# a client's values as the standard library's C encoder writes them (the same text as
# simplejson's for text, integers, booleans, null, lists and objects; it refuses a Decimal)
_PLAIN = json.JSONEncoder(ensure_ascii=False, sort_keys=True, check_circular=False, allow_nan=False).encode
_Q = json.encoder.encode_basestring  # (ensure_ascii=False: c_encode_basestring when the C module is there)
# what a rated usage's document does not take from the body (as _rated_document)
_REPLACED = _KEPT_OUT


def _refused(value: Any) -> Any:
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


# _PLAIN's C encoder itself, made once (JSONEncoder.encode makes one per call, twice the cost
# of encoding a usage's few values); None without the C module
_MAKE_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)  # (not in the library's stubs)
_C_PLAIN = _MAKE_ENCODER(None, _refused, _Q, None, ": ", ", ", True, False, False) \
    if _MAKE_ENCODER is not None else None


def _plain_text(value: Any) -> str:
    """``value`` as :data:`_PLAIN` writes it (TypeError for a Decimal, ValueError for NaN)."""
    if type(value) is str:
        return _Q(value)
    return "".join(_C_PLAIN(value, 0)) if _C_PLAIN is not None else _PLAIN(value)


def _value_text(value: Any) -> str:
    try:
        return _plain_text(value)
    except (TypeError, ValueError):  # a Decimal the client sent (or anything else): as simplejson writes it
        return _ENCODER.encode(value)


def _body_text(body: Mapping[str, Any], rating: list[tuple[str, str]]) -> str:
    """The document's text: the body's members but those rating replaces and ``rating``'s
    (key, text) pairs, keys sorted. The body encoded in one call when every key of it sorts
    after rating's (the usual body: usageCharacteristic, usageDate, usageType …), else member
    by member."""
    kept = {key: value for key, value in body.items() if key not in _REPLACED}
    last = rating[-1][0]
    if all(type(key) is str and key > last for key in kept):
        try:
            text = _plain_text(kept)
        except (TypeError, ValueError):
            pass
        else:
            head = ", ".join(f"{_Q(key)}: {value}" for key, value in rating)
            return "{" + head + (", " + text[1:] if kept else "}")
    pairs = [(key, _value_text(value)) for key, value in kept.items()] + rating
    pairs.sort()
    return "{" + ", ".join(f"{_Q(key)}: {text}" for key, text in pairs) + "}"


def _number(value: Any) -> str:
    """A number as simplejson writes it (a Decimal as its text); anything else is not expected."""
    if (type(value) is Decimal or type(value) is PlainDecimal) and value.is_finite():
        return str(value)
    if type(value) is int:
        return str(value)
    raise TypeError(value)


def _name(value: str | None) -> str:
    return "null" if value is None else _Q(value)


def _money_text(amount: Decimal, currency: str | None) -> str:
    return f'{{"unit": {_name(currency)}, "value": {_number(amount)}}}'


def _rated_text(body: Mapping[str, Any], result: RatedUsage, now: dt.datetime,
                money_buckets: Collection[str] = (), taken: list[tuple[str, Decimal]] | None = None,
                now_text: str | None = None) -> str | None:
    """:func:`_rated_document`'s text (keys sorted at every level, as ``jsontext.dumps(…,
    sort_keys=True)`` writes it), joined from fragments: the client's values encoded by the
    standard library's C encoder, rating's by templates. None for the shapes it does not
    write (a rejected usage, events, a refused part): those are encoded whole."""
    if result.status != "rated" or result.events or result.refused_volume or type(result.rule) is not str \
            or type(result.rule_set) is not str:
        return None
    common = (f'"isBilled": false, "offerTariffType": {_Q(result.rule_set)}, '
              f'"productRef": {{"@referredType": "Product", "id": {_Q(result.record.subscriber)}}}, '
              f'"ratingAmountType": "total", "ratingDate": {_Q(now_text or format_instant(now))}')
    tag = _Q(result.rule)
    rated = []
    if result.prepaid > 0 or not result.charges:
        paid = result.prepaid if result.prepaid else result.amount
        rated.append((f'{{"bucketValueConvertedInAmount": {_money_text(result.prepaid, result.currency)}, '
                      if result.prepaid else "{") +
                     f'{common}, "taxIncludedRatingAmount": {_money_text(paid, result.currency)}, '
                     f'"usageRatingTag": {tag}}}')
    for part in result.charges:
        rated.append(f'{{"billingAccount": {{"id": {_Q(part.billing_account)}, "role": {_Q(part.payer)}}}, {common}, '
                     f'"taxIncludedRatingAmount": {_money_text(part.amount, result.currency)}, "usageRatingTag": {tag}}}')
    by = [f'"amount": {_money_text(result.amount, result.currency)}']
    if result.buckets:
        by.append('"bucket": [' + ", ".join(f'{{"id": {_Q(b)}, "taken": {_number(t)}}}'
                                    for b, t in (taken if taken is not None else _taken(result, money_buckets)))
                  + "]")
    if result.provisioning_id:
        by.append(f'"provisioningId": {_Q(result.provisioning_id)}')
    by.append(f'"ratedVolume": {_number(quantity(result.rated_volume))}, "rule": {tag}, "ruleSet": {_Q(result.rule_set)}')
    return _body_text(body, [("ratedBy", "{" + ", ".join(by) + "}"), ("ratedProductUsage", "[" + ", ".join(rated) + "]"),
                             ("status", '"rated"')])


def _stored_document(body: dict[str, Any], result: RatedUsage, now: dt.datetime,
                     money_buckets: Collection[str] = (), by_volume: Collection[str] = (),
                     written: _Written | None = None, text_only: bool = False) -> JsonDocument:
    """The document stored for a usage, with its text (``written``: what the batch's
    documents share, made once). ``text_only``: the text is all the caller uses (it stores
    it, and answers with it): when the templates write it, the dict is left empty."""
    taken = _taken(result, money_buckets, written) if result.buckets else []
    now_text = written.now_text if written is not None else format_instant(now)
    try:
        text = _rated_text(body, result, now, money_buckets, taken, now_text)
    except TypeError:  # a value of a type the templates do not write
        text = None
    if text is not None and text_only:
        document = JsonDocument()
    else:
        document = JsonDocument(_rated_document(body, result, now, money_buckets, by_volume, taken, now_text))
    document.json = text if text is not None else _ENCODER.encode(document)
    return document


_USAGES = f"{API}/usage"
# what records.href leaves as it is in a path segment: the unreserved characters and its safe ones
_SEGMENT = re.compile(r"[A-Za-z0-9_.\-~!$&'()*+,;=:@]*")


def _answer(stored: StoredUsage) -> dict[str, Any]:
    """The usage just stored as TMF635 shows it, with its JSON text (the stored document's,
    id, href and @type added: the stored document has none of them)."""
    text = getattr(stored.document, "json", "")
    if len(text) <= 2 or not text.endswith("}"):
        return render_usage(stored)
    # (an id of characters a path segment keeps as they are, a uuid: the link href makes of it)
    link = f"{_USAGES}/{stored.id}" if _SEGMENT.fullmatch(stored.id) else href(_USAGES, stored.id)
    answer = JsonDocument(stored.document)  # render_usage's dict, made with one copy
    answer["id"], answer["href"], answer["@type"] = stored.id, link, "Usage"
    answer.json = f'{text[:-1]}, "id": {_Q(stored.id)}, "href": {_Q(link)}, "@type": "Usage"}}'
    return answer


def _answer_text(stored: StoredUsage) -> str:
    """:func:`_answer`'s JSON text, without its dict."""
    text = stored.document.json if isinstance(stored.document, JsonDocument) else ""
    if len(text) <= 2 or not text.endswith("}"):
        return jsontext.dumps(render_usage(stored))
    link = f"{_USAGES}/{stored.id}" if _SEGMENT.fullmatch(stored.id) else href(_USAGES, stored.id)
    return f'{text[:-1]}, "id": {_Q(stored.id)}, "href": {_Q(link)}, "@type": "Usage"}}'


def bucket_of(stored: StoredBucket) -> Bucket:
    """What rating needs of a stored bucket."""
    services: tuple[str, ...] = () if stored.usage_type in (None, ANY_SERVICE) else (stored.usage_type,)
    if stored.usage_type is None and "usageTypes" in stored.document:  # an allowance serving several
        services = usage_types_of(stored) or ()
    return Bucket(stored.id, stored.subscription, stored.unit, stored.remaining, stored.precedence,
                  services, stored.valid_from, stored.valid_to, stored.floor)


@dataclass
class _Item:
    """One posted usage on its way: its record (or why it has none) and what became of it."""

    index: int
    id: str
    body: dict[str, Any]
    record: UsageRecord | None
    problem: str | None
    answer: tuple[Any, bool] | None = None  # (the usage as TMF635 shows it, or its JSON text; created)
    result: RatedUsage | None = None
    owner: str | None = None
    context: RatingContext | None = None


def _new_ids(count: int) -> Iterator[str]:
    """``count`` time-ordered (version 7, RFC 9562) UUIDs as text: the milliseconds since the
    epoch, then 74 random bits. A stored usage's id goes into two indexes (its subscription's,
    and the id alone); ids that grow with time are added at the right end of them, where the
    last one went, instead of at a random page of an index that grows with every usage. The
    random bytes of a batch read at once (a system call each, and a UUID object, cost as much
    as rating a usage's step)."""
    millis = time.time_ns() // 1_000_000
    stamp = f"{millis & 0xFFFF_FFFF_FFFF:012x}"
    head = f"{stamp[:8]}-{stamp[8:]}-7"
    raw = bytearray(os.urandom(10 * count))
    raw[2::10] = bytes((b & 0x3F) | 0x80 for b in raw[2::10])  # the variant, RFC 9562
    text = raw.hex()
    for at in range(0, 20 * count, 20):
        yield f"{head}{text[at:at + 3]}-{text[at + 4:at + 8]}-{text[at + 8:at + 20]}"


def create_usages(uow: UnitOfWork, runtimes: RuntimeCache, contexts: ContextCache, bodies: list[dict[str, Any]],
                  partner: PartnerCheck | None = None) -> list[tuple[dict[str, Any], bool]]:
    """Store and rate usages in one transaction, answered in the order given: (usage,
    created). The same id posted again returns the stored usage unchanged (mediation may
    resend; nothing is rated twice).

    ``partner``: the caller was authenticated from a key the worker kept; the first round
    trip reads the partner as it is now, and when it is no longer as kept nothing is written
    (:class:`PartnerMoved`: authenticate in full).

    Records are rated in (subscription, usageDate) order, and the subscriptions are locked in
    id order: two batches never wait on each other in a cycle."""
    return [(usage, created) for usage, created in _create(uow, runtimes, contexts, bodies, partner, False)]


def create_usage_texts(uow: UnitOfWork, runtimes: RuntimeCache, contexts: ContextCache,
                       bodies: list[dict[str, Any]], partner: PartnerCheck | None = None) -> list[tuple[str, bool]]:
    """:func:`create_usages` for a posted batch, each usage answered as the JSON text TMF635
    shows it — the text :func:`create_usages`' answer carries, and what the HTTP layer sends
    of it: a rated usage's document is then written as text alone, never made as a dict (a
    batch's answer is its usages; the dicts were a tenth of a batch's time).

    A batch naming several subscriptions does not wait for those another transaction holds
    (on PostgreSQL): it rates and commits the usages of the others first, then reads the
    rest, waiting for their locks, and rates and commits them (two transactions; each usage
    in one of them, each subscription's usages in the same one, in rating order). Batches
    drawn from the same subscriptions then run side by side instead of one after the other,
    each waiting only for what it shares with another. An id the service drew for a usage
    of the first transaction is set on its body, so that running the batch again after a
    failure of the second (a lost race for a usage id: :class:`KeyTaken`) finds it stored
    instead of rating it twice."""
    return [(usage, created) for usage, created in _create(uow, runtimes, contexts, bodies, partner, True, True)]


def _create(uow: UnitOfWork, runtimes: RuntimeCache, contexts: ContextCache, bodies: list[dict[str, Any]],
            partner: PartnerCheck | None, texts: bool, pass_over: bool = False) -> list[tuple[Any, bool]]:
    """:func:`create_usages`; ``texts``: each usage answered as its JSON text; ``pass_over``:
    the subscriptions another transaction holds rated after the others (see
    :func:`create_usage_texts`)."""
    ids = [b.get("id") for b in bodies if b.get("id") is not None]
    if len(set(map(str, ids))) != len(ids):
        raise InvalidInput("the same usage id appears twice in one request", path=("id",))
    items = []
    fresh = _new_ids(sum(1 for b in bodies if b.get("id") is None))
    for index, body in enumerate(bodies):
        usage_id = body.get("id")
        if usage_id is None:  # (none given: the service draws one; an empty one is no id, but an error)
            usage_id = next(fresh)
        elif not isinstance(usage_id, str) or not usage_id or len(usage_id) > 128:
            where = f"[{index}].id" if len(bodies) > 1 else "id"
            raise InvalidInput(f"{where} must be a non-empty string of at most 128 characters",
                               path=(index, "id") if len(bodies) > 1 else ("id",))
        record, problem = record_of(usage_id, body)
        items.append(_Item(index, usage_id, body, record, problem))
    now = _now()
    runtime = contexts.runtime_for(uow, runtimes)
    # (a batch of one subscription would pass over all or nothing: it waits at once)
    skip = pass_over and len({_subscription_of(i) for i in items} - {None}) > 1
    runtime, passed = _create_part(uow, runtimes, contexts, runtime, items, partner, now, texts, skip)
    if passed:  # (the partner checked in the first transaction; the rest waits for its locks)
        stored = [(i.index, i.id) for i in items if i.answer is not None]  # committed, or stored before
        try:
            _create_part(uow, runtimes, contexts, runtime, passed, None, now, texts, False)
        except KeyTaken:
            raise  # (a lost race for an id: the batch runs again and finds what the first part stored)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the first part is stored: say which
            cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise PartlyStored(
                f"the batch was written in two parts and the second failed ({cause}): the usages at "
                f"{', '.join(f'[{n}] {i!r}' for n, i in stored)} are stored and rated, the others are not; "
                "send the batch again with these ids: a stored one is answered as stored, never rated twice",
                stored) from exc
    return [i.answer for i in items if i.answer is not None]


def _create_part(uow: UnitOfWork, runtimes: RuntimeCache, contexts: ContextCache, runtime: Runtime,
                 items: Sequence[_Item], partner: PartnerCheck | None, now: dt.datetime, texts: bool,
                 skip: bool) -> tuple[Runtime, list[_Item]]:
    """Rate, write and commit ``items`` in one transaction — with ``skip``, those of the
    subscriptions no other transaction holds — each answered; (the runtime rated with, the
    items passed over)."""
    state = _read(uow, runtime, items, partner.partner if partner is not None else None, skip)
    if partner is not None and not partner.holds(state.partner):
        raise PartnerMoved(f"partner '{partner.partner}' changed since its key was checked")
    if state.catalog_revision != runtime.revision:  # the catalog moved on: rate with the new rules
        runtime = contexts.runtime_for(uow, runtimes, state.catalog_revision)
        state = _read(uow, runtime, items, skip_locked=skip)
    scope = uow.resources.scope
    for item in items:  # (all of them, those passed over too: refused before anything is written)
        existing = state.usages.get(item.id)
        if existing is not None and scope is not None and existing.partner_id != scope:
            # another partner's: not this caller's to see
            raise Conflict(f"the usage id '{item.id}' is not available; choose another or leave it out")
    passed = [i for i in items if _subscription_of(i) in state.passed] if state.passed else []
    if passed:
        items = [i for i in items if _subscription_of(i) not in state.passed]
    for item in items:
        existing = state.usages.get(item.id)
        if existing is not None:
            shown = render_usage(existing, uow.charges.billed_accounts([item.id]).get(item.id))
            item.answer = (jsontext.dumps(shown) if texts else shown, False)
    todo = [i for i in items if i.answer is None]
    revisions = _contexts(uow, contexts, runtime, state, todo)
    if revisions != state.revisions:  # a subscription got its row only now: read it under its lock
        state = _read(uow, runtime, items)  # (those passed over left out: the others' locks are held)
    writes = _rate(uow, runtime, state, todo, now, texts)
    uow.online.save(writes, now, commit=True)
    if passed:  # committed: an id drawn for one of these is now its id (a run again finds it stored)
        for item in todo:
            item.body.setdefault("id", item.id)
    return runtime, passed


def create_usage(uow: UnitOfWork, runtimes: RuntimeCache, contexts: ContextCache, body: dict[str, Any]
                 ) -> tuple[dict[str, Any], bool]:
    """Store and rate one usage; (usage, created)."""
    return create_usages(uow, runtimes, contexts, [body])[0]


def _subscription_of(item: _Item) -> str | None:
    record = item.record
    return record.subscriber if record is not None and 0 < len(record.subscriber) <= 128 else None


def _read(uow: UnitOfWork, runtime: Runtime, items: Sequence[_Item], partner: str | None = None,
          skip_locked: bool = False) -> HotState:
    """Round trip 1: the subscriptions locked, what rating needs of them read (and the
    partner's version, when ``partner`` is named; ``skip_locked``: those another transaction
    holds passed over)."""
    subscriptions, keys = set(), set()
    since: dict[str, dt.datetime] = {}  # each subscription's earliest usage: the buckets that can serve from then
    versions = usage_rule_set_versions(runtime.rules)
    for item in items:
        subscription = _subscription_of(item)
        if subscription is None or item.record is None:
            continue
        found = usage_rule_sets(runtime.rules, item.record.start, versions)
        outside = outside_calendar(runtime.rules, item.record.start, found)
        if outside is not None:  # (rating counts it in that zone: it cannot; stored rejected as malformed)
            item.record, item.problem = None, f"usageDate {item.body.get('usageDate')!r} {outside}"
            continue
        subscriptions.add(subscription)
        if subscription not in since or item.record.start < since[subscription]:
            since[subscription] = item.record.start
        for compiled in found:
            assert isinstance(compiled.definition, UsageRuleSet)  # usage_rule_sets gives only usage rule sets
            for accumulator in compiled.definition.accumulators:
                keys.add((subscription, f"{compiled.id}/{accumulator.id}",
                          period_of(item.record.start, compiled, accumulator.period)))
    # the ids the callers gave: one this worker drew just now (122 random bits) is stored nowhere
    # (and were it, the insert's unique key would say so: the batch runs again, with new ids)
    given = [i.id for i in items if i.body.get("id")]
    return uow.online.read(given, sorted(subscriptions), sorted(keys), partner, since, skip_locked=skip_locked)


def _contexts(uow: UnitOfWork, contexts: ContextCache, runtime: Runtime, state: HotState,
              items: Sequence[_Item]) -> dict[str, int]:
    """Each item's rating context, from the cache when it is of the revision read, else
    read again; the revisions of the subscriptions (a row made for a product that had none)."""
    revisions = dict(state.revisions)
    scope = uow.resources.scope
    loaded: dict[str, RatingContext] = {}
    missing: dict[str, None] = {}  # (in the order met)
    for item in items:
        subscription = _subscription_of(item)
        if subscription is None or subscription in loaded or subscription in missing:
            continue
        revision = revisions.get(subscription)
        context = contexts.get(scope, subscription, revision, runtime.revision) if revision is not None else None
        if context is None:
            missing[subscription] = None
        else:
            loaded[subscription] = context
    # the contexts this worker lacks, read together: a few statements for the whole batch
    read = load_contexts(uow, list(missing)) if len(missing) > 1 else \
        {s: load_context(uow, s) for s in missing}
    for subscription in missing:
        context = read[subscription]
        revision = revisions.get(subscription)
        if revision is None and context.product is not None:
            # a product that never got its row (made before them, or by other means)
            uow.online.bump(products=[subscription])
            revision = revisions[subscription] = uow.online.revision(subscription) or 1
        if revision is not None:
            contexts.put(scope, subscription, revision, runtime.revision, context)
        loaded[subscription] = context
    for item in items:
        subscription = _subscription_of(item)
        if subscription is not None:
            item.context = loaded[subscription]
    return revisions

def _rate(uow: UnitOfWork, runtime: Runtime, state: HotState, items: Sequence[_Item], now: dt.datetime,
          texts: bool = False) -> list[UsageWrite]:
    """Rate the items that can be (set-based), and what each writes."""
    rateable: list[_Item] = []
    dating = DatingPolicy.from_env()  # how far ahead a usage may be dated (the operator's tolerance)
    for item in items:
        record, context = item.record, item.context
        if record is None:
            item.result = RatedUsage(UsageRecord(item.id, subscriber_of(item.body) or "", "", now, Decimal(0)),
                                     "rejected", ({"code": "malformed", "label": item.problem or "malformed"},))
        elif (ahead := dating.usage_future_problem(record.start, now)) is not None:
            item.result = RatedUsage(record, "rejected", ({"code": "usageInFuture", "label": ahead},))
        elif context is None or context.product is None:
            item.result = RatedUsage(record, "rejected", ({"code": "unknownSubscriber",
                                                           "label": f"no product '{record.subscriber}' in the "
                                                                    f"inventory"},))
        else:
            item.owner = context.product.partner_id
            not_active = inactive(context.product, record.start)
            if not_active:
                item.result = RatedUsage(record, "rejected", ({"code": "subscriptionNotActive", "label": not_active},))
            else:
                rateable.append(item)
    before = RatingState({b.id: bucket_of(b) for b in state.buckets},
                         {AccumulatorKey(a.accumulator, a.subscription, a.period):
                          AccumulatorTotal(a.volume, a.amount, a.reached) for a in state.accumulators})
    after, made = _rate_months(runtime, state, rateable, before, now)
    if made:  # the writes move the new buckets' balances from what they are made with
        state = replace(state, buckets=state.buckets + tuple(made))
        before = replace(before, buckets={**before.buckets, **{b.id: bucket_of(b) for b in made}})
    return _writes(uow, runtime, state, items, before, after, now, made, texts)


def _rate_months(runtime: Runtime, state: HotState, items: Sequence[_Item], rating: RatingState, now: dt.datetime
                 ) -> tuple[RatingState, list[StoredBucket]]:
    """Rate the items, each product's allowance buckets of a month it lacks made first (the
    month's first usage makes them); a batch spanning months rates them month by month, so
    that a month's rollover is what the month before left once its records are rated."""
    by_month: dict[str, list[_Item]] = {}
    for item in items:
        assert item.record is not None
        by_month.setdefault(month_of(item.record.start), []).append(item)
    stored = {b.id: b for b in state.buckets}
    made: list[StoredBucket] = []
    for month in sorted(by_month):
        group = items if len(by_month) == 1 else by_month[month]
        # what the buckets hold now (after the months rated before, in a batch spanning months)
        present = stored if len(by_month) == 1 else {
            i: replace(b, remaining=rating.buckets[i].remaining) for i, b in stored.items()}
        new = missing_buckets(runtime.catalog, [(i.context.product, i.record.start) for i in group
                                                if i.context is not None and i.context.product is not None
                                                and i.record is not None], present, now)
        if new:
            rating = replace(rating, buckets={**rating.buckets, **{b.id: bucket_of(b) for b in new}})
        rating = _rate_records(runtime, group, rating)
        if new:
            # made by a usage rated, not by one rejected (which takes nothing: its month's bucket
            # is made later, by the first usage rated, with what the month before has left then)
            rated = {i.record.subscriber for i in group
                     if i.record is not None and i.result is not None and i.result.status != "rejected"}
            kept = [b for b in new if b.subscription in rated]
            if len(kept) < len(new):  # (untouched: a rejected usage moved none of them)
                rating = replace(rating, buckets={k: v for k, v in rating.buckets.items()
                                                  if k not in {b.id for b in new if b.subscription not in rated}})
            made += kept
            stored.update((b.id, b) for b in kept)
    return rating, made


def _rate_records(runtime: Runtime, items: Sequence[_Item], state: RatingState) -> RatingState:
    """Rate in one call when each subscription has one split billing rule set for all its
    records (the usual case), else record by record in rating order, the state handed on."""
    variants: dict[str, set[tuple[str | None, tuple[str, ...]]]] = {}
    subscribers: list[Subscriber] = []
    # (cached subscriber, its split billing, offerings ended since) -> as rated
    chosen: dict[tuple[int, str | None, frozenset[str]], Subscriber] = {}
    sets = split_billing_sets(runtime.rules)
    for item in items:
        assert item.record is not None and item.context is not None and item.context.subscriber is not None
        cached = item.context.subscriber
        split = split_billing_for(runtime.rules, cached.payers, item.record.start, sets) if sets else None
        # a late usage counts the party's products that were in force then, ended since
        ended = item.context.offerings_ended_after(item.record.start)
        subscriber = chosen.get((id(cached), split, ended))
        if subscriber is None:  # the cached one when it has that rule set already (its facts typed once)
            if cached.split_billing == split and not ended:
                subscriber = cached
            elif not ended:
                subscriber = replace(cached, split_billing=split)
                if cached.typed is not None:  # (the facts do not depend on the split billing)
                    object.__setattr__(subscriber, "typed", cached.typed)
            else:
                subscriber = replace(cached, split_billing=split,
                                     active_offerings=tuple(sorted(ended.union(cached.active_offerings))))
            chosen[(id(cached), split, ended)] = subscriber
        subscribers.append(subscriber)
        variants.setdefault(subscriber.id, set()).add((subscriber.split_billing, subscriber.active_offerings))
    by_id = {i.id: i for i in items}
    if all(len(v) == 1 for v in variants.values()):
        results, state = rate_records([i.record for i in items if i.record],
                                      {s.id: s for s in subscribers}, runtime.rules, state)
        for result in results:
            by_id[result.record.id].result = result
        return state
    ordered = sorted(zip(items, subscribers), key=lambda pair: rating_order(pair[0].record))  # type: ignore[arg-type]
    for item, subscriber in ordered:
        assert item.record is not None
        results, state = rate_records([item.record], {subscriber.id: subscriber}, runtime.rules, state)
        item.result = results[0]
    return state


def _rated_unit(runtime: Runtime, result: RatedUsage) -> str | None:
    """The unit a record's volume is in: its own, else its rule's rate's."""
    if result.record.unit:
        return result.record.unit
    for compiled in usage_rule_sets(runtime.rules, result.record.start):
        if compiled.id == result.rule_set:
            assert isinstance(compiled.definition, UsageRuleSet)  # usage_rule_sets gives only usage rule sets
            return next((r.rate.per for r in compiled.definition.rules if r.id == result.rule), None)
    return None


def _writes(uow: UnitOfWork, runtime: Runtime, state: HotState, items: Sequence[_Item], before: RatingState,
            after: RatingState, now: dt.datetime, made: Sequence[StoredBucket] = (), texts: bool = False
            ) -> list[UsageWrite]:
    """What each usage writes; each item answered (``texts``: with its JSON text)."""
    scope = uow.resources.scope
    new_buckets: dict[str, list[StoredBucket]] = {}
    for stored_bucket in made:  # written with the subscription's first usage, before its balances
        new_buckets.setdefault(stored_bucket.subscription, []).append(stored_bucket)
    balances: dict[str, list[BalanceChange]] = {}
    for bucket_id, bucket in after.buckets.items():
        if before.buckets[bucket_id].remaining != bucket.remaining:
            balances.setdefault(bucket.subscriber, []).append(
                BalanceChange(bucket.subscriber, bucket_id, before.buckets[bucket_id].remaining, bucket.remaining))
    totals: dict[str, list[tuple[StoredAccumulator | None, StoredAccumulator]]] = {}
    read = {(a.subscription, a.accumulator, a.period): a for a in state.accumulators}
    owner_of = {i.record.subscriber: i.owner for i in items if i.record is not None}
    for key, total in after.accumulators.items():
        if before.accumulators.get(key) != total:
            totals.setdefault(key.subscriber, []).append((read.get((key.subscriber, key.accumulator, key.period)),
                                                          StoredAccumulator(key.subscriber, key.accumulator,
                                                                            key.period, total.volume, total.amount,
                                                                            total.reached, owner_of.get(key.subscriber))))
    money_buckets = frozenset(b for b, bucket in after.buckets.items() if bucket.is_money)
    written = _Written(now)
    writes = []
    for item in items:
        result = item.result
        assert result is not None
        subscription = _subscription_of(item) or ""
        charges: tuple[ChargeRow, ...] = ()
        if result.status == "rated" and item.record is not None and item.context is not None \
                and item.context.subscriber is not None:
            offering = item.context.subscriber.offering
            offering = offering if offering and len(offering) <= MAX_ID else None
            # the volume rated: the record's, less what a cap refused
            volume = item.record.volume - getattr(result, "refused_volume", Decimal(0))
            unit = _rated_unit(runtime, result) if result.charges else None
            charges = tuple(ChargeRow(item.id, n, subscription, part.billing_account, part.payer, item.record.service,
                                      offering, item.record.start, part.amount, result.currency or "", None,
                                      volume, unit)
                            for n, part in enumerate(result.charges))
        by_volume = volume_accumulators(runtime.rules, result.events) if result.events else frozenset()
        for event in result.events:  # a threshold reached: budget control, blocking, rate change
            notifications.publish(uow, "TMF635", "UsageThresholdReachedEvent", "usageThreshold", {
                "accumulator": event.accumulator, "threshold": event.threshold, "action": event.action,
                "product": {"id": event.subscriber}, "period": event.period,
                "value": _event_value(result, event, by_volume),
                "usage": {"id": item.id}}, item.owner)
        stored = StoredUsage(item.id, subscription, result.status, now, item.owner or scope,
                             _stored_document(item.body, result, now, money_buckets, by_volume, written, texts))
        writes.append(UsageWrite(stored, charges, tuple(balances.pop(subscription, ())),
                                 tuple(totals.pop(subscription, ())),
                                 state.revisions.get(subscription) if subscription in state.revisions else None,
                                 tuple(new_buckets.pop(subscription, ()))))
        item.answer = (_answer_text(stored) if texts else _answer(stored), True)
    return writes


def get_usage(uow: UnitOfWork, usage_id: str) -> dict[str, Any]:
    stored = uow.usages.usage(usage_id)
    if stored is None:
        raise NotFound("Usage", usage_id)
    return render_usage(stored, uow.charges.billed_accounts([usage_id]).get(usage_id))


def list_usage(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int
               ) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.usages.usages(filters, offset, limit)
    billed = uow.charges.billed_accounts([s.id for s in page])
    return [render_usage(s, billed.get(s.id)) for s in page], total


# --------------------------------------------------------- consumption and running totals


_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def accounting_zone(rules: RuleBook, day: dt.date, counted_by: Collection[str] | None = None) -> ZoneInfo:
    """The time zone a plain date means: that of the usage rule sets in force that day whose
    accumulators count the asked products' months and days (``counted_by``: the ids of the rule
    sets whose accumulators hold their totals; all rule sets in force when none holds any).
    UTC when no usage rule set is in force; refused when those rule sets count in different zones."""
    noon = dt.datetime.combine(day, dt.time(12), dt.timezone.utc)
    found = usage_rule_sets(rules, noon)
    counting = [c for c in found if counted_by and c.id in counted_by] or found
    zones = sorted({c.zone.key for c in counting})
    if len(zones) > 1:
        raise InvalidInput(f"the rule sets that count these products' usage are in different time zones "
                           f"({', '.join(zones)}): a plain date means no one instant; give date-times with "
                           f"their offset (e.g. {day.isoformat()}T00:00:00Z)", path=("start",))
    return ZoneInfo(zones[0]) if zones else ZoneInfo("UTC")


def _period(value: str | None, name: str, rules: RuleBook,
            counted_by: Collection[str] | None = None) -> tuple[dt.datetime | None, str | None]:
    """An instant of the query, and the time zone it was read in when it is a plain date."""
    if value is None:
        return None, None
    if _PLAIN_DATE.match(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise InvalidInput(f"{name}: {exc}", path=(name,)) from None
        zone = accounting_zone(rules, day, counted_by)
        instant = dt.datetime.combine(day, dt.time(), zone)
        try:  # (kept and compared in UTC: it must have a date there)
            instant.astimezone(dt.timezone.utc)
        except OverflowError:
            raise InvalidInput(f"{name}: midnight of '{value}' in {zone.key} falls outside the calendar "
                               f"(years 1 to 9999) in UTC", path=(name,)) from None
        return instant, zone.key
    if not _ZONED_TEXT.search(value.strip()):
        raise InvalidInput(f"{name}: '{value}' is neither a date (YYYY-MM-DD) nor a date-time with its offset "
                           f"(e.g. 2026-06-01T00:00:00Z)", path=(name,))
    try:
        parsed = parse_instant(value)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}", path=(name,)) from None
    assert isinstance(parsed, dt.datetime)  # parse_instant makes a date-time of every text
    return parsed, None


def _counted_by(uow: UnitOfWork, billing_account: list[str] | None, product: list[str] | None) -> set[str]:
    """The ids of the rule sets whose accumulators hold totals of the asked products (and of
    the products whose charges the asked accounts pay)."""
    products = set(product or [])
    if billing_account:
        products |= {r["subscriber"] for r in uow.charges.totals(billing_accounts=billing_account,
                                                                  by=("subscriber",))}
    return {a.accumulator.rsplit("/", 1)[0] for p in sorted(products) for a in uow.usages.accumulators(p)}


def aggregated_usage(uow: UnitOfWork, runtimes: RuntimeCache, billing_account: list[str] | None,
                     product: list[str] | None, start: str | None, end: str | None, by: list[str]) -> dict[str, Any]:
    """What rated usage comes to so far for payers or products over [start, end): totals
    per currency (and per ``by``: service, billingAccount, product, payerRole), exactly, with
    the volume rated per unit. A plain date means midnight where the accumulators count
    (:func:`accounting_zone`): a month asked with dates is the month they total."""
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
    plain_dates = any(v and _PLAIN_DATE.match(v) for v in (start, end))
    rules = runtimes.get(uow).rules if plain_dates else RuleBook()
    counted_by = _counted_by(uow, billing_account, product) if plain_dates else set()
    (since, since_zone) = _period(start, "start", rules, counted_by)
    (until, until_zone) = _period(end, "end", rules, counted_by)
    if since is not None and until is not None and until <= since:
        raise InvalidInput(f"end ({end}) must come after start ({start}): the window is [start, end)", path=("end",))
    grouping = [columns[b] for b in by]
    rows = uow.charges.totals(billing_accounts=billing_account, subscribers=product, start=since, end=until,
                              by=grouping)
    volumes: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for v in uow.charges.volumes(billing_accounts=billing_account, subscribers=product, start=since, end=until,
                                 by=grouping):
        key = tuple(v[c] for c in ("currency", *grouping))
        volumes.setdefault(key, []).append({"unit": v["unit"], "value": quantity(v["volume"])})
    names = {v: k for k, v in columns.items()}
    zone = since_zone or until_zone
    return {"billingAccount": billing_account or [], "product": product or [],
            "period": {"startDateTime": start, "endDateTime": end, **({"timeZone": zone} if zone else {})},
            "total": [{"unit": r["currency"], "value": money(r["amount"], r["currency"]), "count": r["count"],
                       **{names[c]: r[c] for c in r if c in names},
                       **({"volume": found} if (found := volumes.get(tuple(r[c] for c in ("currency", *grouping))))
                          else {})} for r in rows],
            "@type": "AggregatedUsage"}


def list_accumulators(uow: UnitOfWork, product: str) -> list[dict[str, Any]]:
    """The running totals of a product, every period, with the thresholds reached."""
    return [{"accumulator": a.accumulator, "subscriber": a.subscription, "period": a.period,
             "volume": quantity(a.volume), "amount": plain(a.amount), "reached": list(a.reached), "id": a.id} for a in uow.usages.accumulators(product)]


# the bucket use cases, where the HTTP layer and older callers look for them
from bssrules.services.buckets import (  # noqa: E402
    BUCKET_API, BUCKET_FIELDS, create_bucket, delete_bucket, delete_usage_consumption, get_bucket,
    get_usage_consumption, list_buckets, list_usage_consumptions, query_usage_consumption, render_bucket,
)

__all__ = ["BUCKET_API", "BUCKET_FIELDS", "create_bucket", "delete_bucket", "get_bucket", "list_buckets",
           "query_usage_consumption", "get_usage_consumption", "list_usage_consumptions", "delete_usage_consumption",
           "render_bucket", "create_usage", "create_usages", "get_usage", "list_usage",
           "aggregated_usage", "list_accumulators", "create_usage_texts", "record_of", "subscriber_of", "usage_instant", "inactive",
           "split_billing_for", "render_usage"]
