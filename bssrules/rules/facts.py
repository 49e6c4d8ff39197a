"""The typed fact model: every attribute a condition may name, with its type.

Rules are checked against it when they are loaded, so ``party.clasification`` is an error
with a suggestion before anything runs. Facts are plain nested mappings
(``{"party": {"classification": "VIP"}}``); :func:`flatten_facts` turns them into the flat
event the engine sees, adding the derived fields conditions compile onto (minute of day,
day of week, epoch seconds, presence flags, list sizes).
"""
from __future__ import annotations

import datetime as dt
import math
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from bssrules.catalog.types import parse_instant
from bssrules.errors import did_you_mean

# type names: string, number, boolean, datetime, list (of strings)
FACT_ATTRIBUTES: dict[str, str] = {
    # the instant the decision is taken for ("as of")
    "now": "datetime",
    # who buys or uses
    "party.id": "string", "party.type": "string", "party.classification": "string", "party.segment": "string",
    "party.isCustomer": "boolean", "party.country": "string", "party.age": "number",
    # through what and for whom
    "channel.id": "string", "caller.id": "string", "caller.type": "string", "place.country": "string",
    # what they already have
    "inventory.offerings": "list", "inventory.activeOfferings": "list", "inventory.productSpecifications": "list",
    # the offering being qualified
    "offering.id": "string", "offering.partnerEligible": "boolean", "offering.categories": "list",
    "offering.channels": "list", "offering.lifecycleStatus": "string", "offering.productSpecification": "string",
    # what is in the basket and inventory together (compatibility)
    "present.productOfferings": "list", "present.productSpecifications": "list",
    "present.resourceSpecifications": "list",
    # a usage record
    "usage.service": "string", "usage.type": "string", "usage.start": "datetime", "usage.volume": "number",
    "usage.unit": "string", "usage.roaming": "boolean", "usage.country": "string", "usage.offering": "string",
    # a charge to assign to a payer
    "charge.type": "string", "charge.service": "string", "charge.usageType": "string", "charge.amount": "number",
    "charge.offering": "string", "charge.currency": "string", "charge.categories": "list",
    # running totals of the period
    "accumulated.amount": "number", "accumulated.volume": "number",
    # a trouble ticket to route
    "ticket.type": "string", "ticket.severity": "string", "ticket.priority": "string", "ticket.service": "string",
    "ticket.channel": "string", "ticket.originator": "string",
    # an SLA metric observation
    "metric.name": "string", "metric.value": "number", "metric.window": "string", "metric.partner": "string",
    "metric.service": "string", "metric.consumers": "list", "metric.severity": "string",
}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekday_suggestion(written: Any) -> str | None:
    """The day of ``WEEKDAYS`` a misspelt one means: a day written in full or in another case
    (``Saturday``, ``SAT``) is its first three letters; else the closest, if any is close."""
    text = str(written).strip().lower()
    if len(text) >= 3 and text[:3] in WEEKDAYS:
        return text[:3]
    return did_you_mean(text, WEEKDAYS)


ALWAYS = "__always"
_LARGEST = sys.float_info.max


def engine_key(attribute: str, suffix: str = "") -> str:
    """The flat key of an attribute in the engine's event (dots are paths to durable-rules)."""
    return attribute.replace(".", "__") + (f"__{suffix}" if suffix else "")


def lookup(facts: Mapping[str, Any], attribute: str) -> tuple[bool, Any]:
    """(present, value) of a dotted attribute in nested facts."""
    node: Any = facts
    for part in attribute.split("."):
        if not isinstance(node, Mapping) or part not in node or node[part] is None:
            return False, None
        node = node[part]
    return True, node


@dataclass(frozen=True)
class FactError(ValueError):
    """A fact of the wrong type for its attribute."""

    attribute: str
    message: str

    def __str__(self) -> str:
        return f"{self.attribute}: {self.message}"


def typed_value(attribute: str, value: Any) -> Any:
    """The value as the evaluator compares it: Decimal numbers, aware datetimes, string lists."""
    kind = FACT_ATTRIBUTES[attribute]
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
            raise FactError(attribute, f"expected a number, got {value!r}")
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except ArithmeticError:
            raise FactError(attribute, f"expected a number, got {value!r}") from None
        if not number.is_finite():
            raise FactError(attribute, f"expected a finite number, got {value!r}")
        return number
    if kind == "boolean":
        if not isinstance(value, bool):
            raise FactError(attribute, f"expected true or false, got {value!r}")
        return value
    if kind == "datetime":
        try:
            parsed = parse_instant(value)
        except ValueError as exc:
            raise FactError(attribute, str(exc)) from None
        if not isinstance(parsed, dt.datetime):
            raise FactError(attribute, f"expected a date or date-time, got {value!r}")
        return parsed
    if kind == "list":
        if not isinstance(value, (list, tuple, set, frozenset)) or not all(isinstance(v, str) for v in value):
            raise FactError(attribute, f"expected a list of ids, got {value!r}")
        return sorted(set(value))
    if not isinstance(value, str):
        raise FactError(attribute, f"expected text, got {value!r}")
    return value


