"""The condition language shared by every rule kind: its syntax tree and its parser.

A condition is YAML like::

    all:
      - party.classification: {in: [VIP, GOLD]}
      - usage.start: {timeOfDay: {from: "00:01", to: "06:59"}}
      - not: {channel.id: csp-shop}

A mapping of several attributes means all of them; an attribute given a plain value means
equality (for a list attribute: contains). Attributes are checked against the fact model
(:mod:`bssrules.rules.facts`) and values against the attribute's type when parsing, so
mistakes surface with a position before anything runs.
"""
from __future__ import annotations

import datetime as dt
import inspect
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Protocol, TypeGuard, Union

from bssrules.catalog.types import parse_instant
from bssrules.errors import did_you_mean
from bssrules.rules.facts import FACT_ATTRIBUTES, WEEKDAYS, weekday_suggestion

Path = tuple[Union[str, int], ...]
Report = Callable[[Path, str, Union[str, None]], None]


class KeyReport(Protocol):
    """A reporter that may also be told to point at the key of ``path`` (a misspelt name)
    rather than at its value."""

    def __call__(self, path: Path, message: str, suggestion: str | None = None, /, at_key: bool = False) -> None: ...


OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "string": ("eq", "ne", "in", "notIn", "exists"),
    "number": ("eq", "ne", "lt", "lte", "gt", "gte", "in", "notIn", "between", "exists"),
    "boolean": ("eq", "ne", "exists"),
    "datetime": ("lt", "lte", "gt", "gte", "between", "timeOfDay", "dayOfWeek", "exists"),
    "list": ("contains", "notContains", "containsAny", "containsAll", "exists"),
}
COMBINATORS = ("all", "any", "not")
# How deep all / any / not may nest in one another: far beyond any real rule, and well within
# what the recursive walks of a condition (explain, lint, evaluation) can take.
MAX_DEPTH = 32
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class TimeWindow:
    """Minutes of the day, both ends included (00:01–06:59 holds 06:59 and not 07:00);
    ``start > end`` wraps over midnight."""

    start: int
    end: int

    def contains(self, minute: int) -> bool:
        if self.start <= self.end:
            return self.start <= minute <= self.end
        return minute >= self.start or minute <= self.end

    def minutes(self) -> set[int]:
        return {m for m in range(1440) if self.contains(m)}

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}–{self.end // 60:02d}:{self.end % 60:02d}"


@dataclass(frozen=True)
class Test:
    """One test of one attribute: ``party.classification in [VIP, GOLD]``."""

    attribute: str
    op: str
    value: Any
    path: Path = ()

    def __str__(self) -> str:
        if self.op == "dayOfWeek":
            shown = "[" + ", ".join(WEEKDAYS[d - 1] for d in self.value) + "]"
        elif isinstance(self.value, (list, tuple)):
            shown = "[" + ", ".join(_text(v) for v in self.value) + "]"
        else:
            shown = _text(self.value)
        return f"{self.attribute} {self.op} {shown}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


@dataclass(frozen=True)
class All:
    items: tuple["Condition", ...]

    def __str__(self) -> str:
        return "always" if not self.items else "(" + " and ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Any_:
    items: tuple["Condition", ...]

    def __str__(self) -> str:
        return "never" if not self.items else "(" + " or ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Not:
    item: "Condition"

    def __str__(self) -> str:
        return f"not {self.item}"


Condition = Union[Test, All, Any_, Not]
ALWAYS = All(())


def attributes_of(condition: Condition) -> set[str]:
    """Every attribute a condition refers to."""
    if isinstance(condition, Test):
        return {condition.attribute}
    if isinstance(condition, Not):
        return attributes_of(condition.item)
    return set().union(*(attributes_of(c) for c in condition.items)) if condition.items else set()


def tests_of(condition: Condition) -> list[Test]:
    """Every test in a condition, in order."""
    if isinstance(condition, Test):
        return [condition]
    if isinstance(condition, Not):
        return tests_of(condition.item)
    return [t for c in condition.items for t in tests_of(c)]


# ------------------------------------------------------------------------------- parsing


class _Invalid(Exception):
    def __init__(self, message: str, suggestion: str | None = None):
        super().__init__(message)
        self.suggestion = suggestion


def parse_condition(data: Any, path: Path, report: Report) -> Condition | None:
    """Parse a condition; every problem goes to ``report(path, message, suggestion)``.
    Returns None when there was any problem."""
    problems: list[int] = []

    keyed = report if _accepts_at_key(report) else None

    def counted(p: Path, message: str, suggestion: str | None = None, at_key: bool = False) -> None:
        problems.append(1)
        if at_key and keyed is not None:
            keyed(p, message, suggestion, at_key=True)
        else:
            report(p, message, suggestion)

    condition = _condition(data, path, counted, 0)
    return None if problems else condition


def _accepts_at_key(report: Callable[..., object]) -> TypeGuard[KeyReport]:
    """Whether a reporter takes ``at_key`` (to point at a misspelt name rather than its value);
    a plain ``(path, message, suggestion)`` reporter keeps working."""
    try:
        parameters = inspect.signature(report).parameters
    except (TypeError, ValueError):
        return False
    return "at_key" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())


