"""Rule sets as authored: eight kinds sharing one condition language.

Conditions stay raw (plain YAML data) in these models and are parsed by
:mod:`bssrules.rules.conditions` when the rule sets are compiled, so that their
diagnostics carry exact positions.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union, get_args

from pydantic import AfterValidator, Field, model_validator

from bssrules.catalog.model import Id
from bssrules.catalog.types import Amount, Instant, Model, ValidFor
from bssrules.errors import did_you_mean
from bssrules.money import ISO_4217

RawCondition = dict[str, Any]
Severity = Literal["critical", "major", "minor", "warning"]


_M = TypeVar("_M", bound=Model)


def _all_said(model: _M, problems: list[str]) -> _M:
    """``model`` when nothing is wrong with it; else every problem, in one error (a model's
    check across its fields is one error of the item: each problem is said in it)."""
    if problems:
        raise ValueError("; ".join(problems))
    return model



def _iso_currency(value: str) -> str:
    """A currency of the rules is one the catalog takes: an ISO 4217 code (GPB is refused, as a
    catalog price's, with the code meant; so are the codes of no currency: XAU, XTS …)."""
    if value and value not in ISO_4217:
        hint = did_you_mean(value, ISO_4217)
        raise ValueError(f"'{value}' is not an ISO 4217 currency code" + (f" (did you mean '{hint}'?)" if hint else ""))
    return value


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_iso_currency)]

class Reason(Model):
    """Why a rule refused: a stable code for machines and a label for people."""

    code: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]
    label: str = Field(min_length=1)


class Rule(Model):
    """What every rule has: an id, an optional condition, a validity, a description."""

    id: Id
    description: str | None = None
    when: RawCondition | None = None
    valid_for: ValidFor = ValidFor()


class EligibilityRule(Rule):
    """Offerings (or categories) it applies to — all when neither is given — may be sold
    only when ``when`` holds; otherwise ``reason``, and perhaps an ``alternate`` offering."""

    offerings: list[Id] = []
    categories: list[Id] = []
    when: RawCondition  # without one, the rule could never refuse
    reason: Reason
    alternate: Id | None = None


class Subject(Model):
    """A catalog item a compatibility rule speaks of: exactly one of the three kinds."""

    resource_specification: Id | None = None
    product_specification: Id | None = None
    product_offering: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> "Subject":
        given = [v for v in (self.resource_specification, self.product_specification, self.product_offering) if v]
        if len(given) != 1:
            raise ValueError("name exactly one of resourceSpecification, productSpecification, productOffering")
        return self

    @property
    def kind(self) -> str:
        if self.resource_specification:
            return "resourceSpecification"
        return "productSpecification" if self.product_specification else "productOffering"

    @property
    def id(self) -> str:
        return self.resource_specification or self.product_specification or self.product_offering or ""

    @property
    def attribute(self) -> str:
        """The fact attribute listing what is present of this kind."""
        return {"resourceSpecification": "present.resourceSpecifications",
                "productSpecification": "present.productSpecifications",
                "productOffering": "present.productOfferings"}[self.kind]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class CompatibilityRule(Rule):
    """``required``: with subject, target must be present; ``forbidden``: never both;
    ``optional``: explicitly allowed together; ``exactlyOne``: with subject, exactly one of
    ``among`` (default: the compound subject's children)."""

    type: Literal["required", "forbidden", "optional", "exactlyOne"]
    subject: Subject
    target: Subject | None = None
    among: list[Id] = []
    message: str | None = None
    # what the rule looks at: the basket with what the party has (default), or the basket's own
    # items — a forbidden pair or an exactlyOne count among them only, a requirement of theirs
    # met by the basket or the inventory (a customer's other lines are none of its business)
    scope: Literal["basketAndInventory", "basket"] = Field(
        default="basketAndInventory",
        description="basketAndInventory: the basket and the party's products together; basket: the basket's "
                    "own items (a required target may still be found among the party's products).")

    @model_validator(mode="after")
    def _shape(self) -> "CompatibilityRule":
        if self.type in ("required", "forbidden", "optional") and self.target is None:
            raise ValueError(f"a {self.type} rule needs a target")
        if self.type == "exactlyOne" and self.target is not None:
            raise ValueError("an exactlyOne rule takes 'among', not a target")
        if self.type != "exactlyOne" and self.among:
            raise ValueError("'among' belongs to exactlyOne rules")
        if self.target is not None and self.target == self.subject:
            raise ValueError("subject and target are the same")
        return self


