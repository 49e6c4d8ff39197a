"""Rating: usage records in, rated or rejected records out, with the state passed explicitly.

``rate_records(records, subscribers, book, state)`` is a pure function of its arguments:
rating holds nothing between calls, so a chunk of subscribers can be rated anywhere and its
new balances and accumulators handed back. It decides on the rule engine (durable-rules)
and is the reference the bulk path (:mod:`bssrules.pricing.bulk`) is tested against.

For each record, in the order (subscriber, start, id):

1. the usage rule sets in force at the record's start decide it; the first (by id) that
   rates it gives the rate; otherwise it is rejected with the reasons of the catalogs whose
   rates spoke of it (prerequisite unmet, catalog not for this subscriber) or
   ``noApplicableRate``;
2. an accumulator that counts the record and has reached a ``block`` threshold rejects it;
   one that has reached a ``changeRate`` threshold replaces the rate;
3. a ``block`` threshold with ``crossing: rateUpToCap`` (not reached yet) that the record's
   volume would take past ``at`` (``measure: volume``) cuts the record to the part that takes
   the total exactly to ``at`` (the smallest headroom of all such thresholds wins);
4. unit buckets that serve the record take what they can of its volume (of the part up to
   the cap), by precedence (volumes convert exactly between units of a kind: 1 GB = 1000 MB;
   a record whose unit cannot be converted to the rate's is rejected ``unitMismatch``);
5. the rest of the volume is charged at the rate, rounded half-up to the minor unit (tiers
   that count a period total price it on top of their accumulator's total before the record
   and the part buckets served: :func:`_tier_position`); a
   ``rateUpToCap`` threshold of ``measure: amount`` that the charge would take past ``at``
   cuts the charged volume to the largest part whose charge before rounding fits the
   headroom, rounded down to the minor unit (:func:`bssrules.pricing.caps.affordable`).
   The part cut off is the record's ``refused_volume``, with the threshold's reason; a
   record left with nothing to rate is rejected with it, as a reached ``block`` threshold
   rejects;
6. when the subscriber has money buckets for the currency (prepaid), they must cover the
   charge, down to their floors, else the record is rejected (``insufficientBalance``)
   and takes nothing; otherwise the charge is billed;
7. the accumulators that count the record add its (rated) volume or charge; a threshold
   crossed raises an event, and so does the cap the record was cut to, reached whatever
   the total (an amount cap may stop short of ``at`` by less than one step of volume);
8. the billed part goes to billing accounts by the subscription's split billing rule set
   (a payer role, or shares split to the cent); a role without an account rejects the
   record (``noBillingAccount``), as does a split billing rule set that names no payer
   (``noPayer``) or has no version in force (``noSplitBilling``); the record then takes
   nothing.

A rejected record is kept with its reasons, never dropped.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping, TypedDict

from bssrules.errors import InvalidInput, NotFound
from bssrules.money import Money, allocate, quantum
from bssrules.pricing.caps import affordable, cap_of, down_in
from bssrules.pricing.rates import exact_charge
from bssrules.pricing.units import convert
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, Charge, Event, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.rules.book import RuleBook
from bssrules.rules.compiled import CompiledRuleSet
from bssrules.rules.decision_cache import memo_of
from bssrules.rules.decisions import cache_size, decide_values, fact_values
from bssrules.rules.facts import FactError, typed_value
from bssrules.rules.model import Accumulator, Rate, UsageRule, UsageRuleSet

DEFAULT_PAYER = "payer"
MAX_VOLUME = 10**12  # one record: a terabyte in bytes, 30,000 years in seconds
MAX_AMOUNT = Decimal(10**12)  # one charge, in the currency's major unit


def period_of(instant: dt.datetime, compiled: CompiledRuleSet, period: str) -> str:
    """The accumulation period an instant falls in, in the rule set's time zone."""
    local = instant.astimezone(compiled.zone)
    return local.strftime("%Y-%m") if period == "month" else local.strftime("%Y-%m-%d")


