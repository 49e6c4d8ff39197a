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
3. unit buckets that serve the record take what they can of its volume, by precedence;
4. the rest of the volume is charged at the rate, rounded half-up to the minor unit;
5. when the subscriber has money buckets for the currency (prepaid), they must cover the
   charge, down to their floors, else the record is rejected (``insufficientBalance``)
   and takes nothing; otherwise the charge is billed;
6. the accumulators that count the record add its volume or charge; a threshold crossed
   raises an event;
7. the billed part goes to billing accounts by the subscription's split billing rule set
   (a payer role, or shares split to the cent); a role without an account rejects the
   record (``noBillingAccount``), which then takes nothing.

A rejected record is kept with its reasons, never dropped.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any, Iterable, Mapping

from bssrules.money import Money, allocate
from bssrules.pricing.rates import charge
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, Charge, Event, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.rules.compiled import CompiledRuleSet
from bssrules.rules.decisions import decide, decide_many
from bssrules.rules.loader import RuleBook
from bssrules.rules.model import Accumulator, Rate, UsageRuleSet

DEFAULT_PAYER = "payer"


def period_of(instant: dt.datetime, compiled: CompiledRuleSet, period: str) -> str:
    """The accumulation period an instant falls in, in the rule set's time zone."""
    local = instant.astimezone(compiled.zone)
    return local.strftime("%Y-%m") if period == "month" else local.strftime("%Y-%m-%d")


def _rejected(record: UsageRecord, code: str, label: str, **extra: Any) -> RatedUsage:
    return RatedUsage(record, "rejected", ({"code": code, "label": label},), **extra)


def malformed(record: UsageRecord) -> str | None:
    """Why a record cannot be rated whatever the rules say, if it cannot."""
    if record.start.tzinfo is None:
        return "the usage start has no time zone"
    if not record.volume.is_finite() or record.volume < 0:
        return f"the volume must be a number of at least 0, got {record.volume}"
    return None


def usage_rule_sets(book: RuleBook, at: dt.datetime) -> list[CompiledRuleSet]:
    """The usage rule sets in force at ``at``, by id."""
    found = []
    for rule_set_id in sorted(book.versions):
        versions = [c for c in book.versions[rule_set_id]
                    if c.kind == "usage" and c.definition.valid_for.contains(at)]
        if versions:
            found.append(versions[-1])
    return found


def _decisions(records: list[UsageRecord], subscribers: Mapping[str, Subscriber], book: RuleBook
               ) -> list[list[tuple[CompiledRuleSet, dict[str, Any]]]]:
    """Each record's outcome under each usage rule set in force at its start (one engine
    call per rule set version)."""
    per_record: list[list[tuple[CompiledRuleSet, dict[str, Any]]]] = [[] for _ in records]
    groups: dict[int, tuple[CompiledRuleSet, list[int]]] = {}
    for index, record in enumerate(records):
        for compiled in usage_rule_sets(book, record.start):
            groups.setdefault(id(compiled), (compiled, []))[1].append(index)
    for compiled, indexes in groups.values():
        facts = [{**subscribers[records[i].subscriber].facts(), "usage": records[i].facts(), "now": records[i].start}
                 for i in indexes]
        for i, decision in zip(indexes, decide_many(compiled, facts, with_trace=False)):
            per_record[i].append((compiled, decision.outcome))
    for outcomes in per_record:
        outcomes.sort(key=lambda pair: pair[0].id)
    return per_record


def _buckets_of(buckets: Mapping[str, Bucket]) -> dict[str, list[Bucket]]:
    by_subscriber: dict[str, list[Bucket]] = {}
    for bucket in buckets.values():
        by_subscriber.setdefault(bucket.subscriber, []).append(bucket)
    return by_subscriber