class Tier(Model):
    """One step of a tiered rate: the price per unit up to ``upTo`` units (none: no limit)."""

    up_to: Amount | None = Field(default=None, gt=0)
    amount: Amount = Field(ge=0)


class TiersCount(Model):
    """What a rate's tiers count when not the record alone: the period total of an
    accumulator of the rule set (``measure: volume``), before the record."""

    accumulator: Id


class Rate(Model):
    """A price per unit of usage, flat or tiered (graduated: each unit at its tier's price;
    volume: every unit at the price of the tier the total falls in).

    ``tiersCount`` says where the tiers start counting: ``record`` (the default) prices each
    record's volume from the first tier; ``{accumulator: ID}`` prices it on top of that
    accumulator's period total before it (graduated tiers only: volume tiers over a period
    would re-price the records already rated, which rating, record by record, cannot do).

    ``price`` names the catalog's usage price (a ``productOfferingPrice`` of ``priceType:
    usage``) this rate is: what the rate leaves out (``amount``, ``currency``, ``per``) is
    taken from it when the project is loaded, and what it states must agree with it
    (``bssrules check`` reports every disagreement, at both positions)."""

    price: Id | None = None
    amount: Amount | None = Field(default=None, ge=0)
    currency: Currency = ""  # "" only until a named price fills it in
    per: str = "event"
    tiers: list[Tier] = []
    tier_mode: Literal["graduated", "volume"] = "graduated"
    tiers_count: Literal["record"] | TiersCount = "record"

    @model_validator(mode="after")
    def _shape(self) -> "Rate":
        if self.period_tiers is not None:
            if not self.tiers:
                raise ValueError("tiersCount belongs to a rate by tiers")
            if self.tier_mode == "volume":
                raise ValueError("volume tiers cannot count a period total: every unit of the period would take the "
                                 "price of the tier the total reaches, re-pricing records already rated; use "
                                 "tierMode: graduated (each unit at the price of the tier it falls in)")
        if self.price is not None:
            if self.tiers:
                raise ValueError("a rate by tiers cannot name a catalog price (a catalog price has one amount)")
            return self
        if not self.currency:
            raise ValueError("a rate needs its currency, or the catalog price it is (price)")
        if (self.amount is None) == (not self.tiers):
            raise ValueError("a rate has either an amount or tiers")
        # tiers out of order or a bounded last tier: errors the rules lint reports with their position
        return self

    @property
    def period_tiers(self) -> str | None:
        """The accumulator whose period total the tiers count on top of; None: the record alone."""
        return None if isinstance(self.tiers_count, str) else self.tiers_count.accumulator


class UsageRule(Rule):
    """The first rule (in order) whose condition holds rates the usage record."""

    rate: Rate
    provisioning_id: str | None = None


