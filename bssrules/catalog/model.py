"""The catalog model: specifications, offerings, prices, categories and catalogs.

Field names are camelCase in YAML and JSON (TM Forum vocabulary); every entity has a
stable ``id``, a ``lifecycleStatus`` and a ``validFor`` so that rules can ask what was in
force at a date. Store-managed metadata (``version``, ``lastUpdate``) is not part of the
authored model. Each entity lists its references (:meth:`refs`) so that loading, the API
and deletion checks share one definition of "what points where".
"""
from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, Union, get_args

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StringConstraints, field_validator, model_validator

from bssrules.catalog.types import (
    DECIMAL_PLACES, WHOLE_DIGITS, Amount, LifecycleStatus, Model, ValidFor, digits_problem,
)
from bssrules.errors import did_you_mean
from bssrules.money import ISO_4217, minor_unit_exponent, quantum

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$", max_length=128)]


def describe(value: object) -> str:
    """What an authored value is, for a message (a mapping, nothing, 'text', 12)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, (bool, str)):
        return show_value(value)
    return str(value)


def scalar_problem(value: object) -> str | None:
    """Why ``value`` is no characteristic value (text, a number, true or false), or None."""
    if isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, (float, Decimal)):
        if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
            return f"expected a finite number, got {describe(value)}"
        return digits_problem(value if isinstance(value, Decimal) else Decimal(repr(value)))
    return f"expected text, a number, or true or false, got {describe(value)}"


def _scalar(value: object) -> object:
    # One error per value, in our words: the union alone gives one per member, at paths
    # (values[0].decimal, .constrained-str …) that are pydantic's, not the author's.
    problem = scalar_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Scalar = Annotated[
    Union[StrictBool, StrictInt,
          Annotated[Decimal, Field(max_digits=WHOLE_DIGITS + DECIMAL_PLACES, decimal_places=DECIMAL_PLACES,
                                   allow_inf_nan=False)],
          str],
    BeforeValidator(_scalar),
]
ValueType = Literal["string", "integer", "number", "boolean", "date"]
VALUE_TYPES: tuple[str, ...] = get_args(ValueType)
Ref = tuple[tuple[str | int, ...], str, str]  # (path inside the entity, target kind, target id)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def show_value(value: Scalar) -> str:
    """A value as the author wrote it (no Python reprs in messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


def value_matches_type(value: Scalar, value_type: str) -> bool:
    """Whether an authored scalar is a value of the characteristic's ``valueType``."""
    if value_type == "boolean":
        return isinstance(value, bool)
    if value_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if value_type == "number":
        return isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    if value_type == "date":
        if not (isinstance(value, str) and _DATE.match(value)):
            return False
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False  # 2026-02-30 has the shape of a date but is none
        return True
    return isinstance(value, str)


class Entity(Model):
    """Common fields of every catalog entity."""

    kind: ClassVar[str]
    collection: ClassVar[str]

    id: Id
    name: str = Field(min_length=1)
    description: str | None = None
    lifecycle_status: LifecycleStatus = "Active"
    valid_for: ValidFor = ValidFor()

    def refs(self) -> list[Ref]:
        """Every reference to another entity, with the path of the referring field."""
        return []


class Range(Model):
    """An inclusive integer interval of allowed values."""

    min: StrictInt
    max: StrictInt

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if self.min > self.max:
            raise ValueError(f"range min {self.min} is greater than max {self.max}")
        return self


class Characteristic(Model):
    """A characteristic of a specification: its type, allowed values and cardinality."""

    name: str = Field(min_length=1)
    description: str | None = None
    value_type: ValueType = "string"
    unit: str | None = None
    values: list[Scalar] = []
    range: Range | None = None
    default: Scalar | None = None
    min_cardinality: int = Field(default=0, ge=0)
    max_cardinality: int = Field(default=1, ge=1)
    configurable: StrictBool = True

    @model_validator(mode="after")
    def _consistent(self) -> "Characteristic":
        if self.min_cardinality > self.max_cardinality:
            raise ValueError(f"minCardinality {self.min_cardinality} is greater than maxCardinality {self.max_cardinality}")
        if self.values and self.range:
            raise ValueError("give either values or range, not both")
        if self.range and self.value_type not in ("integer", "number"):
            raise ValueError(f"a range needs valueType integer or number, not {self.value_type}")
        for value in self.values:
            if not value_matches_type(value, self.value_type):
                raise ValueError(f"value {show_value(value)} is not of valueType {self.value_type}")
        keys = [_value_key(v) for v in self.values]
        repeated = sorted({str(v) for v, k in zip(self.values, keys) if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"values are not unique: {', '.join(repeated)}")
        if self.default is not None:
            if not value_matches_type(self.default, self.value_type):
                raise ValueError(f"default {show_value(self.default)} is not of valueType {self.value_type}")
            if self.values and self.default not in self.values:
                raise ValueError(f"default {show_value(self.default)} is not one of the values")
            # with a range, valueType is integer or number (checked above), and so is the default
            if self.range and not self.range.min <= self.default <= self.range.max:  # type: ignore[operator]
                raise ValueError(f"default {show_value(self.default)} is outside the range "
                                 f"{self.range.min}..{self.range.max}")
        return self


def _value_key(value: Scalar) -> tuple[str, object]:
    """Equal values compare equal whatever their spelling: 1, 1.0 and 1.00 are one number."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, Decimal)):
        return ("number", Decimal(value).normalize())
    return ("text", value)


def _unique_names(items: list[Characteristic]) -> list[Characteristic]:
    names = [c.name for c in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"characteristic names are not unique: {', '.join(duplicates)}")
    return items


class ResourceSpecification(Entity):
    """A network or physical resource type; compound when it has ``children``."""

    kind: ClassVar[str] = "resourceSpecification"
    collection: ClassVar[str] = "resourceSpecifications"

    part_number: str | None = None
    characteristics: list[Characteristic] = []
    children: list[Id] = []

    _names = field_validator("characteristics")(_unique_names)

    @property
    def is_compound(self) -> bool:
        return bool(self.children)

    def refs(self) -> list[Ref]:
        return [(("children", i), "resourceSpecification", c) for i, c in enumerate(self.children)]


class ProductSpecification(Entity):
    """What a product is: its characteristics and the resources it is made of."""

    kind: ClassVar[str] = "productSpecification"
    collection: ClassVar[str] = "productSpecifications"

    brand: str | None = None
    product_number: str | None = None
    characteristics: list[Characteristic] = []
    resource_specifications: list[Id] = []

    _names = field_validator("characteristics")(_unique_names)

    def refs(self) -> list[Ref]:
        return [(("resourceSpecifications", i), "resourceSpecification", r)
                for i, r in enumerate(self.resource_specifications)]


class BundledOffering(Model):
    """A child of a bundle with how many of it a buyer may take (min ≤ default ≤ max)."""

    offering: Id
    min: int = Field(default=1, ge=0)
    max: int = Field(default=1, ge=1)
    default: int | None = Field(default=None, ge=0)
    # False: the child's own prices are included in the bundle's and not charged within it
    # (a converged offer sold at one price); True: options accumulate (seed 002's tablet).
    charged: StrictBool = True

    @model_validator(mode="after")
    def _ordered(self) -> "BundledOffering":
        if self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if self.default is not None and not self.min <= self.default <= self.max:
            raise ValueError(f"default {self.default} is not between min {self.min} and max {self.max}")
        return self

    @property
    def default_count(self) -> int:
        return self.min if self.default is None else self.default


RelationshipType = Literal["option", "addOn", "requires", "excludes"]


class OfferingRelationship(Model):
    """A relationship to another offering: an option or add-on of it, a prerequisite, an exclusion."""

    type: RelationshipType
    offering: Id
    valid_for: ValidFor = ValidFor()


class CharacteristicUse(Model):
    """The values of a specification characteristic that this offering allows (e.g. 16GB only)."""

    name: str = Field(min_length=1)
    values: list[Scalar] = Field(min_length=1)


DurationUnit = Literal["day", "week", "month", "year"]


class Duration(Model):
    """A whole number of days, weeks, calendar months or years (TMF620 ``Duration``)."""

    amount: StrictInt = Field(ge=1, le=1200)
    units: DurationUnit


class EarlyTermination(Model):
    """What terminating a product before its commitment ends costs.

    ``fixed``: ``amount`` in ``currency``, whatever is left of the term.
    ``remainingRecurring``: ``share`` (default 1, all) of the recurring charges the product
    would still have been billed from its termination to the end of the term, pro-rated as
    bills pro-rate them (to the second, by calendar month for monthly prices)."""

    charge: Literal["fixed", "remainingRecurring"]
    amount: Amount | None = Field(default=None, ge=0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    share: Amount | None = Field(default=None, gt=0, le=1)

    @field_validator("amount", "share", mode="before")
    @classmethod
    def _no_float(cls, value: object) -> object:
        return Decimal(repr(value)) if isinstance(value, float) else value

    @model_validator(mode="after")
    def _shape(self) -> "EarlyTermination":
        if self.charge == "fixed":
            if self.amount is None or self.currency is None:
                raise ValueError("a fixed early termination charge needs amount and currency")
            if self.share is not None:
                raise ValueError("share applies to a remainingRecurring charge, not a fixed one")
            if self.currency not in ISO_4217:
                hint = did_you_mean(self.currency, ISO_4217)
                raise ValueError(f"'{self.currency}' is not an ISO 4217 currency code"
                                 + (f" (did you mean '{hint}'?)" if hint else ""))
            if self.amount != self.amount.quantize(quantum(self.currency)):
                raise ValueError(f"amount {self.amount} has more decimals than {self.currency} has "
                                 f"({minor_unit_exponent(self.currency)})")
        elif self.amount is not None or self.currency is not None:
            raise ValueError("amount and currency apply to a fixed charge; a remainingRecurring charge is in "
                             "the currency of the recurring prices (give share to take part of them)")
        return self

    @property
    def fraction(self) -> Decimal:
        return Decimal(1) if self.share is None else self.share


class OfferingTerm(Model):
    """A commitment an offering is sold with (TMF620 ``productOfferingTerm``): how long, what
    happens at its end (``renew``: a new term of the same duration starts; ``end``: the
    product goes on without commitment) and what terminating it early costs."""

    name: str = Field(min_length=1)
    description: str | None = None
    duration: Duration
    at_end: Literal["renew", "end"]
    early_termination: EarlyTermination | None = None
    valid_for: ValidFor = ValidFor()


class ProductOffering(Entity):
    """What is sold: one specification, or a bundle of other offerings."""

    kind: ClassVar[str] = "productOffering"
    collection: ClassVar[str] = "productOfferings"

    product_specification: Id | None = None
    bundle: list[BundledOffering] = []
    sellable: StrictBool = True
    partner_eligible: StrictBool = False
    channels: list[Id] = []
    categories: list[Id] = []
    prices: list[Id] = []
    relationships: list[OfferingRelationship] = []
    characteristic_uses: list[CharacteristicUse] = []
    terms: list[OfferingTerm] = []

    @property
    def is_bundle(self) -> bool:
        return bool(self.bundle)

    @model_validator(mode="after")
    def _shape(self) -> "ProductOffering":
        if not self.bundle and not self.product_specification:
            raise ValueError("an offering needs a productSpecification, or a bundle of offerings")
        for label, items in (("bundle offering", [b.offering for b in self.bundle]),
                             ("channel", self.channels), ("category", self.categories), ("price", self.prices),
                             ("relationship", [f"{r.type} {r.offering}" for r in self.relationships]),
                             ("characteristicUse", [u.name for u in self.characteristic_uses]),
                             ("term", [t.name for t in self.terms])):
            repeated = sorted({i for i in items if items.count(i) > 1})
            if repeated:
                raise ValueError(f"{label} listed more than once: {', '.join(repeated)}")
        if any(b.offering == self.id for b in self.bundle):
            raise ValueError("a bundle cannot contain itself")
        if any(r.offering == self.id for r in self.relationships):
            raise ValueError("an offering cannot be related to itself")
        if self.characteristic_uses and not self.product_specification:
            raise ValueError("characteristicUses need a productSpecification")
        return self

    def refs(self) -> list[Ref]:
        refs: list[Ref] = []
        if self.product_specification:
            refs.append((("productSpecification",), "productSpecification", self.product_specification))
        refs += [(("bundle", i, "offering"), "productOffering", b.offering) for i, b in enumerate(self.bundle)]
        refs += [(("categories", i), "category", c) for i, c in enumerate(self.categories)]
        refs += [(("prices", i), "productOfferingPrice", p) for i, p in enumerate(self.prices)]
        refs += [(("relationships", i, "offering"), "productOffering", r.offering)
                 for i, r in enumerate(self.relationships)]
        return refs


PriceType = Literal["oneTime", "recurring", "usage"]
Period = Literal["day", "week", "month", "year"]
ProRate = Literal["exact", "wholeUnits", "full"]
UsageType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$", max_length=128)]


class Rollover(Model):
    """What of a period's unused allowance is carried into the next period: all of it, up to
    ``limit`` (in the allowance's unit; default: one period's ``amount``). What is carried
    is part of the next period's bucket, used with it, and carried on only within the limit."""

    limit: Amount | None = Field(default=None, gt=0)

    @field_validator("limit", mode="before")
    @classmethod
    def _no_float(cls, value: object) -> object:
        return Decimal(repr(value)) if isinstance(value, float) else value


class Allowance(Model):
    """Units included in a recurring price for each of its periods ("12 EUR a month including
    3 GB"): each active product of the offering gets a bucket of them per period, which
    rating uses before any rate charges (docs/catalog-format.md, *Included allowances*).

    ``proRate`` says what a part period (the first, from the product's start) includes:
    ``exact`` the amount times the share of the period, rounded down to 6 decimals;
    ``wholeUnits`` the same rounded down to whole units; ``full`` the whole amount."""

    id: Id
    name: str = Field(min_length=1)
    amount: Amount = Field(gt=0)
    unit: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    usage_types: list[UsageType] = Field(min_length=1)
    precedence: StrictInt = Field(default=100, ge=0, le=1_000_000)
    rollover: Rollover | None = None
    pro_rate: ProRate = "exact"

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: object) -> object:
        return Decimal(repr(value)) if isinstance(value, float) else value

    @model_validator(mode="after")
    def _shape(self) -> "Allowance":
        if self.unit in ISO_4217:
            raise ValueError(f"an allowance includes units of usage (GB, minute, message …), not money ({self.unit})")
        repeated = sorted({u for u in self.usage_types if self.usage_types.count(u) > 1})
        if repeated:
            raise ValueError(f"usage type listed more than once: {', '.join(repeated)}")
        return self

    @property
    def carry_limit(self) -> Decimal:
        """The most of a period's unused units carried into the next."""
        return self.amount if self.rollover is None or self.rollover.limit is None else self.rollover.limit


class ProductOfferingPrice(Entity):
    """A price of an offering: one-time, recurring per period, or per unit of usage."""

    kind: ClassVar[str] = "productOfferingPrice"
    collection: ClassVar[str] = "productOfferingPrices"

    price_type: PriceType
    amount: Amount = Field(ge=0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"),
                        Field(description="an ISO 4217 currency code: three capital letters, e.g. EUR")]

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in ISO_4217:
            hint = did_you_mean(value, ISO_4217)
            raise ValueError(f"'{value}' is not an ISO 4217 currency code" + (f" (did you mean '{hint}'?)" if hint else ""))
        return value
    recurring_period: Period | None = None
    period_length: int = Field(default=1, ge=1)
    unit: str | None = None
    unit_quantity: Amount = Field(default=Decimal(1), gt=0)
    # of a usage price: the usage type (service) it prices, e.g. data; what allowances name
    usage_type: UsageType | None = None
    # of a recurring price: the units included in each period (issue 15)
    allowances: list[Allowance] = []

    @field_validator("amount", "unit_quantity", mode="before")
    @classmethod
    def _no_float(cls, value: object) -> object:
        # JSON numbers arrive as floats; their shortest text is the amount that was written.
        return Decimal(repr(value)) if isinstance(value, float) else value

    @model_validator(mode="after")
    def _shape(self) -> "ProductOfferingPrice":
        problems = self.shape_problems()
        if problems:
            raise ValueError(problems[0])
        return self

    def shape_problems(self) -> list[str]:
        """What is wrong with the price as a whole: its amount's decimals, and the first of its
        fields that its priceType does not go with (they do not follow from each other)."""
        found = []
        if self.price_type != "usage" and self.amount != self.amount.quantize(quantum(self.currency)):
            found.append(f"amount {self.amount} has more decimals than {self.currency} has "
                         f"({minor_unit_exponent(self.currency)}); only usage rates may be finer")
        try:
            self._fields_shape()
        except ValueError as exc:
            found.append(str(exc))
        return found

    def _fields_shape(self) -> None:
        if self.price_type == "recurring" and not self.recurring_period:
            raise ValueError("a recurring price needs recurringPeriod (day, week, month or year)")
        if self.price_type != "recurring" and (self.recurring_period or self.period_length != 1):
            raise ValueError(f"recurringPeriod and periodLength apply to recurring prices, not {self.price_type}")
        if self.price_type == "usage" and not self.unit:
            raise ValueError("a usage price needs the unit it is charged per (e.g. GB, minute, event)")
        if self.price_type != "usage" and (self.unit or self.unit_quantity != 1):
            raise ValueError(f"unit and unitQuantity apply to usage prices, not {self.price_type}")
        if self.price_type != "usage" and self.usage_type is not None:
            raise ValueError(f"usageType applies to usage prices, not {self.price_type}")
        if self.allowances and self.price_type != "recurring":
            raise ValueError(f"allowances are included in a recurring price's periods; this price is {self.price_type}")
        if self.allowances and (self.recurring_period != "month" or self.period_length != 1):
            raise ValueError("allowances are given per calendar month: they need recurringPeriod month and "
                             "periodLength 1")
        ids = [a.id for a in self.allowances]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"allowance id listed more than once: {', '.join(repeated)}")