def _rejected(record: UsageRecord, code: str, label: str, **extra: Any) -> RatedUsage:
    return RatedUsage(record, "rejected", ({"code": code, "label": label},), **extra)


def malformed(record: UsageRecord) -> str | None:
    """Why a record cannot be rated whatever the rules say, if it cannot."""
    start, volume = record.start, record.volume
    if not isinstance(start, dt.datetime):
        return f"the usage start must be a date-time, got {start!r}"
    if start.utcoffset() is None:
        return "the usage start has no time zone"
    if isinstance(volume, bool) or not isinstance(volume, (Decimal, int)) \
            or not Decimal(volume).is_finite() or volume < 0:
        return f"the volume must be a number of at least 0, got {volume}"
    if volume > MAX_VOLUME:
        return f"the volume {volume} is beyond what one record can hold (at most {MAX_VOLUME:,})"
    if not isinstance(record.service, str) or not record.service:
        return f"the usage service must be a non-empty text, got {record.service!r}"
    for name in ("unit", "type", "country"):
        value = getattr(record, name)
        if value is not None and not isinstance(value, str):
            return f"the usage {name} must be a text, got {value!r}"
    if record.roaming is not None and not isinstance(record.roaming, bool):
        return f"the usage roaming flag must be true or false, got {record.roaming!r}"
    return None


def rating_order(record: UsageRecord) -> tuple[Any, ...]:
    """The order records are rated in: (subscriber, start, id). A malformed start (naive, or
    not a date-time) sorts after the well-formed ones of its subscriber instead of failing
    the comparison; the record's text breaks ties between records sharing an id, so that the
    order never depends on the order of the input."""
    return (*_order_head(record), repr(record))


def _order_head(record: UsageRecord) -> tuple[Any, ...]:
    """:func:`rating_order` without the record's text, which only breaks ties between
    records that share (subscriber, start, id)."""
    start = record.start
    well_formed = isinstance(start, dt.datetime) and start.utcoffset() is not None
    when = (0, start) if well_formed else (1, repr(start))
    return (record.subscriber, when, record.id)


def in_rating_order(records: Iterable[UsageRecord]) -> list[UsageRecord]:
    """The records sorted by :func:`rating_order`; the text of each record (its ``repr``:
    a few microseconds) is made only when two records share the rest of the key."""
    records = list(records)
    heads = [_order_head(r) for r in records]
    try:
        unique = len(set(heads)) == len(heads)
    except TypeError:  # (an unhashable subscriber or id: the full order decides)
        unique = False
    if not unique:
        return sorted(records, key=rating_order)
    order = sorted(range(len(records)), key=heads.__getitem__)
    return [records[i] for i in order]


def usage_rule_set_versions(book: RuleBook) -> list[list[CompiledRuleSet]]:
    """The versions of each usage rule set of ``book``, rule sets by id: what
    :func:`usage_rule_sets` looks through (made once for a batch of records)."""
    found = [[c for c in book.versions[rule_set_id] if c.kind == "usage"] for rule_set_id in sorted(book.versions)]
    return [versions for versions in found if versions]


def usage_rule_sets(book: RuleBook, at: dt.datetime,
                    versions: list[list[CompiledRuleSet]] | None = None) -> list[CompiledRuleSet]:
    """The usage rule sets in force at ``at``, by id (``versions``: those of
    :func:`usage_rule_set_versions`, when made already)."""
    found = []
    for candidates in usage_rule_set_versions(book) if versions is None else versions:
        in_force = [c for c in candidates if c.definition.valid_for.contains(at)]
        if in_force:
            found.append(in_force[-1])
    return found


# no zone is a day from UTC: a start between these has a date in every zone
CALENDAR_SAFE_FROM = dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc)
CALENDAR_SAFE_UNTIL = dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)