class Threshold(Model):
    """What happens once an accumulator reaches ``at``: ``notify`` (an event), ``block``
    (later usage it counts is rejected with ``reason``) or ``changeRate`` (later usage it
    counts is rated at ``rate``).

    ``crossing`` says how a ``block`` threshold treats the record that would take the total
    past ``at``: ``rateInFull`` (the default) rates all of it; ``rateUpToCap`` rates only the
    part that takes the total to ``at`` and refuses the rest with ``reason``."""

    id: Id
    at: Amount = Field(gt=0)
    action: Literal["notify", "block", "changeRate"]
    reason: Reason | None = None
    rate: Rate | None = None
    crossing: Literal["rateInFull", "rateUpToCap"] = "rateInFull"

    @model_validator(mode="after")
    def _shape(self) -> "Threshold":
        problems = []
        if self.action == "changeRate" and self.rate is None:
            problems.append("a changeRate threshold needs the rate that applies once it is reached")
        if self.action != "changeRate" and self.rate is not None:
            problems.append("only a changeRate threshold takes a rate")
        if self.action == "block" and self.reason is None:
            problems.append("a block threshold needs the reason given to the usage it blocks")
        if self.crossing == "rateUpToCap" and self.action != "block":
            problems.append("only a block threshold rates up to its cap (crossing: rateUpToCap)")
        return _all_said(self, problems)

    @property
    def caps(self) -> bool:
        """Whether the record crossing it is rated only up to ``at`` (``crossing: rateUpToCap``)."""
        return self.crossing == "rateUpToCap"


class Accumulator(Model):
    """A running total per subscriber and period of the usage ``when`` selects: its volume
    (``measure: volume``) or its charges (``measure: amount``), with thresholds."""

    id: Id
    description: str | None = None
    measure: Literal["volume", "amount"] = "amount"
    period: Literal["day", "month"] = "month"
    when: RawCondition | None = None
    # Listed from the lowest ``at`` to the highest, each id once: the loader reports a repeated
    # id or a threshold out of order at that threshold (so do ids of accumulators, prerequisites).
    thresholds: list[Threshold] = Field(default=[], min_length=0)


class Prerequisite(Model):
    """A condition a usage needs (e.g. an effective PPV service); otherwise it is rejected."""

    id: Id
    when: RawCondition
    reason: Reason


class Share(Model):
    """A part of a charge paid by a payer role, as a weight (percent or any proportion)."""

    payer: Id
    weight: Amount = Field(gt=0)


class SplitBillingRule(Rule):
    """The first rule (in order) whose condition holds names the payer role of a charge, or
    shares it between several roles (split to the cent by the largest remainder)."""

    payer: Id | None = None
    shares: list[Share] = []

    @model_validator(mode="after")
    def _shape(self) -> "SplitBillingRule":
        if (self.payer is None) == (not self.shares):
            raise ValueError("a split billing rule names either a payer or shares")
        return self  # each payer role once in shares: the loader reports a repeated one where it is

    def parts(self) -> list[tuple[str, Any]]:
        """(payer role, weight) of each part of the charge."""
        return [(self.payer, 1)] if self.payer else [(s.payer, s.weight) for s in self.shares]


class DiscountTarget(Model):
    """The price lines a discount alters: those of ``offering`` (of ``priceType`` if given)."""

    offering: Id
    price_type: Literal["oneTime", "recurring"] | None = None


class DiscountRule(Rule):
    """A price alteration: when ``when`` holds for the basket (and the basket holds the
    ``combination``), the target lines are reduced by ``percentage`` or by ``amount`` per
    unit — for ``durationPeriods`` periods of a recurring price when given. Discounts apply
    by ``priority`` (lowest first); an ``exclusive`` discount leaves the lines it altered to
    no other discount, and no discount applies twice to one line."""

    target: DiscountTarget
    percentage: Amount | None = Field(default=None, gt=0, le=100)
    amount: Amount | None = Field(default=None, gt=0)
    currency: Currency | None = None
    combination: list[Id] = []
    priority: int = 100
    exclusive: bool = True
    duration_periods: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _shape(self) -> "DiscountRule":
        problems = []
        if (self.percentage is None) == (self.amount is None):
            problems.append("a discount gives either a percentage or an amount")
        elif self.amount is not None and self.currency is None:
            problems.append("an amount discount needs its currency")
        if self.duration_periods is not None and self.target.price_type == "oneTime":
            problems.append("durationPeriods applies to recurring prices")
        return _all_said(self, problems)


