"""One price, stated once (issue 15, item 5): a usage rate names the catalog's usage price it
is; what it leaves out is taken from the price, what it states must agree with it, and
``bssrules check`` reports every disagreement at the rate's position, naming the price's."""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import RatingState, Subscriber, UsageRecord
from bssrules.rules.model import Rate
from bssrules.rules.prices import per_unit
from bssrules.rules.project import check_project

from tests.unit.rules.conftest import EXAMPLES, LoadRules, RuleDiagnostics

UTC = dt.timezone.utc

PRICES = """\
productOfferingPrices:
  - {id: data-per-mb, name: Data, priceType: usage, unit: MB, amount: 0.0123, currency: EUR}
  - {id: data-per-100mb, name: Data by the 100 MB, priceType: usage, unit: MB, unitQuantity: 100, amount: 0.10, currency: EUR}
  - {id: calls-per-3min, name: Calls, priceType: usage, unit: minute, unitQuantity: 3, amount: 0.10, currency: EUR}
  - {id: night-data, name: Night data, priceType: usage, unit: MB, amount: 0.005, currency: EUR}
  - {id: monthly, name: Monthly fee, priceType: recurring, recurringPeriod: month, amount: 10.00, currency: EUR}
"""


def usage(rules: str, accumulators: str = "") -> str:
    return f"""\
ruleSets:
  - id: data
    kind: usage
{accumulators}    rules:
{rules}"""


def test_a_rate_naming_a_price_takes_its_amount_currency_and_unit_and_rates_at_it(load_rules: LoadRules) -> None:
    project = load_rules(usage("""\
      - id: data
        when: {usage.service: data}
        rate: {price: data-per-mb}
"""), catalog=None, **{"catalog/prices.yaml": PRICES})
    rate = project.rules.in_force("data", dt.datetime(2026, 6, 1, tzinfo=UTC)).definition.rules[0].rate
    assert (rate.price, rate.amount, rate.currency, rate.per) == ("data-per-mb", Decimal("0.0123"), "EUR", "MB")
    assert str(rate.amount) == "0.0123"  # as the catalog writes it
    record = UsageRecord("u1", "s", "data", dt.datetime(2026, 6, 1, 10, tzinfo=UTC), Decimal(1), unit="GB")
    (result,), _ = rate_records([record], {"s": Subscriber("s", payers={"payer": "BA"})}, project.rules, RatingState())
    assert (result.status, result.amount, result.currency) == ("rated", Decimal("12.30"), "EUR")


def test_a_price_per_quantity_is_divided_exactly_and_a_changerate_threshold_can_name_one(load_rules: LoadRules) -> None:
    project = load_rules(usage("""\
      - id: data
        when: {usage.service: data}
        rate: {price: data-per-100mb}
""", """\
    accumulators:
      - id: monthly-data
        measure: volume
        when: {usage.service: data}
        thresholds:
          - {id: cheaper, at: 1000, action: changeRate, rate: {price: night-data}}
"""), catalog=None, **{"catalog/prices.yaml": PRICES})
    definition = project.rules.in_force("data", dt.datetime(2026, 6, 1, tzinfo=UTC)).definition
    assert definition.rules[0].rate.amount == Decimal("0.001")
    threshold_rate = definition.accumulators[0].thresholds[0].rate  # type: ignore[attr-defined]
    assert (threshold_rate.amount, threshold_rate.per) == (Decimal("0.005"), "MB")
    # what the database keeps (the load stores the definition) is the complete rate
    stored = definition.model_dump(mode="json", by_alias=True, exclude_defaults=True)["rules"][0]["rate"]
    assert stored == {"price": "data-per-100mb", "amount": "0.001", "currency": "EUR", "per": "MB"}
    assert Rate.model_validate(stored).amount == Decimal("0.001")