def outside_calendar(book: RuleBook, start: dt.datetime, found: list[CompiledRuleSet] | None = None) -> str | None:
    """Why ``start`` has no date in the time zone of a usage rule set in force then (``found``:
    those rule sets, when looked up already), if it has none — within a day of the calendar's
    ends, years 1 to 9999: 0001-01-01T00:30:00Z is the year 0 in New York. Such a record is
    malformed on every path (online, this function, bulk). A start more than a day from the
    ends has a date in every zone: answered at once."""
    if CALENDAR_SAFE_FROM <= start < CALENDAR_SAFE_UNTIL:
        return None
    for compiled in usage_rule_sets(book, start) if found is None else found:
        try:
            start.astimezone(compiled.zone)
        except OverflowError:
            return (f"falls outside the calendar (years 1 to 9999) in the time zone of rule set "
                    f"'{compiled.id}' ({compiled.zone.key})")
    return None


def outside_calendar_reason(book: RuleBook, start: dt.datetime) -> str | None:
    """:func:`outside_calendar` as a record's reason (online words it with the usageDate sent)."""
    outside = outside_calendar(book, start)
    return None if outside is None else f"the usage start {start.isoformat().replace('+00:00', 'Z')} {outside}"


def _facts(record: UsageRecord, subscriber: Subscriber) -> dict[str, Any]:
    """What the usage rule sets see of a record: the usage (with the subscription's offering),
    the party and its inventory, and ``now`` = the usage's start."""
    usage = record.facts()
    if subscriber.offering:
        usage["offering"] = subscriber.offering
    return {**subscriber.facts(), "usage": usage, "now": record.start}


_NO_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _typed(record: UsageRecord, subscriber: Subscriber) -> dict[str, Any]:
    """:func:`fact_values` of :func:`_facts`, the subscriber's part typed once per subscriber
    object (kept on it: a worker's cached subscriber types its party and inventory once,
    not once per record) and the record's part per record."""
    values = dict(_subscriber_values(subscriber))
    # The record's attributes as typed_value types them. The record passed :func:`malformed`
    # (rate_records checks each one first): its start is an aware date-time, its volume a
    # finite number, its texts texts and its roaming flag a bool, which typed_value hands back
    # as they are (a volume as a Decimal) — so they are set here without it (its checks cost
    # as much as deciding a record whose decision is cached).
    start, volume = record.start, record.volume
    values["usage.service"] = record.service
    values["usage.start"] = start
    values["usage.volume"] = volume if type(volume) is Decimal else Decimal(volume)
    for attribute, value in (("usage.unit", record.unit), ("usage.type", record.type),
                             ("usage.roaming", record.roaming), ("usage.country", record.country)):
        if value is not None:
            values[attribute] = value
    if subscriber.offering:
        values["usage.offering"] = _typed_value("usage.offering", subscriber.offering)
    values["now"] = start
    return values


def _typed_value(attribute: str, value: Any) -> Any:
    try:
        return typed_value(attribute, value)
    except FactError as exc:  # as fact_values says it
        raise InvalidInput(str(exc), path=tuple(exc.attribute.split("."))) from None


def _subscriber_values(subscriber: Subscriber) -> dict[str, Any]:
    """:func:`fact_values` of the subscriber's facts (without ``now``), made once per object."""
    shared = subscriber.typed
    if shared is None:
        shared = fact_values(subscriber.facts(), _NO_TIME)  # (``now`` is each record's)
        del shared["now"]
        object.__setattr__(subscriber, "typed", shared)  # a cache of a frozen value's own facts
    return shared


def _decisions(records: list[UsageRecord], subscribers: Mapping[str, Subscriber], book: RuleBook
               ) -> list[list[tuple[CompiledRuleSet, Mapping[str, Any]]]]:
    """Each record's outcome under each usage rule set in force at its start (one engine
    call per rule set version, for the records whose decision the rule set's cache lacks).
    A record's facts are typed once, whatever the number of rule sets that decide it."""
    per_record: list[list[tuple[CompiledRuleSet, Mapping[str, Any]]]] = [[] for _ in records]
    groups: dict[int, tuple[CompiledRuleSet, list[int]]] = {}
    versions = usage_rule_set_versions(book)
    for index, record in enumerate(records):
        for compiled in usage_rule_sets(book, record.start, versions):
            groups.setdefault(id(compiled), (compiled, []))[1].append(index)
    typed: dict[int, dict[str, Any]] = {}
    for compiled, indexes in groups.values():
        for i in indexes:
            if i not in typed:
                typed[i] = _typed(records[i], subscribers[records[i].subscriber])
        for i, outcome in zip(indexes, _outcomes(compiled, [typed[i] for i in indexes])):
            per_record[i].append((compiled, outcome))
    for outcomes in per_record:
        outcomes.sort(key=lambda pair: pair[0].id)
    return per_record