class SlaRule(Rule):
    """A threshold on a metric: when ``when`` holds for an observation of ``metric``, a
    violation of ``severity`` is raised."""

    metric: Id
    window: Literal["hour", "day", "week", "month", "quarter", "year"] | None = None
    severity: Severity = "major"
    when: RawCondition


class RuleSetBase(Model):
    """What every rule set has."""

    kind_name: ClassVar[str]

    id: Id
    version: int = Field(default=1, ge=1)
    description: str | None = None
    valid_for: ValidFor = ValidFor()
    time_zone: str = "UTC"



class EligibilityRuleSet(RuleSetBase):
    kind: Literal["eligibility"]
    rules: list[EligibilityRule] = Field(min_length=1)


class CompatibilityRuleSet(RuleSetBase):
    kind: Literal["compatibility"]
    rules: list[CompatibilityRule] = Field(min_length=1)


class UsageRuleSet(RuleSetBase):
    kind: Literal["usage"]
    applies_to: RawCondition | None = None
    prerequisites: list[Prerequisite] = []
    accumulators: list[Accumulator] = []
    rules: list[UsageRule] = Field(min_length=1)


class SplitBillingRuleSet(RuleSetBase):
    kind: Literal["splitBilling"]
    default: Id | None = None
    rules: list[SplitBillingRule] = []


class DiscountRuleSet(RuleSetBase):
    kind: Literal["discount"]
    rules: list[DiscountRule] = Field(min_length=1)


class RoutingRule(Rule):
    """The first rule (in order) whose condition holds assigns the ticket to ``assignTo``
    (a partner: the CSP, the car manufacturer …)."""

    assign_to: Id


class RoutingRuleSet(RuleSetBase):
    kind: Literal["routing"]
    default: Id | None = None
    rules: list[RoutingRule] = Field(min_length=1)


class SettlementRule(Rule):
    """What one partner owes another for each item of a period that the rule's ``basis``
    names and its ``when`` holds for: a ``ticket`` (facts ticket.*), a billed ``charge``
    (facts charge.*: a revenue share as a ``percentage``) or an ``slaViolation`` (facts
    metric.*: a penalty). Every rule that holds counts (not only the first)."""

    basis: Literal["ticket", "charge", "slaViolation"]
    payer: Id
    payee: Id
    amount: Amount | None = Field(default=None, gt=0)
    currency: Currency | None = None
    percentage: Amount | None = Field(default=None, gt=0, le=100)

    @model_validator(mode="after")
    def _shape(self) -> "SettlementRule":
        problems = []
        if (self.amount is None) == (self.percentage is None):
            problems.append("a settlement rule gives either an amount (with its currency) or a percentage")
        elif self.amount is not None and self.currency is None:
            problems.append("an amount needs its currency")
        if self.percentage is not None and self.basis != "charge":
            problems.append("a percentage is a share of charges: basis charge")
        if self.payer == self.payee:
            problems.append("payer and payee are the same")
        return _all_said(self, problems)


class SettlementRuleSet(RuleSetBase):
    kind: Literal["settlement"]
    rules: list[SettlementRule] = Field(min_length=1)


class SlaRuleSet(RuleSetBase):
    kind: Literal["sla"]
    rules: list[SlaRule] = Field(min_length=1)


RuleSet = Annotated[Union[EligibilityRuleSet, CompatibilityRuleSet, UsageRuleSet, SplitBillingRuleSet, SlaRuleSet,
                          DiscountRuleSet, RoutingRuleSet, SettlementRuleSet],
                    Field(discriminator="kind")]


def _kind(rule_set_type: type[RuleSetBase]) -> str:
    """The kind a rule set class is tagged with (the value of its ``kind`` Literal)."""
    kind: str = get_args(rule_set_type.model_fields["kind"].annotation)[0]
    return kind