def test_every_disagreement_is_reported_at_the_rate_naming_the_price_position(rule_diagnostics: RuleDiagnostics) -> None:
    found = rule_diagnostics(usage("""\
      - id: data
        when: {usage.service: data}
        rate: {price: data-per-mb, amount: 0.012, currency: USD, per: GB}
      - id: bulk
        when: {usage.service: bulk}
        rate: {price: data-per-100mb, amount: 0.001, per: MB}
"""), catalog=None, **{"catalog/prices.yaml": PRICES})
    price = "the catalog's price 'data-per-mb': 0.0123 EUR per MB (at catalog/prices.yaml:2:5)"
    # the second rule agrees: 0.001 EUR per MB is 0.10 per 100 MB, and it takes the currency from the price
    assert [str(d) for d in found] == [
        f"rules.yaml:7:44: amount 0.012 per GB disagrees with {price} [at $.ruleSets[0].rules[0].rate.amount]",
        f"rules.yaml:7:61: currency USD disagrees with {price} [at $.ruleSets[0].rules[0].rate.currency]",
        f"rules.yaml:7:71: per GB disagrees with {price} [at $.ruleSets[0].rules[0].rate.per]",
    ]
    assert {d.code for d in found} == {"priceDisagrees"}


OTHER = usage("""\
      - id: calls
        when: {usage.service: voice}
        rate: {price: calls-per-3min}
      - id: calls-written
        when: {usage.service: voice2}
        rate: {price: calls-per-3min, amount: 0.0333}
      - id: fee
        when: {usage.service: fee}
        rate: {price: monthly}
      - id: typo
        when: {usage.service: typo}
        rate: {price: data-per-mbb}
      - id: tiers
        when: {usage.service: tiers}
        rate: {price: data-per-mb, tiers: [{upTo: 10, amount: 1}, {amount: 0.5}]}
      - id: nothing
        when: {usage.service: nothing}
        rate: {per: MB, amount: 1}
""")


def test_a_price_that_cannot_be_a_rate_is_refused_with_why(rule_diagnostics: RuleDiagnostics) -> None:
    found = [str(d) for d in rule_diagnostics(OTHER, catalog=None, **{"catalog/prices.yaml": PRICES})]
    assert found == [
        "rules.yaml:7:23: the catalog's price 'calls-per-3min' (0.10 EUR per 3 minute, at catalog/prices.yaml:4:5) "
        "is no exact amount per minute: state the rate's amount [at $.ruleSets[0].rules[0].rate.price]",
        "rules.yaml:10:47: amount 0.0333 per minute disagrees with the catalog's price 'calls-per-3min': 0.10 EUR "
        "per 3 minute (at catalog/prices.yaml:4:5) [at $.ruleSets[0].rules[1].rate.amount]",
        "rules.yaml:13:23: price 'monthly' is a recurring price, not a usage price: a rate can only be a usage price "
        "(at catalog/prices.yaml:6:5) [at $.ruleSets[0].rules[2].rate.price]",
        "rules.yaml:16:23: unknown productOfferingPrice 'data-per-mbb' (did you mean 'data-per-mb'?) "
        "[at $.ruleSets[0].rules[3].rate.price]",
        "rules.yaml:19:9: a rate by tiers cannot name a catalog price (a catalog price has one amount) "
        "[at $.ruleSets[0].rules[4].rate]",
        "rules.yaml:22:9: a rate needs its currency, or the catalog price it is (price) [at $.ruleSets[0].rules[5].rate]",
    ]


def test_without_a_catalog_a_rate_cannot_leave_anything_to_a_price(rule_diagnostics: RuleDiagnostics) -> None:
    found = [str(d) for d in rule_diagnostics(usage("""\
      - id: data
        when: {usage.service: data}
        rate: {price: data-per-mb}
      - id: stated
        when: {usage.service: stated}
        rate: {price: data-per-mb, amount: 0.0123, currency: EUR, per: MB}
"""), catalog=None)]
    assert found == ["rules.yaml:7:23: the rate leaves its amount to the catalog price 'data-per-mb', but there is "
                     "no catalog [at $.ruleSets[0].rules[0].rate.price]"]


def test_a_price_in_error_is_not_checked_against(rule_diagnostics: RuleDiagnostics) -> None:
    broken = PRICES.replace("unit: MB, amount: 0.0123, currency: EUR", "unit: MB, amount: 0.0123, currency: EURO")
    found = rule_diagnostics(usage("""\
      - id: data
        when: {usage.service: data}
        rate: {price: data-per-mb, amount: 9}
"""), catalog=None, **{"catalog/prices.yaml": broken})
    assert [d.file for d in found] == ["catalog/prices.yaml"]  # the price's own error, and no consequence of it


