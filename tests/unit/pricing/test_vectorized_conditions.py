"""Conditions compiled to polars expressions hold exactly where the reference evaluator says.

Every operator of every attribute type, absent attributes (false but for ``exists: false``;
``not`` of an absent test holds), exact numbers, time zones (local minute and weekday) and
time windows wrapping over midnight; then random condition trees against
:func:`bssrules.rules.evaluate.holds`.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.pricing.vectorized import FactColumns, condition_expr
from bssrules.rules.conditions import Condition, parse_condition
from bssrules.rules.evaluate import holds
from bssrules.rules.facts import FACT_ATTRIBUTES

UTC = dt.timezone.utc
DTYPES = {"string": pl.Utf8, "boolean": pl.Boolean, "datetime": pl.Datetime("us", "UTC"), "list": pl.List(pl.Utf8)}


def condition(data: dict[str, Any]) -> Condition:
    problems: list[str] = []
    parsed = parse_condition(data, (), lambda path, message, suggestion: problems.append(message))
    assert parsed is not None, problems
    return parsed


def frame_of(rows: Sequence[Mapping[str, Any]]) -> tuple[pl.DataFrame, FactColumns]:
    """Typed fact values (attribute -> value; absent when missing) as a frame of one column
    per attribute, numbers as scaled integers."""
    attributes = sorted({a for row in rows for a in row})
    columns: dict[str, pl.Series] = {}
    digits: dict[str, int] = {}
    for attribute in attributes:
        kind = FACT_ATTRIBUTES[attribute]
        values = [row.get(attribute) for row in rows]
        if kind == "number":
            digits[attribute] = max((-v.normalize().as_tuple().exponent for v in values if v is not None), default=0)
            digits[attribute] = max(digits[attribute], 0)
            columns[attribute] = pl.Series(attribute, [None if v is None else int(v.scaleb(digits[attribute]))
                                                       for v in values], dtype=pl.Int64)
        else:
            columns[attribute] = pl.Series(attribute, values, dtype=DTYPES[kind])
    frame = pl.DataFrame(list(columns.values())) if columns else pl.DataFrame({"_": [0] * len(rows)})
    return frame, FactColumns({a: pl.col(a) for a in attributes}, digits)


def vectorised(cond: Condition, rows: Sequence[Mapping[str, Any]], zone: str = "UTC") -> list[bool]:
    frame, facts = frame_of(rows)
    # with_columns: a condition that is a constant still gives one value per record
    return frame.with_columns(condition_expr(cond, facts, zone).alias("holds"))["holds"].to_list()


def reference(cond: Condition, rows: Sequence[Mapping[str, Any]], zone: str = "UTC") -> list[bool]:
    return [holds(cond, row, ZoneInfo(zone)) for row in rows]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]], list[bool]]] = [
    # strings
    ("eq", {"party.classification": "VIP"}, [{"party.classification": "VIP"}, {"party.classification": "GOLD"}, {}],
     [True, False, False]),
    ("ne", {"party.classification": {"ne": "VIP"}},
     [{"party.classification": "VIP"}, {"party.classification": "GOLD"}, {}], [False, True, False]),
    ("in", {"usage.service": {"in": ["data", "voice"]}}, [{"usage.service": "data"}, {"usage.service": "sms"}, {}],
     [True, False, False]),
    ("notIn", {"usage.service": {"notIn": ["data", "voice"]}},
     [{"usage.service": "data"}, {"usage.service": "sms"}, {}], [False, True, False]),
    # booleans
    ("boolean eq", {"usage.roaming": True}, [{"usage.roaming": True}, {"usage.roaming": False}, {}],
     [True, False, False]),
    ("boolean ne", {"usage.roaming": {"ne": True}}, [{"usage.roaming": True}, {"usage.roaming": False}, {}],
     [False, True, False]),
    # numbers, exactly
    ("number eq", {"usage.volume": Decimal("0.1")},
     [{"usage.volume": Decimal("0.1")}, {"usage.volume": Decimal("0.10000001")}, {}], [True, False, False]),
    ("number lt", {"usage.volume": {"lt": Decimal("2.5")}},
     [{"usage.volume": Decimal("2.499999")}, {"usage.volume": Decimal("2.5")}, {}], [True, False, False]),
    ("number lte", {"usage.volume": {"lte": Decimal("2.5")}},
     [{"usage.volume": Decimal("2.5")}, {"usage.volume": Decimal("2.500001")}], [True, False]),
    ("number gt, a bound finer than the values", {"usage.volume": {"gt": Decimal("2.0000001")}},
     [{"usage.volume": Decimal("2")}, {"usage.volume": Decimal("2.1")}], [False, True]),
    ("number gte", {"usage.volume": {"gte": 3}}, [{"usage.volume": Decimal("2.99")}, {"usage.volume": Decimal(3)}],
     [False, True]),
    ("number in / notIn", {"any": [{"usage.volume": {"in": [1, 2]}}, {"usage.volume": {"notIn": [0, 1, 2, 3]}}]},
     [{"usage.volume": Decimal(2)}, {"usage.volume": Decimal(3)}, {"usage.volume": Decimal(4)}, {}],
     [True, False, True, False]),
    ("number between, both ends", {"usage.volume": {"between": [1, 2]}},
     [{"usage.volume": Decimal(1)}, {"usage.volume": Decimal(2)}, {"usage.volume": Decimal("2.01")}],
     [True, True, False]),
    ("number beyond int64", {"usage.volume": {"lt": Decimal("1e15")}}, [{"usage.volume": Decimal("123456.123456")}],
     [True]),
    # date-times
    ("datetime lt / gte", {"all": [{"now": {"gte": "2026-06-01"}}, {"now": {"lt": "2026-06-02T00:00:00Z"}}]},
     [{"now": at("2026-06-01T00:00:00Z")}, {"now": at("2026-06-02T00:00:00Z")}, {"now": at("2026-05-31T23:59:59Z")}],
     [True, False, False]),
    ("datetime between", {"usage.start": {"between": ["2026-06-01T10:00:00Z", "2026-06-01T11:00:00Z"]}},
     [{"usage.start": at("2026-06-01T11:00:00Z")}, {"usage.start": at("2026-06-01T11:00:00.000001Z")}, {}],
     [True, False, False]),
    ("datetime lte / gt", {"any": [{"usage.start": {"lte": "2026-06-01T00:00:00Z"}},
                                   {"usage.start": {"gt": "2026-07-01T00:00:00Z"}}]},
     [{"usage.start": at("2026-06-01T00:00:00Z")}, {"usage.start": at("2026-06-15T00:00:00Z")},
      {"usage.start": at("2026-07-01T00:00:01Z")}], [True, False, True]),
    ("timeOfDay, both minutes included", {"usage.start": {"timeOfDay": {"from": "00:01", "to": "06:59"}}},
     [{"usage.start": at("2026-06-01T00:00:59Z")}, {"usage.start": at("2026-06-01T00:01:00Z")},
      {"usage.start": at("2026-06-01T06:59:59Z")}, {"usage.start": at("2026-06-01T07:00:00Z")}, {}],
     [False, True, True, False, False]),
    ("timeOfDay over midnight", {"usage.start": {"timeOfDay": {"from": "22:00", "to": "05:59"}}},
     [{"usage.start": at("2026-06-01T21:59:00Z")}, {"usage.start": at("2026-06-01T22:00:00Z")},
      {"usage.start": at("2026-06-02T00:00:00Z")}, {"usage.start": at("2026-06-02T05:59:30Z")},
      {"usage.start": at("2026-06-02T06:00:00Z")}], [False, True, True, True, False]),
    ("dayOfWeek", {"usage.start": {"dayOfWeek": ["sat", "sun"]}},
     [{"usage.start": at("2026-06-06T12:00:00Z")}, {"usage.start": at("2026-06-08T12:00:00Z")}, {}],
     [True, False, False]),
    # lists
    ("contains", {"inventory.activeOfferings": {"contains": "a"}},
     [{"inventory.activeOfferings": ["a", "b"]}, {"inventory.activeOfferings": []}, {}], [True, False, False]),
    ("a list given a plain value: contains", {"inventory.activeOfferings": "b"},
     [{"inventory.activeOfferings": ["a", "b"]}, {"inventory.activeOfferings": ["a"]}], [True, False]),
    ("notContains", {"inventory.activeOfferings": {"notContains": "a"}},
     [{"inventory.activeOfferings": ["a", "b"]}, {"inventory.activeOfferings": []}, {}], [False, True, False]),
    ("containsAny", {"inventory.activeOfferings": {"containsAny": ["a", "c"]}},
     [{"inventory.activeOfferings": ["b", "c"]}, {"inventory.activeOfferings": ["b"]}, {}], [True, False, False]),
    ("containsAll", {"inventory.activeOfferings": {"containsAll": ["a", "c"]}},
     [{"inventory.activeOfferings": ["a", "b", "c"]}, {"inventory.activeOfferings": ["a"]}, {}],
     [True, False, False]),
    # presence
    ("exists true", {"usage.unit": {"exists": True}}, [{"usage.unit": "GB"}, {}], [True, False]),
    ("exists false", {"usage.unit": {"exists": False}}, [{"usage.unit": "GB"}, {}], [False, True]),
    ("not of an absent attribute holds", {"not": {"usage.country": "FR"}},
     [{"usage.country": "FR"}, {"usage.country": "DE"}, {}], [False, True, True]),
    ("an attribute no record has", {"all": [{"channel.id": {"exists": False}}, {"not": {"channel.id": "web"}}]},
     [{}, {}], [True, True]),
    ("an attribute no record has, tested", {"channel.id": {"in": ["web"]}}, [{}], [False]),
]


@pytest.mark.parametrize("name, data, rows, expected", CASES, ids=[c[0] for c in CASES])
def test_each_operator_holds_where_the_reference_evaluator_says(name: str, data: dict[str, Any],
                                                                 rows: list[dict[str, Any]],
                                                                 expected: list[bool]) -> None:
    cond = condition(data)
    assert reference(cond, rows) == expected, "the expectation itself disagrees with the reference"
    assert vectorised(cond, rows) == expected


@pytest.mark.parametrize("zone, instant, window, day, expected", [
    # 22:30 UTC on Saturday is 00:30 on Sunday in Paris (summer time, UTC+2)
    ("Europe/Paris", "2026-06-06T22:30:00Z", ("00:00", "01:00"), "sun", True),
    ("UTC", "2026-06-06T22:30:00Z", ("00:00", "01:00"), "sun", False),
    # the night clocks move: 00:59 UTC is 01:59 before, 03:00 after the change in Paris
    ("Europe/Paris", "2026-03-29T00:59:00Z", ("01:00", "01:59"), "sun", True),
    ("Europe/Paris", "2026-03-29T01:00:00Z", ("03:00", "03:00"), "sun", True),
    # half-hour zone
    ("Asia/Kolkata", "2026-06-07T18:29:00Z", ("23:59", "23:59"), "sun", True),
    ("Asia/Kolkata", "2026-06-07T18:30:00Z", ("00:00", "00:00"), "mon", True),
    # behind UTC: still the day before
    ("America/New_York", "2026-06-08T02:00:00Z", ("22:00", "22:00"), "sun", True),
])
def test_time_of_day_and_day_of_week_are_local_to_the_rule_sets_zone(zone: str, instant: str,
                                                                      window: tuple[str, str], day: str,
                                                                      expected: bool) -> None:
    cond = condition({"usage.start": {"timeOfDay": {"from": window[0], "to": window[1]}, "dayOfWeek": [day]}})
    rows = [{"usage.start": at(instant)}]
    assert reference(cond, rows, zone) == [expected]
    assert vectorised(cond, rows, zone) == [expected]


def test_all_of_nothing_holds_and_any_of_nothing_does_not() -> None:
    from bssrules.rules.conditions import All, Any_

    rows = [{"usage.service": "data"}, {}]
    assert vectorised(All(()), rows) == [True, True]
    assert vectorised(Any_(()), rows) == [False, False]


# ------------------------------------------------------------------------ random trees

SERVICES = ["data", "voice"]
OFFERINGS = ["a", "b", "c"]
BASE = dt.datetime(2026, 3, 28, tzinfo=UTC)


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    minute = st.integers(0, 1439).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
    instant = st.integers(0, 96).map(lambda h: (BASE + dt.timedelta(hours=h)).isoformat())
    number = st.integers(0, 400).map(lambda n: Decimal(n) / 100)
    leaves = [
        st.sampled_from(SERVICES).map(lambda s: {"usage.service": s}),
        st.tuples(st.sampled_from(["ne", "in", "notIn"]), st.sampled_from(SERVICES)).map(
            lambda t: {"usage.service": {t[0]: [t[1]] if t[0] in ("in", "notIn") else t[1]}}),
        st.tuples(st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte"]), number).map(
            lambda t: {"usage.volume": {t[0]: t[1]}}),
        st.tuples(number, number).map(lambda t: {"usage.volume": {"between": sorted(t)}}),
        st.tuples(minute, minute).map(lambda w: {"usage.start": {"timeOfDay": {"from": w[0], "to": w[1]}}}),
        st.lists(st.sampled_from(["mon", "tue", "sat", "sun"]), min_size=1, unique=True).map(
            lambda d: {"usage.start": {"dayOfWeek": d}}),
        st.tuples(st.sampled_from(["lt", "lte", "gt", "gte"]), instant).map(lambda t: {"now": {t[0]: t[1]}}),
        st.tuples(instant, instant).map(lambda t: {"now": {"between": sorted(t)}}),
        st.booleans().map(lambda b: {"usage.roaming": b}),
        st.tuples(st.sampled_from(["usage.roaming", "usage.volume", "party.classification",
                                   "inventory.activeOfferings"]), st.booleans())
        .map(lambda t: {t[0]: {"exists": t[1]}}),
        st.tuples(st.sampled_from(["contains", "notContains"]), st.sampled_from(OFFERINGS)).map(
            lambda t: {"inventory.activeOfferings": {t[0]: t[1]}}),
        st.tuples(st.sampled_from(["containsAny", "containsAll"]),
                  st.lists(st.sampled_from(OFFERINGS), min_size=1, unique=True)).map(
            lambda t: {"inventory.activeOfferings": {t[0]: t[1]}}),
        st.sampled_from(["VIP", "GOLD"]).map(lambda c: {"party.classification": c}),
    ]
    if depth < 3:
        inner = trees(depth + 1)
        leaves += [st.lists(inner, min_size=1, max_size=3).map(lambda c: {"all": c}),
                   st.lists(inner, min_size=1, max_size=3).map(lambda c: {"any": c}),
                   inner.map(lambda c: {"not": c})]
    return draw(st.one_of(leaves))


@st.composite
def fact_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        start = BASE + dt.timedelta(minutes=draw(st.integers(0, 4 * 1440)), seconds=draw(st.integers(0, 59)))
        row: dict[str, Any] = {"usage.start": start, "now": start}
        if draw(st.integers(0, 5)):
            row["usage.service"] = draw(st.sampled_from(SERVICES))
        if draw(st.integers(0, 5)):
            row["usage.volume"] = Decimal(draw(st.integers(0, 40_000))) / 10_000
        if draw(st.booleans()):
            row["usage.roaming"] = draw(st.booleans())
        if draw(st.booleans()):
            row["party.classification"] = draw(st.sampled_from(["VIP", "GOLD", "SILVER"]))
        if draw(st.integers(0, 4)):
            row["inventory.activeOfferings"] = draw(st.lists(st.sampled_from(OFFERINGS), unique=True))
        rows.append(row)
    return rows


@settings(max_examples=150, deadline=None)
@given(trees(), fact_rows(), st.sampled_from(["UTC", "Europe/Paris", "Asia/Kolkata", "America/New_York"]))
def test_random_conditions_hold_exactly_where_the_reference_evaluator_says(data: dict[str, Any],
                                                                           rows: list[dict[str, Any]],
                                                                           zone: str) -> None:
    cond = condition(data)
    assert vectorised(cond, rows, zone) == reference(cond, rows, zone)
