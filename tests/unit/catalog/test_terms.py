"""Terms of offerings (issue 15, item 2): the YAML form and its errors, the TMF620 shape both
ways, when a term ends (renewals counted) and the early termination charge, worked out by hand."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.catalog import load_catalog_text
from bssrules.catalog.model import ProductOffering
from bssrules.catalog.tmf import Meta, from_tmf, to_tmf
from bssrules.errors import InvalidInput, InvalidSource
from bssrules.money import Money
from bssrules.pricing.commitments import Recurring, commitment_end, early_termination_charges, remaining_recurring, \
    term_end
from bssrules.services.commitments import on_product_change, product_term

UTC = dt.timezone.utc
HEAD = """
productSpecifications:
  - {id: fibre, name: Fibre}
productOfferingPrices:
  - {id: fibre-monthly, name: Fibre per month, priceType: recurring, recurringPeriod: month, amount: 30.00, currency: EUR}
productOfferings:
  - id: fibre-24
    name: Fibre 24
    productSpecification: fibre
    prices: [fibre-monthly]
    terms:
"""


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def _errors(terms: str) -> list[str]:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(HEAD + terms, "catalog.yaml")
    return [str(d) for d in caught.value.diagnostics]


def test_an_offering_s_terms_load_with_their_charges() -> None:
    catalog = load_catalog_text(HEAD + """\
      - name: 24 months
        duration: {amount: 24, units: month}
        atEnd: renew
        earlyTermination: {charge: remainingRecurring, share: 0.5}
      - name: 1 year
        duration: {amount: 1, units: year}
        atEnd: end
        earlyTermination: {charge: fixed, amount: 99.90, currency: EUR}
""")
    offering = catalog.offerings.get("fibre-24")
    assert offering is not None
    first, second = offering.terms
    assert (first.name, first.duration.amount, first.duration.units, first.at_end) == ("24 months", 24, "month", "renew")
    assert first.early_termination is not None and first.early_termination.fraction == Decimal("0.5")
    assert second.early_termination is not None and second.early_termination.amount == Decimal("99.90")


@pytest.mark.parametrize(("terms", "expected"), [
    ("      - {name: t, duration: {amount: 24, units: monts}, atEnd: end}\n",
     "catalog.yaml:12:49: 'monts' is not allowed here; expected one of: day, week, month, year (did you mean 'month'?)"),
    ("      - {name: t, duration: {amount: 24, units: month}, atEnd: renw}\n",
     "catalog.yaml:12:64: 'renw' is not allowed here; expected one of: renew, end (did you mean 'renew'?)"),
    ("      - {name: t, duration: {amount: 0, units: month}, atEnd: end}\n", "catalog.yaml:12:38: expected an integer ≥ 1, got 0"),
    ("      - {name: t, duration: {amount: 24, units: month}}\n", "missing required field 'atEnd'"),
    ("      - {name: t, duration: {amount: 2, units: year}, atEnd: end, earlyTermination: {charge: fixed, amount: 5}}\n",
     "a fixed early termination charge needs amount and currency"),
    ("      - {name: t, duration: {amount: 2, units: year}, atEnd: end,\n"
     "         earlyTermination: {charge: fixed, amount: 5, currency: EUX}}\n", "'EUX' is not an ISO 4217 currency code"),
    ("      - {name: t, duration: {amount: 2, units: year}, atEnd: end,\n"
     "         earlyTermination: {charge: remainingRecurring, share: 1.5}}\n", "catalog.yaml:13:64:"),
    ("      - {name: t, duration: {amount: 2, units: year}, atEnd: end,\n"
     "         earlyTermination: {charge: fixed, amount: 5, currency: EUR, share: 0.5}}\n",
     "share applies to a remainingRecurring charge, not a fixed one"),
    ("      - {name: t, duration: {amount: 2, units: year}, atEnd: end, earlyTermination: {charge: fix}}\n",
     "(did you mean 'fixed'?)"),
    ("      - {name: t, duration: {amount: 2, units: year}, atEnd: end}\n"
     "      - {name: t, duration: {amount: 1, units: year}, atEnd: end}\n", "term listed more than once: t"),
    ("      - {name: t, duration: {amount: 2, units: year}, atEnd: end, lenght: 3}\n",
     "unknown field 'lenght'"),
])
def test_a_wrong_term_is_reported_at_its_place(terms: str, expected: str) -> None:
    errors = _errors(terms)
    assert len(errors) == 1, errors
    assert expected in errors[0] and errors[0].startswith("catalog.yaml:"), errors


def test_one_wrong_term_does_not_hide_the_errors_of_another() -> None:
    errors = _errors("      - {name: a, duration: {amount: 2, units: yeer}, atEnd: end}\n"
                     "      - {name: b, duration: {amount: 2, units: year}, atEnd: ende}\n")
    assert [e.split(" ")[0] for e in errors] == ["catalog.yaml:12:48:", "catalog.yaml:13:62:"]


def _offering() -> ProductOffering:
    catalog = load_catalog_text(HEAD + """\
      - name: 24 months
        description: Router included
        duration: {amount: 24, units: month}
        atEnd: renew
        validFor: {start: 2026-01-01}
        earlyTermination: {charge: fixed, amount: 120.00, currency: EUR}