@pytest.mark.parametrize(("amount", "quantity", "each"), [
    ("0.10", "1", "0.10"), ("0.10", "100", "0.001"), ("1.00", "0.5", "2"), ("3", "0.3", "10"), ("0.10", "3", None),
    ("0.07", "7", "0.01"), ("1", "6", None),
])
def test_the_amount_per_unit_is_exact_or_none(amount: str, quantity: str, each: str | None) -> None:
    result = per_unit(Decimal(amount), Decimal(quantity))
    assert (str(result) if result is not None else None) == each


def test_the_check_cache_sees_a_price_changed_in_the_catalog_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLES / "roaming" / "catalog", tmp_path / "project" / "catalog")
    (tmp_path / "project" / "rules").mkdir()
    (tmp_path / "project" / "rules" / "usage.yaml").write_text(usage("""\
      - id: roaming
        when: {usage.service: data, usage.roaming: true}
        rate: {price: roaming-data-per-mb, amount: 0.05}
"""), encoding="utf-8")
    assert check_project("project").errors == []
    catalog = tmp_path / "project" / "catalog" / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    old = "priceType: usage, unit: MB, amount: 0.05,"
    assert text.count(old) == 1
    catalog.write_text(text.replace(old, "priceType: usage, unit: MB, amount: 0.06,"), encoding="utf-8")
    result = check_project("project")
    assert result.from_cache == 1  # the rules file was not checked again, and still the price is
    assert [str(d) for d in result.errors] == [
        "project/rules/usage.yaml:7:52: amount 0.05 per MB disagrees with the catalog's price 'roaming-data-per-mb': "
        "0.06 EUR per MB (at project/catalog/catalog.yaml:18:5) [at $.ruleSets[0].rules[0].rate.amount]"]


def test_bulk_rating_and_the_reference_rate_alike_at_the_catalog_s_prices(load_rules: LoadRules) -> None:
    from bssrules.pricing.bulk import rate_chunk
    from bssrules.pricing.bulk_frames import BulkState, rated_usages, records_frame, subscribers_frame

    project = load_rules(usage("""\
      - id: bulk-data
        when: {usage.service: data, usage.type: bulk}
        rate: {price: data-per-100mb}
      - id: data
        when: {usage.service: data}
        rate: {price: data-per-mb}
""", """\
    accumulators:
      - id: monthly-data
        measure: volume
        when: {usage.service: data, not: {usage.type: bulk}}
        thresholds:
          - {id: cheaper, at: 1000, action: changeRate, rate: {price: night-data}}
"""), catalog=None, **{"catalog/prices.yaml": PRICES})
    subscribers = {"s": Subscriber("s", payers={"payer": "BA"})}
    records = [UsageRecord(f"u{i}", "s", "data", dt.datetime(2026, 6, 1, 10, i, tzinfo=UTC), Decimal(volume),
                           unit=unit, type=kind)
               for i, (volume, unit, kind) in enumerate([("700", "MB", None), ("0.5", "GB", None), ("300", "MB", None),
                                                         ("1234.5", "MB", "bulk"), ("2", "GB", None)])]
    reference, _ = rate_records(records, subscribers, project.rules, RatingState())
    frame, _ = rate_chunk(records_frame(records), subscribers_frame(subscribers), project.rules, BulkState.empty())
    bulk = rated_usages(frame)
    shown = [(r.record.id, r.status, r.rule, str(r.amount)) for r in reference]
    assert shown == [("u0", "rated", "data", "8.61"), ("u1", "rated", "data", "6.15"), ("u2", "rated", "data", "1.50"),
                     ("u3", "rated", "bulk-data", "1.23"), ("u4", "rated", "data", "10.00")]
    assert [(r.record.id, r.status, r.rule, r.amount) for r in bulk] == [
        (r.record.id, r.status, r.rule, r.amount) for r in reference]