def _condition(data: Any, path: Path, report: KeyReport, depth: int) -> Condition:
    """``depth``: how many all / any / not hold this condition."""
    if not isinstance(data, dict) or not data:
        report(path, "a condition is a mapping of attributes to tests, or all / any / not", None)
        return ALWAYS
    parts: list[Condition] = []
    for key, value in data.items():
        here = path + (key,)
        if key in COMBINATORS and depth >= MAX_DEPTH:
            report(here, f"conditions nest too deeply: all / any / not may hold one another at most "
                         f"{MAX_DEPTH} deep; split the rule (or its condition) instead", None, True)
            continue
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                report(here, f"'{key}' takes a non-empty list of conditions", None)
                continue
            items = tuple(_condition(v, here + (i,), report, depth + 1) for i, v in enumerate(value))
            parts.append(All(items) if key == "all" else Any_(items))
        elif key == "not":
            parts.append(Not(_condition(value, here, report, depth + 1)))
        elif key in FACT_ATTRIBUTES:
            parts.extend(_tests(key, value, here, report))
        else:
            known = list(FACT_ATTRIBUTES) + list(COMBINATORS)
            report(here, f"unknown attribute '{key}'", did_you_mean(key, known), True)
            _unknown_tests(value, here, report)
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _unknown_tests(value: Any, path: Path, report: KeyReport) -> None:
    """The tests under an unknown attribute that are no test of any attribute, said in the same
    run as the attribute (``{usage.servic: {eqq: data}}``: 'eqq' came only once 'usage.servic'
    was fixed); the tests' operands wait for the attribute's type."""
    if not isinstance(value, dict):
        return
    every = sorted({op for ops in OPERATORS_BY_TYPE.values() for op in ops})
    for op in value:
        if op not in every:
            report(path + (op,), f"'{op}' is no test of any attribute; the tests are: {', '.join(every)}",
                   did_you_mean(str(op), every), True)


def _tests(attribute: str, value: Any, path: Path, report: KeyReport) -> list[Test]:
    kind = FACT_ATTRIBUTES[attribute]
    if not isinstance(value, dict):
        op = "contains" if kind == "list" else "eq"
        return _one(attribute, op, value, path, report)
    if not value:
        report(path, f"no test given for '{attribute}'", None)
        return []
    tests = []
    for op, operand in value.items():
        allowed = OPERATORS_BY_TYPE[kind]
        if op not in allowed:
            report(path + (op,), f"'{op}' is not a test for {kind} attribute '{attribute}'; "
                                 f"use one of: {', '.join(allowed)}", did_you_mean(op, allowed), True)
            continue
        tests += _one(attribute, op, operand, path + (op,), report)
    return tests


def _one(attribute: str, op: str, operand: Any, path: Path, report: Report) -> list[Test]:
    kind = FACT_ATTRIBUTES[attribute]
    try:
        value = _operand(attribute, kind, op, operand)
    except _Invalid as exc:
        report(path, str(exc), exc.suggestion)
        return []
    return [Test(attribute, op, value, path)]


def _scalar(attribute: str, kind: str, value: Any) -> Any:
    if kind in ("string", "list"):
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise _Invalid(f"'{attribute}' compares with text, got {_show(value)}")
        return str(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise _Invalid(f"'{attribute}' is a number, got {_show(value)}")
        return Decimal(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _Invalid(f"'{attribute}' is true or false, got {_show(value)}")
        return value
    if kind == "datetime":
        try:
            parsed = parse_instant(value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
        if not isinstance(parsed, dt.datetime):
            raise _Invalid(f"'{attribute}' compares with a date or date-time, got {_show(value)}")
        return parsed
    raise _Invalid(f"unsupported type {kind}")


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def _list(attribute: str, kind: str, op: str, operand: Any) -> tuple[Any, ...]:
    if not isinstance(operand, list) or not operand:
        raise _Invalid(f"'{op}' takes a non-empty list")
    values = tuple(_scalar(attribute, kind, v) for v in operand)
    if len(set(values)) != len(values):
        again = next(v for n, v in enumerate(values) if v in values[:n])
        raise _Invalid(f"'{op}' lists the value {_show(again)} more than once")
    return values


def _operand(attribute: str, kind: str, op: str, operand: Any) -> Any:
    if op == "exists":
        if not isinstance(operand, bool):
            raise _Invalid("'exists' takes true or false")
        return operand
    if op in ("in", "notIn", "containsAny", "containsAll"):
        return _list(attribute, kind, op, operand)
    if op == "between":
        if not isinstance(operand, list) or len(operand) != 2:
            raise _Invalid("'between' takes [low, high] (both included)")
        low, high = (_scalar(attribute, kind, v) for v in operand)
        if low > high:
            raise _Invalid(f"'between' needs low ≤ high, got [{operand[0]}, {operand[1]}]")
        return (low, high)
    if op == "timeOfDay":
        if not isinstance(operand, dict) or set(operand) != {"from", "to"}:
            raise _Invalid("'timeOfDay' takes {from: \"HH:MM\", to: \"HH:MM\"} (both minutes included)")
        minutes = []
        for end in ("from", "to"):
            match = _TIME.match(str(operand[end]))
            if not match:
                raise _Invalid(f"timeOfDay {end} '{operand[end]}' is not a time of day: write it \"HH:MM\", "
                               "from 00:00 to 23:59")
            minutes.append(int(match.group(1)) * 60 + int(match.group(2)))
        return TimeWindow(*minutes)
    if op == "dayOfWeek":
        days = operand if isinstance(operand, list) else [operand]
        wrong = [d for d in days if d not in WEEKDAYS]
        if wrong or not days:
            raise _Invalid(f"dayOfWeek takes days among {', '.join(WEEKDAYS)}; got {', '.join(map(str, wrong)) or 'none'}",
                           weekday_suggestion(wrong[0]) if wrong else None)
        return tuple(sorted({WEEKDAYS.index(d) + 1 for d in days}))
    if op in ("contains", "notContains"):
        return _scalar(attribute, kind, operand)
    return _scalar(attribute, kind, operand)