class Category(Entity):
    """A group of offerings; categories nest through ``parent``."""

    kind: ClassVar[str] = "category"
    collection: ClassVar[str] = "categories"

    parent: Id | None = None

    @property
    def is_root(self) -> bool:
        return self.parent is None

    def refs(self) -> list[Ref]:
        return [(("parent",), "category", self.parent)] if self.parent else []


class RelatedParty(Model):
    """A party involved in a catalog (its owner, a partner) and its role."""

    id: Id
    name: str | None = None
    role: str = Field(min_length=1)
    referred_type: Literal["Organization", "Individual", "PartyRole"] = "Organization"


class ProductCatalog(Entity):
    """A catalog: root categories offered through a channel or to a partner."""

    kind: ClassVar[str] = "catalog"
    collection: ClassVar[str] = "catalogs"

    catalog_type: Literal["ProductCatalog"] = "ProductCatalog"
    categories: list[Id] = []
    related_parties: list[RelatedParty] = []

    def refs(self) -> list[Ref]:
        return [(("categories", i), "category", c) for i, c in enumerate(self.categories)]


ENTITY_TYPES: tuple[type[Entity], ...] = (
    ProductCatalog, Category, ResourceSpecification, ProductSpecification, ProductOfferingPrice, ProductOffering,
)
KINDS: dict[str, type[Entity]] = {t.kind: t for t in ENTITY_TYPES}
COLLECTIONS: dict[str, type[Entity]] = {t.collection: t for t in ENTITY_TYPES}


class CatalogFile(Model):
    """The top level of one catalog YAML file: lists of entities by kind."""

    format_version: Literal[1] = 1
    catalogs: list[ProductCatalog] = []
    categories: list[Category] = []
    resource_specifications: list[ResourceSpecification] = []
    product_specifications: list[ProductSpecification] = []
    product_offering_prices: list[ProductOfferingPrice] = []
    product_offerings: list[ProductOffering] = []
