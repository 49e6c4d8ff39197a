"""Bills to the minor unit, and a bill run that no stored product stops (a billing analyst's
review of TMF678 bills, from docs/billing.md alone).

- every line of a bill is at its currency's minor unit, one-time charges too (9.999 EUR is
  10.00; 999.5 JPY is 1000), and the lines add up to the bill's amount;
- a price the run cannot read — an amount without a value or a currency, a currency that is
  not one, an amount beyond the 15 digits amounts have, a discount in another currency or
  lasting a number of months that is not a whole number, a period of no length or of a name
  the run does not know — does not stop the run with a 500 for every account: its account is
  reported in ``accountsNotBilled`` with the reason, the others are billed, and correcting the
  product bills it at the next run;
- a price is billed for its period as spelled ``daily``, ``weekly``, ``yearly`` (not as a
  month);
- an alteration that adds to a price (a surcharge: positive) stays in what the bill charges;
- a price paid by a billing account that does not exist makes no bill for it: reported;
- nor does an account whose bill would have the id of a settlement note (taken before as its
  bill made already: its fees never billed, its usage reported late);
- usage shared between payers (33.33 / 33.33 / 33.34 % of a cent or two) adds up, over the
  payers' bills, to what was charged, to the cent (a guard: it did).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.services.records import StoredResource
from bssrules.store import UnitOfWork
from tests.api.session_app import AppFor

API = "/tmf-api/customerBillManagement/v4"
RUN, BILL, RATE = f"{API}/billRun", f"{API}/customerBill", f"{API}/appliedCustomerBillingRate"
PARTY, ACCOUNT = "/tmf-api/party/v4/individual", "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"
MERGE = {"content-type": "application/merge-patch+json"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def http(engine: Any, app_for: AppFor) -> Iterator[TestClient]:
    """Ana, and her billing accounts ba-ok and ba-bad; server errors answered, not raised."""
    with app_for(engine) as app, TestClient(app, raise_server_exceptions=False) as client:
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        for account in ("ba-ok", "ba-bad"):
            created = client.post(ACCOUNT, json={"id": account, "name": account, "relatedParty": [
                {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
            assert created.status_code == 201, created.text
        yield client


def _price(value: Any = 10, unit: Any = "EUR", account: str = "ba-ok", kind: str = "recurring",
           period: Any = "month", alterations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    price: dict[str, Any] = {"name": "fee", "priceType": kind, "billingAccount": {"id": account},
                             "price": {"taxIncludedAmount": {"unit": unit, "value": value}}}
    if kind == "recurring" and period is not None:
        price["recurringChargePeriod"] = period
    if alterations is not None:
        price["priceAlteration"] = alterations
    return price


def _discount(value: Any = -2, unit: Any = "EUR", **more: Any) -> dict[str, Any]:
    return {"name": "promo", "priceType": "recurring", "price": {"taxIncludedAmount": {"unit": unit, "value": value}},
            **more}


def _product(http: TestClient, id: str, price: dict[str, Any], account: str = "ba-ok",
             start: str = "2026-05-01T00:00:00Z") -> None:
    created = http.post(INVENTORY, json={
        "id": id, "status": "active", "startDate": start, "productOffering": {"id": "plan"},
        "billingAccount": {"id": account}, "productPrice": [price],
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text


def _stored_before(http: TestClient, engine: Any, id: str, price: dict[str, Any], account: str = "ba-ok") -> None:
    """A product holding ``price`` as one kept before prices were checked when written (the
    inventory now refuses it: tests/api/test_inventory_price_checks.py)."""
    _product(http, id, {"name": "fee", "priceType": "recurring", "billingAccount": {"id": account},
                        "price": {"taxIncludedAmount": {"unit": "EUR", "value": 1}}}, account=account)
    with UnitOfWork(engine) as uow:
        stored = uow.resources.get("product", id, for_update=True)
        assert stored is not None
        uow.resources.replace(stored.bumped(dict(stored.document, productPrice=[price]), stored.last_update))
        uow.commit()


def _run(http: TestClient, period: str = "2026-06") -> dict[str, Any]:
    response = http.post(RUN, json={"period": period})
    assert response.status_code == 201, response.text
    return json.loads(response.text, parse_float=Decimal)


def _lines(http: TestClient, bill: str) -> list[tuple[str, Decimal]]:
    """The bill's lines (type, amount) after checking they add up to its amount exactly, at its
    currency's scale."""
    shown = http.get(f"{BILL}/{bill}")
    assert shown.status_code == 200, shown.text
    amount = json.loads(shown.text, parse_float=Decimal)["amountDue"]
    rates = json.loads(http.get(RATE, params={"bill.id": bill}).text, parse_float=Decimal)
    lines = [(r["appliedBillingRateType"], Decimal(str(r["taxIncludedAmount"]["value"]))) for r in rates]
    assert sum((value for _, value in lines), Decimal(0)) == Decimal(str(amount["value"])), (lines, amount)
    return lines


