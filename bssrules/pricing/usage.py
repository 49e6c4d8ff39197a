"""The values rating works on: usage records, subscribers, buckets, accumulator totals,
and what rating makes of a record.

They are plain frozen values so that a chunk of records, its subscribers and the state
(buckets, accumulators) can be handed to any worker and the new state handed back:
rating holds nothing between calls.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from bssrules.frozen import quick_init
from bssrules.money import ISO_4217


@quick_init
@dataclass(frozen=True)
class UsageRecord:
    """One usage detail record from mediation (TMF635 ``usage``)."""

    id: str
    subscriber: str  # the subscription (an inventory product id) that used it
    service: str
    start: dt.datetime
    volume: Decimal
    unit: str | None = None
    type: str | None = None
    roaming: bool | None = None
    country: str | None = None

    def facts(self) -> dict[str, Any]:
        """The ``usage`` facts the rule sets see."""
        usage: dict[str, Any] = {"service": self.service, "start": self.start, "volume": self.volume}
        for name in ("unit", "type", "roaming", "country"):
            value = getattr(self, name)
            if value is not None:
                usage[name] = value
        return usage


@quick_init
@dataclass(frozen=True)
class Subscriber:
    """Who a subscription belongs to and who pays for it, as rating needs it."""

    id: str
    party_id: str | None = None
    classification: str | None = None
    offering: str | None = None  # the subscription's own offering
    active_offerings: tuple[str, ...] = ()  # of the party, for prerequisites
    payers: Mapping[str, str] = field(default_factory=dict)  # payer role -> billing account
    split_billing: str | None = None  # the split billing rule set of the subscription
    # the typed values of :meth:`facts`, made once by rating (a worker keeps a subscriber in
    # its rating-context cache: its records are typed without it); not a field of the value
    typed: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def facts(self) -> dict[str, Any]:
        party: dict[str, Any] = {}
        if self.party_id:
            party["id"] = self.party_id
        if self.classification:
            party["classification"] = self.classification
        facts: dict[str, Any] = {"inventory": {"activeOfferings": list(self.active_offerings),
                                               "offerings": list(self.active_offerings)}}
        if party:
            facts["party"] = party
        return facts


_FAR = dt.datetime.max.replace(tzinfo=dt.timezone.utc)  # (the end of a bucket valid to no date)


@quick_init
@dataclass(frozen=True)
class Bucket:
    """A balance of units (``unit`` GB, message …) or of money (``unit`` a currency code).

    Buckets are used by ``precedence`` (lowest first), then specific before general (a
    bucket for named services before one for any service), then the one that expires first.
    A money bucket may go down to ``floor`` (0: never below zero; None: no limit)."""

    id: str
    subscriber: str
    unit: str
    remaining: Decimal
    precedence: int = 100
    services: tuple[str, ...] = ()
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    floor: Decimal | None = Decimal(0)

    @property
    def is_money(self) -> bool:
        return self.unit in ISO_4217

    def serves(self, service: str, unit: str | None, at: dt.datetime) -> bool:
        """Whether this bucket may take usage of ``service`` in ``unit`` at ``at`` (units only)."""
        if self.valid_from is not None and at < self.valid_from:
            return False
        if self.valid_to is not None and at >= self.valid_to:
            return False
        if self.services and service not in self.services:
            return False
        return self.is_money or unit == self.unit

    def order(self) -> tuple[Any, ...]:
        return (self.precedence, 0 if self.services else 1, self.valid_to or _FAR, self.id)


@quick_init
@dataclass(frozen=True)
class AccumulatorKey:
    accumulator: str  # "<usage rule set>/<accumulator id>"
    subscriber: str
    period: str  # "2026-06" (month) or "2026-06-01" (day), in the rule set's time zone


@quick_init
@dataclass(frozen=True)
class AccumulatorTotal:
    volume: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)
    reached: tuple[str, ...] = ()  # threshold ids already reached


@quick_init
@dataclass(frozen=True)
class Charge:
    """A part of a rated charge assigned to a payer."""

    payer: str  # the role
    billing_account: str
    amount: Decimal


@quick_init
@dataclass(frozen=True)
class Event:
    """Something rating noticed that others may act on (a threshold reached)."""

    kind: str  # thresholdReached
    accumulator: str
    threshold: str
    action: str
    subscriber: str
    period: str
    value: Decimal
    record: str


@quick_init
@dataclass(frozen=True)
class RatedUsage:
    """What rating made of one record: rated (with its charges) or rejected (with reasons).

    A record a ``rateUpToCap`` threshold cut is rated for the part up to the cap: its
    ``refused_volume`` is the rest (in the record's unit) and ``reasons`` holds the
    threshold's reason for refusing it; everything else speaks of the rated part only."""

    record: UsageRecord
    status: str  # rated | rejected
    reasons: tuple[dict[str, str], ...] = ()
    rule_set: str | None = None
    rule: str | None = None
    provisioning_id: str | None = None
    currency: str | None = None
    rated_volume: Decimal = Decimal(0)  # what was left to pay for after unit buckets
    amount: Decimal = Decimal(0)  # the charge, rounded to the currency's minor unit
    prepaid: Decimal = Decimal(0)  # the part paid from money buckets
    charges: tuple[Charge, ...] = ()  # the rest, per payer
    buckets: tuple[tuple[str, Decimal], ...] = ()  # (bucket id, units or money taken)
    events: tuple[Event, ...] = ()
    refused_volume: Decimal = Decimal(0)  # of a rated record: the part a cap refused, in the record's unit

    @property
    def billed(self) -> Decimal:
        return sum((c.amount for c in self.charges), Decimal(0))


@quick_init
@dataclass(frozen=True)
class RatingState:
    """Balances and accumulators, passed into rating and handed back updated."""

    buckets: Mapping[str, Bucket] = field(default_factory=dict)
    accumulators: Mapping[AccumulatorKey, AccumulatorTotal] = field(default_factory=dict)