def _outcomes(compiled: CompiledRuleSet, values: list[dict[str, Any]]) -> list[Mapping[str, Any]]:
    """The outcomes :func:`decide_values` gives (without explanation), those the rule set's
    decision cache holds read in place instead of copied: rating only reads an outcome, and
    copies what it keeps of one (the reasons of a rejection)."""
    if cache_size() == 0:
        return [d.outcome for d in decide_values(compiled, values, {}, with_trace=False)]
    memo = memo_of(compiled, cache_size())
    found = [memo.get(memo.projection.key(v)) for v in values]
    missing = [i for i, decision in enumerate(found) if decision is None]
    if missing:  # decided (and remembered) as decide_values does
        for i, decision in zip(missing, decide_values(compiled, [values[i] for i in missing], {}, with_trace=False)):
            found[i] = decision
    return [d.outcome for d in found if d is not None]


def _buckets_of(buckets: Mapping[str, Bucket]) -> dict[str, list[Bucket]]:
    by_subscriber: dict[str, list[Bucket]] = {}
    for bucket in buckets.values():
        by_subscriber.setdefault(bucket.subscriber, []).append(bucket)
    return by_subscriber


def rate_records(records: Iterable[UsageRecord], subscribers: Mapping[str, Subscriber], book: RuleBook,
                 state: RatingState = RatingState()) -> tuple[list[RatedUsage], RatingState]:
    """Rate records against the rule book; returns the results (in rating order) and the
    new state. ``state`` is not changed."""
    ordered = in_rating_order(records)
    results: list[RatedUsage | None] = [None] * len(ordered)
    rateable = []
    for index, record in enumerate(ordered):
        problem = malformed(record) or outside_calendar_reason(book, record.start)
        if problem:
            results[index] = _rejected(record, "malformed", problem)
        elif record.subscriber not in subscribers:
            results[index] = _rejected(record, "unknownSubscriber",
                                       f"no subscription '{record.subscriber}' is known to rating")
        else:
            rateable.append(index)
    decisions = _decisions([ordered[i] for i in rateable], subscribers, book)
    buckets = dict(state.buckets)
    totals = dict(state.accumulators)
    by_subscriber = _buckets_of(buckets)
    for index, outcomes in zip(rateable, decisions):
        record = ordered[index]
        result = _rate_one(record, subscribers[record.subscriber], outcomes, book, by_subscriber, totals)
        if result.status == "rated":
            for bucket_id, taken in result.buckets:
                b = buckets[bucket_id]  # (made directly: dataclasses.replace costs as much as rating a step)
                buckets[bucket_id] = Bucket(b.id, b.subscriber, b.unit, b.remaining - taken, b.precedence, b.services,
                                            b.valid_from, b.valid_to, b.floor)
            by_subscriber[record.subscriber] = [buckets[b.id] for b in by_subscriber.get(record.subscriber, [])]
        results[index] = result
    return [r for r in results if r is not None], RatingState(buckets, totals)


class _Rule(TypedDict):
    """The fields of a RatedUsage that say which rule rated the record, at what currency."""

    rule_set: str
    rule: str
    provisioning_id: str | None
    currency: str


