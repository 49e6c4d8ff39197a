"""Value types shared by the catalog model: instants, validity periods, statuses."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel


def parse_instant(value: object) -> object:
    """Accept a date (start of day, UTC) or a date-time; a date-time without zone is UTC."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            why = _calendar_problem(text)
            raise ValueError(f"'{value}' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ)"
                             + (f": {why}" if why else "")) from None
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
        try:  # every instant is kept and compared in UTC: it must have a date there
            parsed.astimezone(dt.timezone.utc)
        except OverflowError:
            raise ValueError(f"'{value}' falls outside the calendar (years 1 to 9999) in UTC") from None
        return parsed
    return value


def _calendar_problem(text: str) -> str | None:
    """Why a text written as a date has none: "February 2026 has 28 days", "there is no month
    13" (else None: its shape is wrong, which the message already says)."""
    import calendar

    match = re.match(r"(\d{4})-(\d{2})-(\d{2})(?:$|[T ])", text)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    if year < 1:
        return "the years run from 1 to 9999"
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return f"{calendar.month_name[month]} {year} has {days} days"
    return None


# the end of a date-time that names its zone: "T" and a time of day, then "Z" or an offset
_ZONED = re.compile(r"T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


def zoned_instant(value: object) -> dt.datetime | None:
    """A date-time text that names its zone, as an instant (in that zone), else None: the
    start of a usage, online and in bulk rating alike (one without its zone would be rated at
    the wrong time of day)."""
    if not isinstance(value, str) or not _ZONED.search(value):
        return None
    try:
        parsed = parse_instant(value)
    except (ValueError, TypeError):
        return None
    return parsed if isinstance(parsed, dt.datetime) and parsed.tzinfo is not None else None


def format_instant(value: dt.datetime) -> str:
    """ISO 8601 in UTC with a trailing Z, as TMF resources carry them."""
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


Instant = Annotated[
    dt.datetime,
    BeforeValidator(parse_instant),
    PlainSerializer(format_instant, return_type=str, when_used="json-unless-none"),
    WithJsonSchema({
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$",
        "description": "A date (YYYY-MM-DD, meaning 00:00 UTC) or an ISO 8601 date-time (UTC when no zone is given).",
    }),
]

# At most 15 digits before and 8 after the point: prices and unit rates, never astronomy.
WHOLE_DIGITS, DECIMAL_PLACES = 15, 8


def digits_problem(value: Decimal) -> str | None:
    """Which bound of an amount a finite ``value`` exceeds, said as the docs say them (15 digits
    before the point, 8 after), or None. Counted as pydantic counts (1.000000000 has no
    decimal place too many); said first because pydantic's first error of 1e400 is of the
    total digits (23), which no author is told about."""
    _, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)  # finite
    decimals = max(0, -exponent)
    whole = len(digits) + exponent if exponent >= 0 else max(0, len(digits) - decimals)
    if whole > WHOLE_DIGITS:
        return f"expected a number of at most {WHOLE_DIGITS} digits before the point, got {value}"
    if decimals > DECIMAL_PLACES:
        return f"expected a number of at most {DECIMAL_PLACES} decimal places, got {value}"
    return None


Amount = Annotated[
    Decimal,
    Field(max_digits=WHOLE_DIGITS + DECIMAL_PLACES, decimal_places=DECIMAL_PLACES, allow_inf_nan=False),
    WithJsonSchema({"type": ["number", "string"], "pattern": r"^-?\d+(\.\d+)?$",
                    "description": "An exact decimal amount."}),
]

LifecycleStatus = Literal["In Study", "In Design", "In Test", "Active", "Launched", "Retired", "Obsolete", "Rejected"]
LIFECYCLE_STATUSES: tuple[str, ...] = get_args(LifecycleStatus)


class Model(BaseModel):
    """Base of every catalog model: camelCase in YAML and JSON, nothing unknown accepted."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
        str_strip_whitespace=True,
    )


class ValidFor(Model):
    """A half-open period [start, end): ``end`` is the first instant no longer valid."""

    start: Instant | None = None
    end: Instant | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "ValidFor":
        if self.start and self.end and self.end <= self.start:
            raise ValueError("validFor.end must be after validFor.start")
        return self

    def contains(self, instant: dt.datetime) -> bool:
        """Whether ``instant`` falls in the period."""
        return (self.start is None or self.start <= instant) and (self.end is None or instant < self.end)

    def overlaps(self, other: "ValidFor") -> bool:
        """Whether the two periods share at least one instant."""
        return ((self.end is None or other.start is None or other.start < self.end)
                and (other.end is None or self.start is None or self.start < other.end))
