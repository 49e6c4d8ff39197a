"""The catalog model's own rules (characteristics, bundles, prices, offerings, validity
periods, instants) and its TMF620 shape both ways."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bssrules import jsontext
from bssrules.catalog import load_catalog
from bssrules.catalog.model import (
    BundledOffering, Category, Characteristic, CharacteristicUse, Entity, OfferingRelationship, ProductCatalog,
    ProductOffering, ProductOfferingPrice, ProductSpecification, Range, RelatedParty, ResourceSpecification,
    value_matches_type,
)
from bssrules.catalog.tmf import Meta, from_tmf, to_tmf
from bssrules.catalog.types import ValidFor, format_instant, parse_instant
from bssrules.errors import InvalidInput

UTC = dt.timezone.utc
ROOT = Path(__file__).resolve().parents[2]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def rejects(message: str):  # type: ignore[no-untyped-def]
    """pytest.raises for a ValidationError whose text contains ``message`` verbatim."""
    return pytest.raises(ValidationError, match=re.escape(message))


# --- characteristics -------------------------------------------------------------------


@pytest.mark.parametrize(("value", "value_type", "expected"), [
    ("16GB", "string", True), (5, "string", False),
    (5, "integer", True), (True, "integer", False), (Decimal("5"), "integer", False),
    (5, "number", True), (Decimal("2.5"), "number", True), (False, "number", False), ("2.5", "number", False),
    (True, "boolean", True), (1, "boolean", False), ("true", "boolean", False),
    ("2026-03-01", "date", True), ("2026-3-1", "date", False), ("2026-03-01T10:00:00Z", "date", False),
    (20260301, "date", False),
])
def test_a_value_matches_a_value_type_only_when_it_is_of_that_type(value: Any, value_type: str,
                                                                    expected: bool) -> None:
    assert value_matches_type(value, value_type) is expected


@pytest.mark.parametrize(("value_type", "values"), [
    ("string", ["LARGE", "SMALL"]), ("integer", [1, 5, 10]), ("number", [1, Decimal("2.5")]),
    ("boolean", [True, False]), ("date", ["2026-01-01", "2026-07-01"]),
])
def test_values_of_the_declared_value_type_are_accepted(value_type: str, values: list[Any]) -> None:
    characteristic = Characteristic(name="c", value_type=value_type, values=values, default=values[-1])
    assert characteristic.values == values
    assert characteristic.default == values[-1]


@pytest.mark.parametrize(("value_type", "values", "message"), [
    ("integer", [1, True], "value true is not of valueType integer"),
    ("integer", [1, Decimal("1.5")], "value 1.5 is not of valueType integer"),
    ("string", ["a", 5], "value 5 is not of valueType string"),
    ("boolean", [True, 1], "value 1 is not of valueType boolean"),
    ("date", ["2026-01-01", "1 May"], "value '1 May' is not of valueType date"),
    ("number", [1, False], "value false is not of valueType number"),
])
def test_a_value_of_another_type_is_refused(value_type: str, values: list[Any], message: str) -> None:
    with rejects(message):
        Characteristic(name="c", value_type=value_type, values=values)


def test_the_value_type_defaults_to_string() -> None:
    assert Characteristic(name="c", values=["a"]).value_type == "string"
    with rejects("value 1 is not of valueType string"):
        Characteristic(name="c", values=[1])


def test_repeated_values_are_refused_and_named() -> None:
    with rejects("values are not unique: 1"):
        Characteristic(name="c", value_type="integer", values=[1, 2, 1])
    with rejects("values are not unique: a"):
        Characteristic(name="c", values=["a", "b", "a"])


def test_numerically_equal_number_values_are_refused_as_repeated() -> None:
    with rejects("values are not unique: 2.5, 2.50"):
        Characteristic(name="c", value_type="number", values=[Decimal("2.5"), Decimal("2.50")])
    with rejects("values are not unique: 1, 1.0"):
        Characteristic(name="c", value_type="number", values=[1, Decimal("1.0"), Decimal("3")])


def test_true_and_one_are_different_values() -> None:
    assert not value_matches_type(True, "integer")
    assert Characteristic(name="c", value_type="string", values=["1", "1.0"]).values == ["1", "1.0"]


def test_a_number_value_has_at_most_eight_decimals() -> None:
    assert Characteristic(name="c", value_type="number", values=[Decimal("0.12345678")]).values == [
        Decimal("0.12345678")]
    with rejects("expected a number of at most 8 decimal places, got 0.123456789"):
        Characteristic(name="c", value_type="number", values=[Decimal("0.123456789")])


def test_an_impossible_calendar_date_is_not_a_date_value() -> None:
    with rejects("is not of valueType date"):
        Characteristic(name="d", value_type="date", values=["2026-02-30"])


def test_a_range_bounds_integer_and_number_characteristics_inclusively() -> None:
    characteristic = Characteristic(name="c", value_type="integer", range=Range(min=2, max=5), default=5)
    assert characteristic.range == Range(min=2, max=5)
    assert Characteristic(name="c", value_type="integer", range={"min": 2, "max": 5}, default=2).default == 2
    assert Characteristic(name="c", value_type="number", range={"min": 0, "max": 1},
                          default=Decimal("0.5")).default == Decimal("0.5")
    assert Range(min=3, max=3).min == 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"value_type": "string", "range": {"min": 1, "max": 2}}, "a range needs valueType integer or number, not string"),
    ({"value_type": "date", "range": {"min": 1, "max": 2}}, "a range needs valueType integer or number, not date"),
    ({"value_type": "integer", "values": [1], "range": {"min": 1, "max": 2}}, "give either values or range, not both"),
    ({"value_type": "integer", "range": {"min": 5, "max": 2}}, "range min 5 is greater than max 2"),
    ({"value_type": "integer", "range": {"min": 2, "max": 5}, "default": 6}, "default 6 is outside the range 2..5"),
    ({"value_type": "integer", "range": {"min": 2, "max": 5}, "default": 1}, "default 1 is outside the range 2..5"),
    ({"value_type": "integer", "values": [1, 2], "default": 3}, "default 3 is not one of the values"),
    ({"value_type": "integer", "default": "3"}, "default '3' is not of valueType integer"),
    ({"value_type": "boolean", "default": 1}, "default 1 is not of valueType boolean"),
    ({"min_cardinality": 2, "max_cardinality": 1}, "minCardinality 2 is greater than maxCardinality 1"),
    ({"max_cardinality": 0}, "Input should be greater than or equal to 1"),
    ({"min_cardinality": -1}, "Input should be greater than or equal to 0"),
    ({"value_type": "decimal"}, "Input should be 'string', 'integer', 'number', 'boolean' or 'date'"),
])
def test_an_inconsistent_characteristic_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with rejects(message):
        Characteristic(name="c", **kwargs)


def test_a_range_takes_integers_only() -> None:
    with rejects("Input should be a valid integer"):
        Range(min=Decimal("1.5"), max=3)


def test_characteristic_names_are_unique_within_a_specification() -> None:
    with rejects("characteristic names are not unique: a"):
        ProductSpecification(id="s", name="S", characteristics=[{"name": "a"}, {"name": "b"}, {"name": "a"}])
    with rejects("characteristic names are not unique: x"):
        ResourceSpecification(id="r", name="R", characteristics=[{"name": "x"}, {"name": "x"}])


# --- bundles and offerings ---------------------------------------------------------------


def test_a_bundled_offering_defaults_to_exactly_one() -> None:
    item = BundledOffering(offering="a")
    assert (item.min, item.max, item.default, item.default_count) == (1, 1, None, 1)


def test_the_default_count_of_a_bundled_offering_is_its_default_or_else_its_minimum() -> None:
    assert BundledOffering(offering="a", min=0, max=3).default_count == 0
    assert BundledOffering(offering="a", min=0, max=3, default=2).default_count == 2
    assert BundledOffering(offering="a", min=2, max=2, default=2).default_count == 2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"min": 2, "max": 1}, "min 2 is greater than max 1"),
    ({"min": 0, "max": 2, "default": 3}, "default 3 is not between min 0 and max 2"),
    ({"min": 1, "max": 2, "default": 0}, "default 0 is not between min 1 and max 2"),
    ({"max": 0}, "Input should be greater than or equal to 1"),
    ({"min": -1}, "Input should be greater than or equal to 0"),
])
def test_a_bundled_offering_needs_min_at_most_default_at_most_max(kwargs: dict[str, Any], message: str) -> None:
    with rejects(message):
        BundledOffering(offering="a", **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "an offering needs a productSpecification, or a bundle of offerings"),
    ({"product_specification": "s", "channels": ["web", "shop", "web", "shop"]},
     "channel listed more than once: shop, web"),
    ({"product_specification": "s", "categories": ["c", "c"]}, "category listed more than once: c"),
    ({"product_specification": "s", "prices": ["p", "p"]}, "price listed more than once: p"),
    ({"bundle": [{"offering": "a"}, {"offering": "a"}]}, "bundle offering listed more than once: a"),
    ({"product_specification": "s", "relationships": [{"type": "requires", "offering": "a"}] * 2},
     "relationship listed more than once: requires a"),
    ({"product_specification": "s",
      "characteristic_uses": [{"name": "x", "values": [1]}, {"name": "x", "values": [2]}]},
     "characteristicUse listed more than once: x"),
    ({"bundle": [{"offering": "o"}]}, "a bundle cannot contain itself"),
    ({"product_specification": "s", "relationships": [{"type": "option", "offering": "o"}]},
     "an offering cannot be related to itself"),
    ({"bundle": [{"offering": "a"}], "characteristic_uses": [{"name": "x", "values": [1]}]},
     "characteristicUses need a productSpecification"),
])
def test_an_inconsistent_offering_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with rejects(message):
        ProductOffering(id="o", name="O", **kwargs)


def test_one_offering_may_relate_to_another_in_two_different_ways() -> None:
    offering = ProductOffering(id="o", name="O", product_specification="s", relationships=[
        {"type": "option", "offering": "a"}, {"type": "excludes", "offering": "a"}])
    assert [r.type for r in offering.relationships] == ["option", "excludes"]


def test_a_characteristic_use_needs_at_least_one_value() -> None:
    with rejects("List should have at least 1 item after validation, not 0"):
        CharacteristicUse(name="x", values=[])


def test_an_offering_lists_every_reference_with_its_path() -> None:
    offering = ProductOffering(
        id="o", name="O", product_specification="s", bundle=[{"offering": "b1"}, {"offering": "b2"}],
        categories=["c"], prices=["p1", "p2"], channels=["web"], relationships=[{"type": "requires", "offering": "r"}])
    assert offering.refs() == [
        (("productSpecification",), "productSpecification", "s"),
        (("bundle", 0, "offering"), "productOffering", "b1"),
        (("bundle", 1, "offering"), "productOffering", "b2"),
        (("categories", 0), "category", "c"),
        (("prices", 0), "productOfferingPrice", "p1"),
        (("prices", 1), "productOfferingPrice", "p2"),
        (("relationships", 0, "offering"), "productOffering", "r"),
    ]
    assert offering.is_bundle


# --- prices ------------------------------------------------------------------------------


def price(**kwargs: Any) -> ProductOfferingPrice:
    return ProductOfferingPrice(**{"id": "p", "name": "P", "amount": Decimal("9.99"), "currency": "EUR", **kwargs})


def test_each_price_type_has_its_own_shape() -> None:
    one_time = price(price_type="oneTime")
    recurring = price(price_type="recurring", recurring_period="month", period_length=3)
    usage = price(price_type="usage", unit="GB", unit_quantity=Decimal("0.5"))
    assert (one_time.recurring_period, one_time.unit) == (None, None)
    assert (one_time.period_length, one_time.unit_quantity) == (1, 1)
    assert (recurring.recurring_period, recurring.period_length) == ("month", 3)
    assert (usage.unit, usage.unit_quantity) == ("GB", Decimal("0.5"))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"price_type": "recurring"}, "a recurring price needs recurringPeriod (day, week, month or year)"),
    ({"price_type": "oneTime", "recurring_period": "month"},
     "recurringPeriod and periodLength apply to recurring prices, not oneTime"),
    ({"price_type": "usage", "unit": "GB", "period_length": 2},
     "recurringPeriod and periodLength apply to recurring prices, not usage"),
    ({"price_type": "usage"}, "a usage price needs the unit it is charged per (e.g. GB, minute, event)"),
    ({"price_type": "oneTime", "unit": "GB"}, "unit and unitQuantity apply to usage prices, not oneTime"),
    ({"price_type": "recurring", "recurring_period": "month", "unit_quantity": 2},
     "unit and unitQuantity apply to usage prices, not recurring"),
    ({"price_type": "recurring", "recurring_period": "fortnight"}, "Input should be 'day', 'week', 'month' or 'year'"),
    ({"price_type": "recurring", "recurring_period": "month", "period_length": 0},
     "Input should be greater than or equal to 1"),
    ({"price_type": "usage", "unit": "GB", "unit_quantity": 0}, "Input should be greater than 0"),
    ({"price_type": "oneTime", "amount": Decimal("-0.01")}, "Input should be greater than or equal to 0"),
    ({"price_type": "oneTime", "amount": Decimal("NaN")}, "Input should be a finite number"),
    ({"price_type": "oneTime", "currency": "eur"}, "String should match pattern '^[A-Z]{3}$'"),
    ({"price_type": "oneTime", "currency": "EUX"}, "'EUX' is not an ISO 4217 currency code"),
    ({"price_type": "oneTime", "currency": "XXX"}, "'XXX' is not an ISO 4217 currency code"),
    ({"price_type": "oneTime", "amount": Decimal("9.999")},
     "amount 9.999 has more decimals than EUR has (2); only usage rates may be finer"),
    ({"price_type": "recurring", "recurring_period": "month", "amount": Decimal("9.5"), "currency": "JPY"},
     "amount 9.5 has more decimals than JPY has (0); only usage rates may be finer"),
    ({"price_type": "usage", "unit": "GB", "amount": Decimal("0.000000001")},
     "Decimal input should have no more than 8 decimal places"),
    ({"price_type": "monthly"}, "Input should be 'oneTime', 'recurring' or 'usage'"),
])
def test_a_price_of_the_wrong_shape_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with rejects(message):
        price(**kwargs)


def test_usage_rates_may_be_finer_than_the_minor_unit_and_other_currencies_are_exact() -> None:
    assert price(price_type="usage", unit="SMS", amount=Decimal("0.00125")).amount == Decimal("0.00125")
    assert price(price_type="oneTime", amount=Decimal("0.125"), currency="KWD").currency == "KWD"
    assert price(price_type="oneTime", amount=Decimal("980"), currency="JPY").amount == 980


def test_a_float_amount_becomes_the_decimal_it_was_written_as() -> None:
    assert price(price_type="oneTime", amount=0.1).amount == Decimal("0.1")
    assert str(price(price_type="oneTime", amount=19.9).amount) == "19.9"
    assert price(price_type="usage", unit="MB", unit_quantity=0.1).unit_quantity == Decimal("0.1")


# --- entities in general -----------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["-x", ".x", "a b", "", "x/y", "a" * 129])
def test_an_id_starts_with_a_letter_or_digit_and_uses_a_small_alphabet(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        Category(id=bad_id, name="C")


@pytest.mark.parametrize("good_id", ["x", "0", "a.b_c:d-e", "A" * 128])
def test_ids_of_the_allowed_alphabet_are_accepted(good_id: str) -> None:
    assert Category(id=good_id, name="C").id == good_id


def test_unknown_fields_are_refused_and_known_ones_answer_to_both_names() -> None:
    with rejects("Extra inputs are not permitted"):
        Category.model_validate({"id": "c", "name": "C", "parentt": "x"})
    assert Category.model_validate({"id": "c", "name": "C", "lifecycleStatus": "Retired"}).lifecycle_status == "Retired"
    assert Category(id="c", name="C", lifecycle_status="Retired").lifecycle_status == "Retired"


def test_text_is_stripped_and_a_name_cannot_be_blank() -> None:
    assert Category(id="c", name="  Devices  ").name == "Devices"
    with rejects("String should have at least 1 character"):
        Category(id="c", name="   ")


def test_an_unknown_lifecycle_status_is_refused() -> None:
    with rejects("Input should be 'In Study', 'In Design', 'In Test', 'Active', 'Launched', 'Retired', "
                 "'Obsolete' or 'Rejected'"):
        Category(id="c", name="C", lifecycle_status="Retird")


def test_entities_are_immutable() -> None:
    category = Category(id="c", name="C")
    with pytest.raises(ValidationError):
        category.name = "D"  # type: ignore[misc]


# --- validity periods and instants -----------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-01", utc(2026, 3, 1)),
    (" 2026-03-01 ", utc(2026, 3, 1)),
    ("2026-03-01T10:30:00Z", utc(2026, 3, 1, 10, 30)),
    ("2026-03-01T10:30:00", utc(2026, 3, 1, 10, 30)),  # no zone: UTC
    ("2026-03-01 10:30", utc(2026, 3, 1, 10, 30)),
    ("2026-03-01T12:30:00+02:00", utc(2026, 3, 1, 10, 30)),
    ("2026-03-01T00:30:00-05:30", utc(2026, 3, 1, 6, 0)),
    ("2026-03-01T10:30:00.250Z", dt.datetime(2026, 3, 1, 10, 30, 0, 250000, tzinfo=UTC)),
])
def test_an_instant_is_read_from_a_date_or_a_date_time(text: str, expected: dt.datetime) -> None:
    parsed = parse_instant(text)
    assert isinstance(parsed, dt.datetime) and parsed.tzinfo is not None
    assert parsed == expected
    assert ValidFor(start=text).start == expected


def test_date_and_naive_datetime_objects_are_taken_as_utc() -> None:
    assert parse_instant(dt.date(2026, 3, 1)) == utc(2026, 3, 1)
    assert parse_instant(dt.datetime(2026, 3, 1, 8)) == utc(2026, 3, 1, 8)
    assert parse_instant(dt.datetime(2026, 3, 1, 8)).tzinfo == UTC  # type: ignore[union-attr]
    aware = dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert parse_instant(aware) is aware


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "tomorrow", "2026-03-01T25:00:00Z", "01/03/2026"])
def test_text_that_is_not_an_instant_is_refused_with_the_accepted_forms(text: str) -> None:
    with rejects(f"'{text}' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ)"):
        ValidFor(start=text)


def test_an_instant_is_written_in_utc_with_a_trailing_z() -> None:
    assert format_instant(utc(2026, 3, 1)) == "2026-03-01T00:00:00Z"
    plus_two = dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_instant(plus_two) == "2026-02-28T23:00:00Z"
    assert ValidFor(start="2026-03-01", end="2026-04-01T12:00:00+02:00").model_dump(mode="json") == {
        "start": "2026-03-01T00:00:00Z", "end": "2026-04-01T10:00:00Z"}


def test_a_period_must_end_after_it_starts() -> None:
    with rejects("validFor.end must be after validFor.start"):
        ValidFor(start="2026-03-01", end="2026-03-01")
    with rejects("validFor.end must be after validFor.start"):
        ValidFor(start="2026-03-02", end="2026-03-01")
    assert ValidFor(start="2026-03-01", end="2026-03-01T00:00:01Z").end == utc(2026, 3, 1, 0, 0, 1)


def test_a_period_contains_its_start_but_not_its_end() -> None:
    march = ValidFor(start="2026-03-01", end="2026-04-01")
    assert march.contains(utc(2026, 3, 1))
    assert march.contains(utc(2026, 3, 31, 23, 59, 59))
    assert not march.contains(utc(2026, 4, 1))
    assert not march.contains(utc(2026, 2, 28, 23, 59, 59))


def test_an_open_ended_period_has_no_bound_on_that_side() -> None:
    assert ValidFor().contains(utc(1, 1, 1))
    assert ValidFor(start="2026-03-01").contains(utc(9999, 1, 1))
    assert not ValidFor(start="2026-03-01").contains(utc(2026, 2, 1))
    assert ValidFor(end="2026-03-01").contains(utc(1900, 1, 1))
    assert not ValidFor(end="2026-03-01").contains(utc(2026, 3, 1))


@pytest.mark.parametrize(("first", "second", "expected"), [
    (("2026-01-01", "2026-02-01"), ("2026-02-01", "2026-03-01"), False),  # adjacent: end is exclusive
    (("2026-01-01", "2026-03-01"), ("2026-02-01", "2026-04-01"), True),
    (("2026-01-01", "2026-04-01"), ("2026-02-01", "2026-03-01"), True),  # one inside the other
    (("2026-01-01", "2026-02-01"), ("2026-03-01", "2026-04-01"), False),
    ((None, "2026-02-01"), ("2026-01-01", None), True),
    ((None, "2026-01-01"), ("2026-01-01", None), False),
    ((None, None), ("2026-01-01", "2026-01-02"), True),
    (("2026-01-01", None), ("2027-01-01", None), True),
])
def test_two_periods_overlap_when_they_share_an_instant(first: tuple[str | None, str | None],
                                                       second: tuple[str | None, str | None], expected: bool) -> None:
    a, b = ValidFor(start=first[0], end=first[1]), ValidFor(start=second[0], end=second[1])
    assert a.overlaps(b) is expected
    assert b.overlaps(a) is expected


# --- TMF620 both ways ------------------------------------------------------------------

META = Meta(version=3, last_update=utc(2026, 1, 2, 3, 4, 5))
BASE = "/tmf-api/productCatalogManagement/v5"
PERIOD = ValidFor(start="2026-01-01", end="2027-01-01T12:00:00Z")

RICH_ENTITIES: list[Entity] = [
    ProductCatalog(id="retail", name="Retail", description="The shop", lifecycle_status="Launched",
                   valid_for=PERIOD, categories=["mobile", "devices"],
                   related_parties=[RelatedParty(id="csp", name="The CSP", role="owner"),
                                    RelatedParty(id="partner", role="contributor", referred_type="PartyRole")]),
    Category(id="mobile", name="Mobile"),
    Category(id="phones", name="Phones", parent="devices", lifecycle_status="In Design", valid_for=PERIOD),
    ProductSpecification(
        id="phone", name="Phone", description="A handset", brand="Acme", product_number="P-1", valid_for=PERIOD,
        resource_specifications=["sim", "terminal"],
        characteristics=[
            Characteristic(name="colour", description="Shell", value_type="string", values=["black", "white"],
                           default="white", min_cardinality=1, max_cardinality=2),
            Characteristic(name="memory", value_type="integer", unit="GB", values=[16, 32]),
            Characteristic(name="speed", value_type="integer", unit="Mbit/s", range=Range(min=1, max=100),
                           default=10),
            Characteristic(name="ratio", value_type="number", range=Range(min=0, max=2)),
            Characteristic(name="weight", value_type="number", unit="kg", values=[Decimal("0.25"), 1]),
            Characteristic(name="roaming", value_type="boolean", default=False, configurable=False),
            Characteristic(name="flags", value_type="boolean", values=[True, False], default=False),
            Characteristic(name="since", value_type="date", default="2026-01-01", unit="day"),
            Characteristic(name="imei"),
        ]),
    ProductOfferingPrice(id="once", name="Once", price_type="oneTime", amount=Decimal("49.90"), currency="EUR"),
    ProductOfferingPrice(id="monthly", name="Monthly", price_type="recurring", amount=Decimal("19.9"),
                         currency="EUR", recurring_period="month", period_length=3, valid_for=PERIOD,
                         lifecycle_status="Retired", description="Quarterly, really"),
    ProductOfferingPrice(id="per-gb", name="Per GB", price_type="usage", amount=Decimal("0.005"),
                         currency="KWD", unit="GB", unit_quantity=Decimal("0.5")),
    ProductOffering(
        id="phone-offer", name="Phone offer", description="Black or white", product_specification="phone",
        sellable=False, partner_eligible=True, channels=["shop", "web"], categories=["phones"],
        prices=["once", "monthly"], valid_for=PERIOD,
        relationships=[OfferingRelationship(type="requires", offering="plan"),
                       OfferingRelationship(type="excludes", offering="old-phone", valid_for=PERIOD)],
        characteristic_uses=[CharacteristicUse(name="colour", values=["black"]),
                             CharacteristicUse(name="memory", values=[16, 32])]),
    ProductOffering(
        id="bundle", name="Bundle", bundle=[BundledOffering(offering="plan"),
                                            BundledOffering(offering="phone-offer", min=0, max=2, default=1),
                                            BundledOffering(offering="case", min=0, max=3)],
        prices=["per-gb"]),
]


def _example_entities() -> list[Entity]:
    entities = []
    for example in ("connected_car", "devices"):
        entities += [e for e in load_catalog(ROOT / "examples" / example / "catalog")
                     if e.kind != "resourceSpecification"]
    return entities


@pytest.mark.parametrize("entity", RICH_ENTITIES + _example_entities(), ids=lambda e: f"{e.kind}:{e.id}")
def test_every_tmf620_resource_reads_back_as_the_entity_it_was_rendered_from(entity: Entity) -> None:
    body = to_tmf(entity, META, BASE)
    assert from_tmf(entity.kind, body) == entity
    # and through JSON text with exact decimals, as the API sends and receives it
    assert from_tmf(entity.kind, jsontext.loads(jsontext.dumps(body))) == entity


def test_the_rich_entities_cover_every_tmf620_kind() -> None:
    assert {e.kind for e in RICH_ENTITIES} == {"catalog", "category", "productSpecification",
                                               "productOfferingPrice", "productOffering"}


def test_a_tmf620_resource_carries_identity_type_version_and_period() -> None:
    body = to_tmf(RICH_ENTITIES[5], META, BASE)
    assert body["id"] == "monthly"
    assert body["href"] == f"{BASE}/productOfferingPrice/monthly"
    assert body["@type"] == "ProductOfferingPrice"
    assert body["version"] == "3"
    assert body["lastUpdate"] == "2026-01-02T03:04:05Z"
    assert body["lifecycleStatus"] == "Retired"
    assert body["validFor"] == {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2027-01-01T12:00:00Z"}
    assert body["price"] == {"unit": "EUR", "value": Decimal("19.9")}
    assert (body["recurringChargePeriodType"], body["recurringChargePeriodLength"]) == ("month", 3)


def test_a_bundle_renders_its_options_and_a_category_its_parent() -> None:
    bundle = to_tmf(RICH_ENTITIES[-1], META, BASE)
    assert bundle["isBundle"] is True
    assert bundle["bundledProductOffering"][1] == {
        "id": "phone-offer", "href": f"{BASE}/productOffering/phone-offer",
        "bundledProductOfferingOption": {"numberRelOfferLowerLimit": 0, "numberRelOfferUpperLimit": 2,
                                         "numberRelOfferDefault": 1}}
    phones = to_tmf(RICH_ENTITIES[2], META, BASE)
    assert (phones["isRoot"], phones["parentId"]) == (False, "devices")
    assert to_tmf(RICH_ENTITIES[1], META, BASE)["isRoot"] is True


def test_a_resource_specification_renders_its_children_and_part_number() -> None:
    sim = ResourceSpecification(id="sim", name="SIM", part_number="S-1", children=["sim-a", "sim-b"],
                                characteristics=[Characteristic(name="iccid", configurable=False)])
    body = to_tmf(sim, META, BASE)
    assert body["@type"] == "ResourceSpecification"
    assert body["isBundle"] is True
    assert body["partNumber"] == "S-1"
    assert body["resourceSpecRelationship"] == [{"id": "sim-a", "relationshipType": "contains"},
                                                {"id": "sim-b", "relationshipType": "contains"}]
    assert body["resourceSpecCharacteristic"][0]["configurable"] is False


def _body(kind: str) -> dict[str, Any]:
    entity = next(e for e in RICH_ENTITIES if e.kind == kind)
    return to_tmf(entity, META, BASE)


def test_an_unsupported_field_is_refused_with_the_closest_supported_one() -> None:
    body = {**_body("productOffering"), "isSelable": True}
    with pytest.raises(InvalidInput) as caught:
        from_tmf("productOffering", body)
    assert caught.value.suggestion == "isSellable"
    assert caught.value.path == ("isSelable",)
    assert str(caught.value).startswith("unsupported field 'isSelable'; supported: ")
    assert "isSellable" in str(caught.value).split("supported: ")[1]
    assert str(caught.value).endswith("(did you mean 'isSellable'?)")


def test_an_unsupported_nested_field_is_refused_with_its_path() -> None:
    body = _body("productOfferingPrice")
    body["price"] = {**body["price"], "valeu": 3}
    with pytest.raises(InvalidInput) as caught:
        from_tmf("productOfferingPrice", body)
    assert caught.value.path == ("price", "valeu")
    assert caught.value.suggestion == "value"
    assert "unsupported field 'valeu' at price; supported: unit, value" in str(caught.value)


def test_several_unsupported_fields_are_named_together() -> None:
    body = {**_body("category"), "colour": "red", "size": 3}
    with pytest.raises(InvalidInput, match="unsupported fields 'colour', 'size'; supported: ") as caught:
        from_tmf("category", body)
    assert caught.value.suggestion is None


def test_a_body_of_another_type_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_tmf("category", {**_body("category"), "@type": "ProductOffering"})
    assert str(caught.value) == "@type 'ProductOffering' does not match this resource (Category)"
    assert caught.value.path == ("@type",)


def test_a_body_without_a_type_is_read_as_the_resource_it_was_sent_to() -> None:
    body = _body("category")
    del body["@type"]
    assert from_tmf("category", body) == RICH_ENTITIES[1]


def test_the_derived_members_of_a_category_cannot_be_written() -> None:
    with pytest.raises(InvalidInput, match="'productOffering' of a category is derived") as caught:
        from_tmf("category", {**_body("category"), "productOffering": [{"id": "o"}]})
    assert caught.value.path == ("productOffering",)


def test_a_tmf_body_that_breaks_a_model_rule_is_refused_in_tmf_vocabulary() -> None:
    body = {**_body("productOfferingPrice"), "recurringChargePeriodType": "fortnight"}
    with pytest.raises(InvalidInput) as caught:
        from_tmf("productOfferingPrice", body)
    expected = "recurringChargePeriodType: Input should be 'day', 'week', 'month' or 'year'"
    assert str(caught.value) == f"invalid ProductOfferingPrice: {expected}"
    assert caught.value.details == [expected]
    assert caught.value.path == ("recurringPeriod",)


def test_a_category_whose_is_root_contradicts_its_parent_is_refused() -> None:
    with pytest.raises(InvalidInput, match="isRoot contradicts parentId") as caught:
        from_tmf("category", {**_body("category"), "isRoot": False})
    assert caught.value.path == ("isRoot",)
    assert from_tmf("category", {**_body("category"), "isRoot": True}) == RICH_ENTITIES[1]


def test_a_related_party_keeps_its_referred_type_both_ways() -> None:
    body = to_tmf(RICH_ENTITIES[0], META, BASE)
    assert [p["@referredType"] for p in body["relatedParty"]] == ["Organization", "PartyRole"]
    assert from_tmf("catalog", body).related_parties[1].referred_type == "PartyRole"