def rate_records(records: Iterable[UsageRecord], subscribers: Mapping[str, Subscriber], book: RuleBook,
                 state: RatingState = RatingState()) -> tuple[list[RatedUsage], RatingState]:
    """Rate records against the rule book; returns the results (in rating order) and the
    new state. ``state`` is not changed."""
    ordered = sorted(records, key=lambda r: (r.subscriber, r.start, r.id))
    results: list[RatedUsage | None] = [None] * len(ordered)
    rateable = []
    for index, record in enumerate(ordered):
        problem = malformed(record)
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
                bucket = buckets[bucket_id]
                buckets[bucket_id] = replace(bucket, remaining=bucket.remaining - taken)
            by_subscriber[record.subscriber] = [buckets[b.id] for b in by_subscriber.get(record.subscriber, [])]
        results[index] = result
    return [r for r in results if r is not None], RatingState(buckets, totals)


def _rate_one(record: UsageRecord, subscriber: Subscriber, outcomes: list[tuple[CompiledRuleSet, dict[str, Any]]],
              book: RuleBook, by_subscriber: dict[str, list[Bucket]],
              totals: dict[AccumulatorKey, AccumulatorTotal]) -> RatedUsage:
    rated = next(((c, o) for c, o in outcomes if o["status"] == "rated"), None)
    if rated is None:
        reasons = tuple(r for _, o in outcomes if "matchedRule" in o for r in o["reasons"])
        # "this catalog is not for you" says less than a prerequisite another catalog missed
        if any(r["code"] != "notApplicable" for r in reasons):
            reasons = tuple(r for r in reasons if r["code"] != "notApplicable")
        if not reasons:
            reasons = ({"code": "noApplicableRate", "label": "no usage catalog has a rate for this usage"},)
        return RatedUsage(record, "rejected", reasons)
    compiled, outcome = rated
    definition: UsageRuleSet = compiled.definition  # type: ignore[assignment]
    rule = compiled.by_key()[outcome["rule"]].source
    rate: Rate = rule.rate
    base = {"rule_set": compiled.id, "rule": rule.id, "provisioning_id": rule.provisioning_id,
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

    own = sorted(by_subscriber.get(record.subscriber, []), key=Bucket.order)
    taken: list[tuple[str, Decimal]] = []
    left = record.volume
    for bucket in own:
        if left <= 0:
            break
        if bucket.is_money or not bucket.serves(record.service, record.unit, record.start) or bucket.remaining <= 0:
            continue
        take = min(bucket.remaining, left)
        taken.append((bucket.id, take))
        left -= take
    rated_volume = left
    amount = charge(rate, rated_volume)

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

    events = []
    for accumulator, key in counting:
        before = totals.get(key, AccumulatorTotal())
        after_volume, after_amount = before.volume + record.volume, before.amount + amount
        value = after_volume if accumulator.measure == "volume" else after_amount
        reached = list(before.reached)
        for threshold in accumulator.thresholds:
            if threshold.id not in reached and value >= threshold.at:
                reached.append(threshold.id)
                events.append(Event("thresholdReached", key.accumulator, threshold.id, threshold.action,
                                    record.subscriber, key.period, value, record.id))
        totals[key] = AccumulatorTotal(after_volume, after_amount, tuple(reached))
    return RatedUsage(record, "rated", (), rated_volume=rated_volume, amount=amount, prepaid=prepaid,
                      charges=charges, buckets=tuple(taken), events=tuple(events), **base)


def _assign(record: UsageRecord, subscriber: Subscriber, payable: Decimal, currency: str, book: RuleBook
            ) -> tuple[Charge, ...] | dict[str, str]:
    """The billed part of a charge per payer, or the reason it cannot be assigned."""
    parts: list[tuple[str, Any]] = [(DEFAULT_PAYER, 1)]
    if subscriber.split_billing:
        compiled = book.in_force(subscriber.split_billing, record.start)
        charge_facts: dict[str, Any] = {"type": "usage", "service": record.service, "amount": payable,
                                        "currency": currency}
        if record.type:
            charge_facts["usageType"] = record.type
        if subscriber.offering:
            charge_facts["offering"] = subscriber.offering
        outcome = decide(compiled, {**subscriber.facts(), "charge": charge_facts, "now": record.start},
                         with_trace=False).outcome
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


__all__ = ["rate_records", "period_of", "usage_rule_sets", "malformed", "DEFAULT_PAYER"]