def _rate_one(record: UsageRecord, subscriber: Subscriber, outcomes: list[tuple[CompiledRuleSet, Mapping[str, Any]]],
              book: RuleBook, by_subscriber: dict[str, list[Bucket]],
              totals: dict[AccumulatorKey, AccumulatorTotal]) -> RatedUsage:
    rated = next(((c, o) for c, o in outcomes if o["status"] == "rated"), None)
    if rated is None:
        # (copies: an outcome may be the decision cache's own)
        reasons = tuple(dict(r) for _, o in outcomes if "matchedRule" in o for r in o["reasons"])
        # "this catalog is not for you" says less than a prerequisite another catalog missed
        if any(r["code"] != "notApplicable" for r in reasons):
            reasons = tuple(r for r in reasons if r["code"] != "notApplicable")
        if not reasons:
            reasons = ({"code": "noApplicableRate", "label": "no usage catalog has a rate for this usage"},)
        return RatedUsage(record, "rejected", reasons)
    compiled, outcome = rated
    definition = compiled.definition
    assert isinstance(definition, UsageRuleSet)  # only usage rule sets rate (usage_rule_sets)
    rule: UsageRule = compiled.by_key()[outcome["rule"]].source
    rate: Rate = rule.rate
    counted_in = rule.rate.per  # accumulators count volume in the rule's unit, whatever the rate becomes
    base: _Rule = {"rule_set": compiled.id, "rule": rule.id, "provisioning_id": rule.provisioning_id,
                   "currency": rate.currency}

    counting: list[tuple[Accumulator, AccumulatorKey]] = []
    accumulators = {a.id: a for a in definition.accumulators}
    for accumulator_id in outcome.get("accumulators", []):
        accumulator = accumulators[accumulator_id]
        key = AccumulatorKey(f"{compiled.id}/{accumulator.id}", record.subscriber,
                             period_of(record.start, compiled, accumulator.period))
        counting.append((accumulator, key))
        reached = totals.get(key, AccumulatorTotal()).reached
        for threshold in accumulator.thresholds:
            if threshold.id not in reached:
                continue
            if threshold.action == "block" and threshold.reason is not None:
                return RatedUsage(record, "rejected", ({"code": threshold.reason.code, "label": threshold.reason.label,
                                                        "threshold": f"{key.accumulator}/{threshold.id}"},), **base)
            if threshold.action == "changeRate" and threshold.rate is not None:
                rate = threshold.rate
                base["currency"] = rate.currency

    # The record's volume is in its own unit (the rate's when it names none); unit buckets and
    # the rate take it converted exactly (1 GB = 1000 MB), and a unit of another kind is refused.
    unit = record.unit or rate.per
    if convert(Decimal(1), unit, rate.per) is None:
        return RatedUsage(record, "rejected", ({"code": "unitMismatch",
                                                "label": f"the usage is in {unit} and the rate is per {rate.per}"},),
                          **base)
    # caps on the volume first: the buckets and the rate see the part up to the cap only
    counted_in_full = _in(record.volume, unit, counted_in)
    volume_cap = cap_of(counting, totals, "volume", counted_in_full)
    limit = record.volume if volume_cap is None else down_in(volume_cap.headroom, counted_in, unit)
    own = sorted(by_subscriber.get(record.subscriber, []), key=Bucket.order)
    taken: list[tuple[str, Decimal]] = []
    left = limit
    for bucket in own:
        if left <= 0:
            break
        if bucket.is_money or not bucket.serves(record.service, bucket.unit, record.start) or bucket.remaining <= 0:
            continue
        available = convert(bucket.remaining, bucket.unit, unit)
        if available is None:
            continue
        take = min(available, left)
        # a bucket used up gives exactly what it held, never a rounding's dust
        if take == available:
            taken.append((bucket.id, bucket.remaining))
        else:
            back = convert(take, unit, bucket.unit)
            assert back is not None  # bucket.unit converts to unit (available above), so unit converts back
            taken.append((bucket.id, back))
        left -= take
    covered = limit - left
    rated_volume = convert(left, unit, rate.per)
    assert rated_volume is not None  # checked above: unit converts to rate.per
    position = _tier_position(rate, definition, compiled, record, totals, counted_in, unit, covered)
    amount = _charge(rate, rated_volume, position)
    # then caps on the charge: the largest part whose charge fits what is left below them
    amount_cap = cap_of(counting, totals, "amount", amount)
    if amount_cap is not None:
        left = affordable(rate, unit, left, amount_cap.headroom.quantize(quantum(rate.currency), ROUND_DOWN),
                          position)
        rated_volume = convert(left, unit, rate.per)
        assert rated_volume is not None
        amount = _charge(rate, rated_volume, position)
    cap = amount_cap or volume_cap
    refused = Decimal(0) if cap is None else record.volume - (covered + left)
    if cap is not None and covered + left <= 0:
        return RatedUsage(record, "rejected", (cap.reason,), **base)
    if amount > MAX_AMOUNT:
        return RatedUsage(record, "rejected", ({"code": "amountTooLarge",
                                                "label": f"the charge {amount} {rate.currency} is beyond what one "
                                                         f"record may cost ({MAX_AMOUNT:,})"},), **base)

    money = [b for b in own if b.is_money and b.unit == rate.currency and b.serves(record.service, None, record.start)]
    prepaid = Decimal(0)
    if money:
        due = amount
        for bucket in money:
            if due <= 0:
                break
            available = due if bucket.floor is None else max(bucket.remaining - bucket.floor, Decimal(0))
            take = min(available, due)
            if take > 0:
                taken.append((bucket.id, take))
                due -= take
        if due > 0:
            return RatedUsage(record, "rejected", ({"code": "insufficientBalance",
                                                    "label": f"the prepaid balance cannot cover {amount} {rate.currency}"},),
                              **base)
        prepaid = amount

    payable = amount - prepaid
    charges: tuple[Charge, ...] = ()
    if payable > 0:
        assigned = _assign(record, subscriber, payable, rate.currency, book)
        if isinstance(assigned, dict):
            return RatedUsage(record, "rejected", (assigned,), **base)
        charges = assigned

    # a volume cap takes its accumulators exactly to ``at``; an amount cap is reached even when
    # the charge stops short of it (nothing more fits)
    if cap is None:
        counted = counted_in_full
    elif cap is volume_cap:
        counted = cap.headroom
    else:
        counted = _in(covered + left, unit, counted_in)
    forced: set[tuple[str, str]] = set(cap.binding) if cap is not None else set()
    events = []
    for accumulator, key in counting:
        before = totals.get(key, AccumulatorTotal())
        after_volume, after_amount = before.volume + counted, before.amount + amount
        value = after_volume if accumulator.measure == "volume" else after_amount
        now_reached = list(before.reached)
        for threshold in accumulator.thresholds:
            if threshold.id not in now_reached and (value >= threshold.at
                                                    or (key.accumulator, threshold.id) in forced):
                now_reached.append(threshold.id)
                events.append(Event("thresholdReached", key.accumulator, threshold.id, threshold.action,
                                    record.subscriber, key.period, value, record.id))
        totals[key] = AccumulatorTotal(after_volume, after_amount, tuple(now_reached))
    return RatedUsage(record, "rated", (cap.reason,) if cap is not None and refused > 0 else (),
                      rated_volume=rated_volume, amount=amount, prepaid=prepaid, charges=charges,
                      buckets=tuple(taken), events=tuple(events), refused_volume=refused, **base)