# ----------------------------------------------------------------------------- minor units


@pytest.mark.parametrize(("value", "unit", "discount", "lines"), [
    (9.999, "EUR", None, [("oneTimeCharge", Decimal("10.00"))]),
    (999.5, "JPY", None, [("oneTimeCharge", Decimal("1000"))]),
    (1000.4, "JPY", -0.5, [("oneTimeCharge", Decimal("1001")), ("discount", Decimal("-1"))]),
    (1.2345, "KWD", None, [("oneTimeCharge", Decimal("1.235"))]),
])
def test_a_one_time_charge_is_billed_at_its_currencys_minor_unit(
        http: TestClient, value: float, unit: str, discount: float | None, lines: list[Any]) -> None:
    alterations = [_discount(discount, unit, priceType="oneTime")] if discount is not None else None
    _product(http, "p-once", _price(value, unit, kind="oneTime", alterations=alterations),
             start="2026-06-10T08:00:00Z")
    bill = f"ba-ok-2026-06-{unit}"
    assert _run(http)["billsMade"] == [bill]
    assert _lines(http, bill) == lines
    shown = json.loads(http.get(f"{BILL}/{bill}").text, parse_float=Decimal)
    assert shown["amountDue"]["value"] == sum((amount for _, amount in lines), Decimal(0))


# ----------------------------------------------------------------------------- no 5xx, nothing lost