""")
    offering = catalog.offerings.get("fibre-24")
    assert offering is not None
    return offering


def test_terms_are_tmf620_productOfferingTerm_and_read_back() -> None:
    offering = _offering()
    shown = to_tmf(offering, Meta(1, _at("2026-01-01T00:00:00")), "/x")
    assert shown["productOfferingTerm"] == [{
        "name": "24 months", "description": "Router included", "duration": {"amount": 24, "units": "month"},
        "validFor": {"startDateTime": "2026-01-01T00:00:00Z"}, "atEnd": "renew",
        "earlyTermination": {"charge": "fixed", "amount": Decimal("120.00"), "currency": "EUR"}}]
    assert from_tmf("productOffering", shown) == offering


@pytest.mark.parametrize(("term", "where"), [
    ({"name": "t", "duration": {"amount": 24, "units": "month", "every": 1}, "atEnd": "end"},
     "unsupported field 'every' at productOfferingTerm.0.duration"),
    ({"name": "t", "duration": {"amount": 24, "units": "month"}, "atEnd": "end", "renewal": "auto"},
     "unsupported field 'renewal' at productOfferingTerm.0"),
    ({"name": "t", "duration": {"amount": 24, "units": "fortnight"}, "atEnd": "end"},
     "productOfferingTerm[0].duration.units"),
    ({"name": "t", "duration": {"amount": 24, "units": "month"}, "atEnd": "end",
      "earlyTermination": {"charge": "fixed", "amount": 1.001, "currency": "EUR"}},
     "productOfferingTerm[0].earlyTermination: amount 1.001 has more decimals than EUR has (2)"),
])
def test_a_wrong_productOfferingTerm_is_refused_naming_where(term: dict[str, Any], where: str) -> None:
    body = {"id": "o", "name": "O", "productSpecification": {"id": "fibre"}, "productOfferingTerm": [term]}
    with pytest.raises(InvalidInput) as caught:
        from_tmf("productOffering", body)
    assert where in str(caught.value)


@pytest.mark.parametrize(("start", "amount", "units", "end"), [
    ("2026-01-31T10:00:00", 1, "month", "2026-02-28T10:00:00"),
    ("2024-02-29T00:00:00", 1, "year", "2025-02-28T00:00:00"),
    ("2026-01-01T00:00:00", 2, "week", "2026-01-15T00:00:00"),
    ("2026-03-29T00:00:00", 30, "day", "2026-04-28T00:00:00"),
])
def test_a_term_ends_the_same_instant_its_duration_later(start: str, amount: int, units: str, end: str) -> None:
    assert term_end(_at(start), amount, units) == _at(end)


def test_a_renewed_term_is_counted_from_the_start_and_a_term_that_ends_leaves_no_commitment() -> None:
    start = _at("2026-01-31T00:00:00")
    # 1-month terms renewed: Feb 28, Mar 31, Apr 30 (from the start: never drifting to the 28th)
    assert commitment_end(start, 1, "month", "renew", _at("2026-03-01T00:00:00")) == _at("2026-03-31T00:00:00")
    assert commitment_end(start, 1, "month", "renew", _at("2026-03-31T00:00:00")) == _at("2026-04-30T00:00:00")
    assert commitment_end(start, 24, "month", "renew", _at("2031-06-01T00:00:00")) == _at("2032-01-31T00:00:00")
    assert commitment_end(start, 24, "month", "end", _at("2027-06-01T00:00:00")) == _at("2028-01-31T00:00:00")
    assert commitment_end(start, 24, "month", "end", _at("2028-01-31T00:00:00")) is None
    assert commitment_end(start, 10, "day", "renew", _at("2026-12-31T00:00:00")) == _at("2027-01-06T00:00:00")


@given(start=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1)),
       amount=st.integers(1, 36), units=st.sampled_from(["day", "week", "month", "year"]),
       later=st.integers(0, 40 * 366 * 86400))
@settings(max_examples=300, deadline=None)
def test_the_term_in_force_is_the_renewal_that_contains_the_instant(start: dt.datetime, amount: int, units: str,
                                                                   later: int) -> None:
    start = start.replace(tzinfo=UTC, microsecond=0)
    at = start + dt.timedelta(seconds=later)
    end = commitment_end(start, amount, units, "renew", at)
    assert end is not None and at < end
    k = next(k for k in range(1, 100_000) if term_end(start, amount * k, units) == end)
    assert k == 1 or term_end(start, amount * (k - 1), units) <= at


def test_the_recurring_charges_left_are_what_bills_would_charge() -> None:
    monthly = [Recurring("fibre", Money(Decimal("30.00"), "EUR"), "month")]
    # 16 days of July's 31: 30 x 16/31 = 15.4838.. -> 15.48; August to December: 150.00
    left = remaining_recurring(monthly, _at("2026-07-16T00:00:00"), _at("2027-01-01T00:00:00"))
    assert left == {"EUR": Money(Decimal("165.48"), "EUR")}
    # half of it, rounded half-up once: 82.74
    assert early_termination_charges("remainingRecurring", Decimal("0.5"), None, monthly, _at("2026-07-16T00:00:00"),
                                     _at("2027-01-01T00:00:00")) == [Money(Decimal("82.74"), "EUR")]
    # a third of 165.48 = 55.16; of 15.48 (to August) = 5.16
    assert early_termination_charges("remainingRecurring", Decimal(1) / 3, None, monthly, _at("2026-07-16T00:00:00"),
                                     _at("2026-08-01T00:00:00")) == [Money(Decimal("5.16"), "EUR")]


def test_a_discount_is_taken_off_the_charges_left_only_while_it_lasts() -> None:
    start = _at("2026-01-01T00:00:00")
    prices = [Recurring("fibre", Money(Decimal("30.00"), "EUR"), "month"),
              Recurring("fibre", Money(Decimal("-10.00"), "EUR"), "month", until=_at("2026-09-01T00:00:00"))]
    # July 16-31: 15.48 - 5.16 (10 x 16/31); August: 30 - 10; September to December: 120
    left = remaining_recurring(prices, _at("2026-07-16T00:00:00"), _at("2027-01-01T00:00:00"))
    assert left == {"EUR": Money(Decimal("150.32"), "EUR")}
    assert start < _at("2026-07-16T00:00:00")


def test_a_fixed_charge_and_no_charge_once_the_term_is_over() -> None:
    fixed = Money(Decimal("99.90"), "EUR")
    assert early_termination_charges("fixed", Decimal(1), fixed, [], _at("2026-07-16T00:00:00"),
                                     _at("2027-01-01T00:00:00")) == [fixed]
    assert early_termination_charges("fixed", Decimal(1), fixed, [], _at("2027-01-01T00:00:00"),
                                     _at("2027-01-01T00:00:00")) == []


@given(months=st.integers(1, 48), cents=st.integers(1, 100_000), share=st.sampled_from(["1", "0.5", "0.25", "0.333"]))
@settings(max_examples=100, deadline=None)
def test_terminated_on_the_first_of_a_month_it_is_the_share_of_whole_months(months: int, cents: int,
                                                                            share: str) -> None:
    amount = Money(Decimal(cents) / 100, "EUR")
    start = _at("2026-03-01T00:00:00")
    end = term_end(start, months, "month")
    charges = early_termination_charges("remainingRecurring", Decimal(share), None,
                                        [Recurring("p", amount, "month")], start, end)
    expected = (amount * months * Decimal(share)).rounded()
    assert charges == ([expected] if expected.amount > 0 else [])


def _product(status: str = "active", **more: Any) -> dict[str, Any]:
    term = product_term(_offering().terms[0], _at("2026-01-01T00:00:00"))
    return {"status": status, "startDate": "2026-01-01T00:00:00Z", "productTerm": [term],
            "productPrice": [{"priceType": "recurring", "recurringChargePeriod": "month",
                              "billingAccount": {"id": "ba"},
                              "price": {"taxIncludedAmount": {"unit": "EUR", "value": 30}}}], **more}


def test_the_product_keeps_the_term_sold_and_is_charged_once_when_terminated_early() -> None:
    product = _product()
    assert product["productTerm"][0]["validFor"] == {"startDateTime": "2026-01-01T00:00:00Z",
                                                     "endDateTime": "2028-01-01T00:00:00Z"}
    now = _at("2026-05-05T00:00:00")
    terminated = on_product_change(product, _product("terminated", terminationDate="2026-07-16"), now)
    [charge] = [p for p in terminated["productPrice"] if p.get("@type") == "EarlyTerminationCharge"]
    assert charge["price"]["taxIncludedAmount"] == {"unit": "EUR", "value": Decimal("120.00")}
    assert charge["billingAccount"] == {"id": "ba"}
    assert on_product_change(terminated, dict(terminated, description="x"), now) == dict(terminated, description="x")
    # still active, or suspended: nothing
    assert on_product_change(product, _product("suspended"), now) == _product("suspended")
    # no date given: now, written on the product
    undated = on_product_change(product, _product("terminated"), now)
    assert undated["terminationDate"] == "2026-05-05T00:00:00Z" and len(undated["productPrice"]) == 2
    # a date that is no date is left for the change's own check to refuse
    assert on_product_change(product, _product("terminated", terminationDate="soon"), now)["productPrice"] == \
        _product()["productPrice"]


@pytest.mark.parametrize(("early", "message"), [
    ({"charge": "fixed", "amount": "abc", "currency": "EUR"}, "productTerm[0].earlyTermination.amount"),
    ({"charge": "refund"}, "productTerm[0].earlyTermination.charge"),
    ({"charge": "remainingRecurring", "share": 2}, "productTerm[0].earlyTermination.share"),
])
def test_a_hand_written_term_that_is_none_is_refused_naming_it(early: dict[str, Any], message: str) -> None:
    product = _product()
    product["productTerm"][0]["earlyTermination"] = early
    with pytest.raises(InvalidInput) as caught:
        on_product_change(product, dict(product, status="terminated"), _at("2026-05-05T00:00:00"))
    assert str(caught.value).startswith(message)


def test_a_term_at_the_calendars_end_or_a_price_beyond_reckoning_never_fails_unexplained() -> None:
    late = product_term(_offering().terms[0], _at("9999-06-01T00:00:00"))
    assert late["validFor"] == {"startDateTime": "9999-06-01T00:00:00Z"}
    # a price that is no number (stored before prices were checked when written): the early
    # termination charge cannot be counted, and is not guessed (it charged nothing, silently):
    # the termination is refused naming the price, and the same change correcting it passes
    product = _product()
    product["productPrice"][0]["price"]["taxIncludedAmount"]["value"] = "lots"
    product["productTerm"][0]["earlyTermination"] = {"charge": "remainingRecurring"}
    with pytest.raises(InvalidInput) as caught:
        on_product_change(product, dict(product, status="terminated"), _at("2026-05-05T00:00:00"))
    assert str(caught.value).startswith("productPrice[0].price.taxIncludedAmount.value: 'lots' is not a number")
    corrected = _product()
    corrected["productTerm"][0]["earlyTermination"] = {"charge": "remainingRecurring"}
    after = on_product_change(product, dict(corrected, status="terminated"), _at("2026-05-05T00:00:00"))
    assert after["status"] == "terminated" and len(after["productPrice"]) == 2  # the fee, and the charge


def test_the_early_termination_charge_of_a_price_shared_between_payers_is_shared_as_it() -> None:
    # (services.orders keeps the shares on the price; the bill run splits each line by them)
    shares = [{"role": "customer", "weight": 70, "billingAccount": {"id": "ba"}},
              {"role": "employer", "weight": 30, "billingAccount": {"id": "ba-corp"}}]
    product = _product()
    product["productPrice"][0]["payerShares"] = shares
    after = dict(product, status="terminated", terminationDate="2026-07-16")
    terminated = on_product_change(product, after, _at("2026-05-05T00:00:00"))
    [charge] = [p for p in terminated["productPrice"] if p.get("@type") == "EarlyTerminationCharge"]
    assert charge["billingAccount"] == {"id": "ba"} and charge["payerShares"] == shares
    # a price of one payer: a charge of one payer, as before
    alone = on_product_change(_product(), _product("terminated", terminationDate="2026-07-16"), _at("2026-05-05"))
    assert all("payerShares" not in p for p in alone["productPrice"])