def _charge(rate: Rate, volume: Decimal, position: Decimal) -> Decimal:
    """:func:`bssrules.pricing.rates.charge` (half-up to the currency's minor unit), without
    the two Money values it makes on the way: the same quantize of the same exact charge. A
    charge far beyond :data:`MAX_AMOUNT` is given exact, unrounded: its digits to the cent may
    exceed the decimal context's precision (quantize raises), and the record is refused for
    its size all the same (``amountTooLarge``)."""
    exact = exact_charge(rate, volume, position)
    if exact.is_finite() and exact.adjusted() > _BEYOND_ANY_CHARGE:
        return exact
    return exact.quantize(_quantum(rate.currency), rounding=ROUND_HALF_UP)


_BEYOND_ANY_CHARGE = MAX_AMOUNT.adjusted() + 3  # digits before the point of a charge no record may have


_QUANTA: dict[str, Decimal] = {}


def _quantum(currency: str) -> Decimal:
    found = _QUANTA.get(currency)
    if found is None:
        found = _QUANTA[currency] = quantum(currency)
    return found


def _tier_position(rate: Rate, definition: UsageRuleSet, compiled: CompiledRuleSet, record: UsageRecord,
                   totals: Mapping[AccumulatorKey, AccumulatorTotal], counted_in: str, unit: str, covered: Decimal
                   ) -> Decimal:
    """Where the rate's tiers start for the charged part of the record, in the rate's unit: 0
    when they count the record alone; else the period total of their accumulator before the
    record (counted in the rule's unit) and the part unit buckets served first — the accumulator
    counts those units too. An accumulator the rule set does not have (the lint refuses it)
    counts nothing."""
    name = rate.period_tiers
    if name is None:
        return Decimal(0)
    accumulator = next((a for a in definition.accumulators if a.id == name), None)
    if accumulator is None:
        return Decimal(0)
    key = AccumulatorKey(f"{compiled.id}/{accumulator.id}", record.subscriber,
                         period_of(record.start, compiled, accumulator.period))
    before = totals.get(key, AccumulatorTotal()).volume
    served = convert(covered, unit, rate.per)
    assert served is not None  # the record's unit converts to the rate's (checked before)
    return _in(before, counted_in, rate.per) + served