UNREADABLE = {
    "an amount without a value": (_price(unit=None) | {"price": {"taxIncludedAmount": {"unit": "EUR"}}},
                                  "no amount"),
    "an amount without a currency": (_price() | {"price": {"taxIncludedAmount": {"value": 10}}}, "no amount"),
    "a currency that is not one": (_price(unit="EURO"), "'EURO' is not a currency"),
    "an amount of 28 digits": (_price(value=1e27), "at most 15 digits before the point"),
    "a discount in another currency": (_price(alterations=[_discount(unit="USD")]),
                                       "discount 'promo' is in USD, its price in EUR"),
    "a discount without a value": (_price(alterations=[_discount() | {"price": {"taxIncludedAmount": {"unit": "EUR"}}}]),
                                   "discount 'promo': no amount"),
    "a discount of months in text": (_price(alterations=[_discount(applicationDuration="3")]),
                                     "applicationDuration '3' is not a whole number of months"),
    "a discount of 1.5 months": (_price(alterations=[_discount(applicationDuration=1.5)]),
                                 "applicationDuration 1.5 is not a whole number of months"),
    "a discount of -1 month": (_price(alterations=[_discount(applicationDuration=-1)]),
                               "applicationDuration -1 is not a whole number of months"),
    "a period of no length": (_price(period="0 months"), "recurringChargePeriod '0 months' is not a period"),
    "a period of no known name": (_price(period="fortnight"), "recurringChargePeriod 'fortnight' is not a period"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_a_price_the_run_cannot_read_leaves_its_account_unbilled_and_bills_the_others(
        http: TestClient, engine: Any, case: str) -> None:
    bad, reason = UNREADABLE[case]
    _product(http, "p-ok", _price())
    bad = json.loads(json.dumps(bad))
    bad["billingAccount"] = {"id": "ba-bad"}
    _stored_before(http, engine, "p-bad", bad, account="ba-bad")
    run = _run(http)
    assert run["billsMade"] == ["ba-ok-2026-06-EUR"]
    assert [a["id"] for a in run["accountsNotBilled"]] == ["ba-bad"]
    assert run["accountsNotBilled"][0]["reason"].startswith("product p-bad: price 'fee': "), run
    assert reason in run["accountsNotBilled"][0]["reason"], run
    assert _lines(http, "ba-ok-2026-06-EUR") == [("recurringCharge", Decimal("10.00"))]
    assert http.get(f"{BILL}/ba-bad-2026-06-EUR").status_code == 404

    # corrected, the account is billed by the next run of the month
    fixed = http.patch(f"{INVENTORY}/p-bad", headers=MERGE, json={"productPrice": [_price(account="ba-bad")]})
    assert fixed.status_code == 200, fixed.text
    again = _run(http)
    assert again["billsMade"] == ["ba-bad-2026-06-EUR"] and "accountsNotBilled" not in again, again
    assert _lines(http, "ba-bad-2026-06-EUR") == [("recurringCharge", Decimal("10.00"))]


def test_a_discount_of_a_million_months_lasts_as_long_as_the_product(http: TestClient) -> None:
    _product(http, "p-1", _price(alterations=[_discount(applicationDuration=10 ** 6)]))
    assert _run(http)["billsMade"] == ["ba-ok-2026-06-EUR"]
    assert _lines(http, "ba-ok-2026-06-EUR") == [("recurringCharge", Decimal("12.00")), ("discount", Decimal("-2.00"))]


# ----------------------------------------------------------------------------- periods and surcharges


@pytest.mark.parametrize(("period", "value", "june"), [
    ("daily", 1, Decimal("30.00")), ("weekly", 7, Decimal("30.00")), ("yearly", 365, Decimal("30.00")),
    ("monthly", 10, Decimal("10.00")), ("days", 1, Decimal("30.00")), ("3 Months", 30, Decimal("10.00")),
])
def test_a_period_spelled_as_an_adverb_or_a_plural_is_billed_for_that_period(
        http: TestClient, period: str, value: int, june: Decimal) -> None:
    _product(http, "p-1", _price(value, period=period))
    run = _run(http)
    assert run["billsMade"] == ["ba-ok-2026-06-EUR"] and "accountsNotBilled" not in run, run
    assert _lines(http, "ba-ok-2026-06-EUR") == [("recurringCharge", june)]


def test_a_surcharge_stays_in_what_the_bill_charges(http: TestClient) -> None:
    # the price line is net of its alterations: 10.00 with +2.00 of surcharge in it
    _product(http, "p-1", _price(10, alterations=[_discount(value=2)]))
    _run(http)
    assert _lines(http, "ba-ok-2026-06-EUR") == [("recurringCharge", Decimal("10.00"))]


# ----------------------------------------------------------------------------- the payer


def test_a_price_paid_by_an_account_that_does_not_exist_is_reported_not_billed_to_it(
        http: TestClient, engine: Any) -> None:
    _product(http, "p-ok", _price())
    # (a price's account is checked when it is written, since: one kept from before)
    _stored_before(http, engine, "p-ghost", _price(account="ba-nobody"))
    run = _run(http)
    assert run["billsMade"] == ["ba-ok-2026-06-EUR"]
    assert run["accountsNotBilled"] == [{"id": "ba-nobody", "reason": "no billing account 'ba-nobody'"}]
    assert http.get(f"{BILL}/ba-nobody-2026-06-EUR").status_code == 404

    created = http.post(ACCOUNT, json={"id": "ba-nobody", "name": "late", "relatedParty": [
        {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text
    again = _run(http)
    assert again["billsMade"] == ["ba-nobody-2026-06-EUR"] and "accountsNotBilled" not in again, again


def test_an_account_whose_bill_id_is_a_settlement_notes_is_reported_not_taken_as_billed(
        http: TestClient, engine: Any) -> None:
    # a settlement note's id is settlement-<payer>-<payee>-<YYYY-MM>-<currency>: the bill of an
    # account named settlement-<payer>-<payee> would have it
    now = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)
    note = {"billNo": "settlement-a-b-2026-06-EUR", "category": "settlement", "state": "sent",
            "amountDue": {"unit": "EUR", "value": 7}}
    with UnitOfWork(engine) as uow:
        uow.resources.insert(StoredResource("customerBill", "settlement-a-b-2026-06-EUR", 1, now, now, note,
                                            state="sent"))
        uow.commit()
    created = http.post(ACCOUNT, json={"id": "settlement-a-b", "name": "x", "relatedParty": [
        {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text
    _product(http, "p-ok", _price())
    _product(http, "p-clash", _price(account="settlement-a-b"), account="settlement-a-b")
    run = _run(http)
    assert (run["billsMade"], run["billsAlreadyMade"], run["lateUsage"]) == (["ba-ok-2026-06-EUR"], [], [])
    assert run["accountsNotBilled"] == [{
        "id": "settlement-a-b", "reason": "its bill's id 'settlement-a-b-2026-06-EUR' is a settlement note's"}]
    assert http.get(f"{BILL}/settlement-a-b-2026-06-EUR").json()["amountDue"]["value"] == 7


# ----------------------------------------------------------------------------- shares between payers

SHARED = """
  - id: three-way
    kind: splitBilling
    default: customer
    rules:
      - id: sms-shared
        when: {charge.service: sms}
        shares:
          - {payer: customer, weight: 33.33}
          - {payer: employer, weight: 33.33}
          - {payer: sponsor, weight: 33.34}
"""


def test_usage_shared_by_three_payers_adds_up_to_what_was_charged_to_the_cent(
        engine: Any, app_for: AppFor, tmp_path: Path) -> None:
    # text messages at 0.01 EUR: a record of 1 or 2 cents cannot be split evenly in three
    folder = tmp_path / "shared"
    shutil.copytree(ROOT / "examples" / "roaming", folder)
    rules = (folder / "rules" / "usage.yaml").read_text().split("\ntests:")[0]
    rules = rules.replace("rate: {amount: 0.10, currency: EUR, per: message}",
                          "rate: {amount: 0.01, currency: EUR, per: message}")
    (folder / "rules" / "usage.yaml").write_text(rules + SHARED)
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(folder), "shared")
    with app_for(engine) as app, TestClient(app) as http:
        for party in ("ana", "acme", "bob"):
            assert http.post(PARTY, json={"id": party, "givenName": party, "familyName": "X"}).status_code == 201
            assert http.post(ACCOUNT, json={"id": f"ba-{party}", "name": party, "relatedParty": [
                {"id": party, "name": party, "role": "owner", "@referredType": "Individual"}]}).status_code == 201
        created = http.post(INVENTORY, json={
            "id": "line-1", "status": "active", "startDate": "2026-05-01T00:00:00Z",
            "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
            "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"},
                             {"id": "acme", "role": "employer", "@referredType": "Individual"},
                             {"id": "bob", "role": "sponsor", "@referredType": "Individual"}]})
        assert created.status_code == 201, created.text
        volumes = [1, 1, 1, 2, 100, 7]
        posted = http.post("/tmf-api/usageManagement/v4/usage", json=[
            {"id": f"u{i}", "usageDate": f"2026-06-{i + 1:02d}T10:00:00Z", "usageCharacteristic": [
                {"name": "productId", "value": "line-1"}, {"name": "service", "value": "sms"},
                {"name": "volume", "value": v}, {"name": "unit", "value": "message"}]} for i, v in enumerate(volumes)])
        assert posted.status_code == 201 and all(u["status"] == "rated" for u in posted.json()), posted.text
        for usage in json.loads(posted.text, parse_float=Decimal):  # each record's parts add up to it
            parts = [Decimal(str(p["taxIncludedRatingAmount"]["value"])) for p in usage["ratedProductUsage"]]
            assert sum(parts, Decimal(0)) == Decimal(str(usage["ratedBy"]["amount"]["value"])), usage
        run = _run(http)
        assert run["billsMade"] == ["ba-acme-2026-06-EUR", "ba-ana-2026-06-EUR", "ba-bob-2026-06-EUR"]
        billed = {bill: _lines(http, bill) for bill in run["billsMade"]}
        assert sum((amount for lines in billed.values() for _, amount in lines), Decimal(0)) == \
            Decimal("0.01") * sum(volumes)