_PREFIXES = {attribute.rsplit(".", 1)[0] for attribute in FACT_ATTRIBUTES if "." in attribute}
# Every proper prefix of an attribute ("party" of "party.classification"): where facts nest.
_ALL_PREFIXES = {".".join(a.split(".")[:i]) for a in FACT_ATTRIBUTES for i in range(1, a.count(".") + 1)}


def typed_facts(facts: Mapping[str, Any], attributes: Iterable[str] | None = None) -> dict[str, Any]:
    """Dotted attribute -> typed value, for the attributes present in ``facts`` (all of the
    model's, or only ``attributes``)."""
    wanted = None if attributes is None else set(attributes)
    values: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = prefix + key
            if value is None:
                continue
            if path in FACT_ATTRIBUTES:
                if wanted is None or path in wanted:
                    values[path] = typed_value(path, value)
            elif path in _PREFIXES and isinstance(value, dict):
                walk(value, path + ".")

    walk(facts, "")
    return values


def unknown_fact_paths(facts: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Paths in ``facts`` that are not attributes of the model (typos in fact files)."""
    unknown = []
    for key, value in facts.items():
        path = f"{prefix}{key}"
        if path in FACT_ATTRIBUTES:
            continue
        if isinstance(value, Mapping) and path in _ALL_PREFIXES:
            unknown += unknown_fact_paths(value, path + ".")
        else:
            unknown.append(path)
    return unknown


def local_minute(instant: dt.datetime, zone: ZoneInfo) -> tuple[int, int]:
    """(minute of the day, ISO weekday 1-7) of an instant in a time zone."""
    try:
        local = instant.astimezone(zone)
    except OverflowError:
        # At the ends of the calendar (year 1 or 9999) the local time falls outside it. 400
        # Gregorian years are exactly 146097 days, a whole number of weeks: the minute of the
        # day and the weekday are those of the same instant 400 years nearer.
        shift = dt.timedelta(days=146097) * (1 if instant.year < 5000 else -1)
        local = (instant + shift).astimezone(zone)
    return local.hour * 60 + local.minute, local.isoweekday()


def engine_number(value: Decimal | dt.datetime) -> float:
    """The binary float the engine compares for an exact number or instant, fact or rule
    constant alike: the nearest float (a number beyond their range is the largest one: the
    engine cannot take an infinity), or the epoch seconds of an instant.

    Both are monotone (x <= y gives engine_number(x) <= engine_number(y)), so the engine's
    comparison of a fact with a constant can differ from the exact one only when the two
    have the same float and are not equal: :class:`bssrules.rules.engine.RuleEngine` decides
    those cases exactly."""
    if isinstance(value, dt.datetime):
        return value.timestamp()
    number = float(value)
    return number if -_LARGEST <= number <= _LARGEST else math.copysign(_LARGEST, number)


# Per attribute: its kind and the keys of its fields in the engine's event (computed once:
# flattening runs for every fact set of every decision).
_FLAT = {attribute: (kind, engine_key(attribute), engine_key(attribute, "present"), engine_key(attribute, "minute"),
                     engine_key(attribute, "weekday"), engine_key(attribute, "count"))
         for attribute, kind in FACT_ATTRIBUTES.items()}


def flatten_facts(values: Mapping[str, Any], zone: ZoneInfo, attributes: Iterable[str]) -> dict[str, Any]:
    """The engine event for typed values: numbers as floats (:func:`engine_number`),
    datetimes as epoch seconds plus minute-of-day and weekday in ``zone``, lists with their
    size, and a presence flag for every attribute a rule refers to (so absence is testable
    without ``$nex``)."""
    event: dict[str, Any] = {ALWAYS: True}
    for attribute in attributes:
        kind, key, present_key, minute_key, weekday_key, count_key = _FLAT[attribute]
        present = attribute in values
        event[present_key] = present
        if not present:
            continue
        value = values[attribute]
        if kind == "number":  # engine_number, inline (one call per number of every decision)
            number = float(value)
            event[key] = number if -_LARGEST <= number <= _LARGEST else math.copysign(_LARGEST, number)
        elif kind == "datetime":
            event[key] = value.timestamp()
            event[minute_key], event[weekday_key] = local_minute(value, zone)
        elif kind == "list":
            event[key] = list(value)
            event[count_key] = len(value)
        else:
            event[key] = value
    return event