def _in(volume: Decimal, unit: str, to: str) -> Decimal:
    """``volume`` in ``to`` when it converts, else as it is (an accumulator of another kind of unit)."""
    converted = convert(volume, unit, to)
    return volume if converted is None else converted


def _assign(record: UsageRecord, subscriber: Subscriber, payable: Decimal, currency: str, book: RuleBook
            ) -> tuple[Charge, ...] | dict[str, str]:
    """The billed part of a charge per payer, or the reason it cannot be assigned."""
    parts: list[tuple[str, Any]] = [(DEFAULT_PAYER, 1)]
    if subscriber.split_billing:
        try:
            compiled = book.in_force(subscriber.split_billing, record.start)
        except (NotFound, InvalidInput):
            compiled = None
        if compiled is None or compiled.kind != "splitBilling":
            # one subscription's setup must not stop the chunk (the bulk path says the same)
            return {"code": "noSplitBilling", "label": f"no version of split billing rule set "
                                                       f"'{subscriber.split_billing}' is in force at the start of "
                                                       f"this usage"}
        charge_facts: dict[str, Any] = {"type": "usage", "service": record.service, "amount": payable,
                                        "currency": currency}
        if record.type:
            charge_facts["usageType"] = record.type
        if subscriber.offering:
            charge_facts["offering"] = subscriber.offering
        # the subscriber's facts typed once (:func:`_subscriber_values`), the charge's per record
        outcome = decide_values(compiled, [fact_values({"charge": charge_facts, "now": record.start})],
                                _subscriber_values(subscriber), with_trace=False)[0].outcome
        if outcome["payer"] is None:
            return {"code": "noPayer", "label": f"split billing {compiled.id} names no payer for this charge"}
        parts = [(s["payer"], s["weight"]) for s in outcome["shares"]] if "shares" in outcome \
            else [(outcome["payer"], 1)]
    elif DEFAULT_PAYER not in subscriber.payers and len(set(subscriber.payers.values())) == 1:
        parts = [(next(iter(subscriber.payers)), 1)]
    missing = [role for role, _ in parts if role not in subscriber.payers]
    if missing:
        return {"code": "noBillingAccount",
                "label": f"no billing account for the payer role '{missing[0]}' of subscription {subscriber.id}"}
    amounts = allocate(Money(payable, currency), [w for _, w in parts])
    return tuple(Charge(role, subscriber.payers[role], m.amount) for (role, _), m in zip(parts, amounts))


__all__ = ["rate_records", "period_of", "usage_rule_sets", "malformed", "rating_order", "DEFAULT_PAYER"]