RULE_SET_TYPES = {_kind(t): t
                  for t in (EligibilityRuleSet, CompatibilityRuleSet, UsageRuleSet, SplitBillingRuleSet, SlaRuleSet,
                            DiscountRuleSet, RoutingRuleSet, SettlementRuleSet)}


class TestSubscriber(Model):
    """The subscription a rating test plays its records for (what rating knows of it)."""

    __test__ = False  # not a pytest test class

    party_id: str | None = None
    classification: str | None = None
    offering: Id | None = None  # the subscription's offering (usage.offering)
    active_offerings: list[Id] = []  # the party's (inventory.activeOfferings)
    payers: dict[str, str] = {"payer": "BA-TEST"}  # payer role -> billing account
    split_billing: Id | None = None


_DATE_TIME = re.compile(r"\s*\d{4}-\d{2}-\d{2}[T ]\d")  # a date and a time: one a zone is missing from
_ZONE = re.compile(r"(Z|[+-]\d\d:?\d\d)\s*$", re.IGNORECASE)  # ends with Z or an offset


class TestRecord(Model):
    """A usage record a rating test plays (of the test's subscriber)."""

    __test__ = False

    id: Id
    service: str = Field(min_length=1)
    start: Instant
    volume: Amount = Field(ge=0)
    unit: str | None = None
    type: str | None = None
    roaming: bool | None = None
    country: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _start_names_its_zone(cls, data: Any) -> Any:
        """A start written without its zone is refused, as POST /usage and ``bssrules rate``
        refuse it (``malformed``): read as UTC, the test rated at another time of day than the
        real usage would be — or not at all."""
        start = data.get("start") if isinstance(data, dict) else None
        if isinstance(start, str) and _DATE_TIME.match(start) and not _ZONE.search(start):
            raise ValueError(f"the start '{start}' names no time zone: write it with Z or an offset "
                             f"('{start.strip()}Z', '{start.strip()}+02:00'), as a usage's start is written")
        return data


class TestTotal(Model):
    """An accumulator's total for a period, before a rating test plays its records."""

    __test__ = False

    accumulator: Id  # an accumulator of the rule set tested
    period: str = Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")  # 2026-06 (month) or 2026-06-20 (day)
    volume: Amount = Field(default=Decimal(0), ge=0)
    amount: Amount = Field(default=Decimal(0), ge=0)
    reached: list[Id] = []


class RuleTest(Model):
    """A test case written next to the rules: given facts, the decision expected; or, for a
    usage rule set, ``records`` played in order by a ``subscriber`` from the ``accumulators``
    totals given, and what rating made of them expected (each record's charge, status,
    reasons and threshold events, the totals after)."""

    name: str = Field(min_length=1)
    rule_set: Id
    as_of: str | None = None
    given: dict[str, Any] = {}
    subscriber: TestSubscriber | None = None
    accumulators: list[TestTotal] = []
    records: list[TestRecord] | None = None
    expect: dict[str, Any]

    @model_validator(mode="after")
    def _shape(self) -> "RuleTest":
        if self.records is None:
            if self.subscriber is not None or self.accumulators:
                raise ValueError("subscriber and accumulators belong to a test that plays records")
            return self
        if self.given or self.as_of is not None:
            raise ValueError("a test that plays records takes no given facts nor asOf: its subscriber and "
                             "the records' start say it all")
        if not self.records:
            raise ValueError("a test that plays records needs at least one record")
        ids = [r.id for r in self.records]
        if len(set(ids)) != len(ids):
            raise ValueError("record ids must differ")
        return self

    @property
    def plays_records(self) -> bool:
        """Whether it is a rating test (records played), not a decision test."""
        return self.records is not None


class RulesFile(Model):
    """The top level of one rules YAML file."""

    format_version: Literal[1] = 1
    rule_sets: list[RuleSet] = []
    tests: list[RuleTest] = []
