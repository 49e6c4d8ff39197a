"""Recurring and one-time charges shared between payers by a split billing rule set, over
HTTP on both tiers (a billing analyst's review: docs/pricing.md "Split billing" promises the
charge is split to the cent, and an ordered product's fees went whole to the first payer).

A rule of ``shares`` (customer 70 / employer 30) on ``charge.type: recurring`` and
``oneTime``: each line a bill run bills for the product — the month's fee, pro-rated in its
first month, its discount, the one-time fee — is split between the payers' billing accounts
by the weights, to the cent, by the largest remainder, and the parts add up to the line as
billed unsplit; each payer's bill carries its part. An order naming no billing account for a
role of the shares is refused when placed with ``noBillingAccount`` (nothing charged to another
payer instead). A product stored before the shares were kept bills as before.

The example is examples/roaming (mobile-data-plan: 20.00 EUR a month, half price for its
first two months) with a SIM fee of 9.99 EUR added."""
from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork
from tests.api.session_app import AppFor

ROOT = Path(__file__).resolve().parents[2]
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
INVENTORY = "/tmf-api/productInventory/v4/product"
BILLS = "/tmf-api/customerBillManagement/v4"
PARTY, ACCOUNT = "/tmf-api/party/v4/individual", "/tmf-api/accountManagement/v4/billingAccount"
MERGE = {"content-type": "application/merge-patch+json"}

SPLIT = """
  - id: company-phones
    kind: splitBilling
    description: The employer pays 30 % of the plan and of its SIM fee.
    default: customer
    rules:
      - id: plan-shared
        when: {charge.type: recurring}
        shares:
          - {payer: customer, weight: 70}
          - {payer: employer, weight: 30}
      - id: sim-shared
        when: {charge.type: oneTime}
        shares:
          - {payer: customer, weight: 70}
          - {payer: employer, weight: 30}
"""
SIM = "  - {id: sim-fee, name: SIM card, priceType: oneTime, amount: 9.99, currency: EUR}\n"


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def http(engine: Any, app_for: AppFor, tmp_path: Path) -> Iterator[TestClient]:
    """examples/roaming with the SIM fee and the rule set above; Ana (ba-ana) and Acme (ba-acme)."""
    folder = tmp_path / "company"
    shutil.copytree(ROOT / "examples" / "roaming", folder, ignore=shutil.ignore_patterns(".bssrules-cache"))
    catalog = (folder / "catalog" / "catalog.yaml").read_text()
    catalog = catalog.replace("\nproductOfferings:", SIM + "\nproductOfferings:")
    catalog = catalog.replace("prices: [mobile-data-monthly,", "prices: [sim-fee, mobile-data-monthly,")
    (folder / "catalog" / "catalog.yaml").write_text(catalog)
    rules = (folder / "rules" / "usage.yaml").read_text().split("\ntests:")[0]
    (folder / "rules" / "usage.yaml").write_text(rules + SPLIT)
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(folder), "company")
    with app_for(engine) as app, TestClient(app, raise_server_exceptions=False) as client:
        for party in ("ana", "acme"):
            _ok(client.post(PARTY, json={"id": party, "givenName": party, "familyName": "X"}))
            _ok(client.post(ACCOUNT, json={"id": f"ba-{party}", "name": party, "relatedParty": [
                {"id": party, "name": party, "role": "owner", "@referredType": "Individual"}]}))
        yield client


def _order(http: TestClient, start: str, employer: bool = True) -> dict[str, Any]:
    """The plan ordered for Ana (Acme her employer), moved to completed: the order as it ends."""
    parties = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
    if employer:
        parties.append({"id": "acme", "role": "employer", "@referredType": "Individual"})
    order = _ok(http.post(ORDER, json={"relatedParty": parties, "requestedStartDate": start, "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-data-plan"}}]}))
    for state in ("inProgress", "completed"):
        order = _ok(http.patch(f"{ORDER}/{order['id']}", json={"state": state}, headers=MERGE), 200)
    return dict(order)


def _run(http: TestClient, period: str) -> dict[str, Any]:
    return dict(_ok(http.post(f"{BILLS}/billRun", json={"period": period})))


def _lines(http: TestClient, bill: str) -> list[tuple[str, str, Decimal]]:
    """(type, name, amount) of the bill's lines, after checking they add up to its amount."""
    amount = _ok(http.get(f"{BILLS}/customerBill/{bill}"), 200)["amountDue"]["value"]
    rates = _ok(http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": bill}), 200)
    lines = [(r["appliedBillingRateType"], r["name"], r["taxIncludedAmount"]["value"]) for r in rates]
    assert sum((value for _, _, value in lines), Decimal(0)) == amount, (lines, amount)
    return lines


def _details(http: TestClient, bill: str) -> list[dict[str, Any]]:
    rates = _ok(http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": bill}), 200)
    return [{c["name"]: c["value"] for c in r["characteristic"]} for r in rates]


def test_a_shared_recurring_fee_is_split_between_the_payers_bills_to_the_cent(http: TestClient) -> None:
    # June from the 10th 08:00: 20.00 x 20 2/3 days / 30 = 13.777.. -> 13.78, half of it off: 6.89
    _order(http, "2026-06-10T08:00:00Z")
    run = _run(http, "2026-06")
    assert run["billsMade"] == ["ba-acme-2026-06-EUR", "ba-ana-2026-06-EUR"], run
    assert "accountsNotBilled" not in run, run
    ana, acme = _lines(http, "ba-ana-2026-06-EUR"), _lines(http, "ba-acme-2026-06-EUR")
    # 13.78 x 70 % = 9.646, x 30 % = 4.134: 9.64 + 4.13, the cent left to the larger remainder (0.6)
    # 6.89 x 70 % = 4.823, x 30 % = 2.067: 4.82 + 2.06, the cent to the employer's (0.7)
    # 9.99 x 70 % = 6.993, x 30 % = 2.997: 6.99 + 2.99, the cent to the employer's (0.7)
    assert ana == [("oneTimeCharge", "sim-fee", Decimal("6.99")),
                   ("recurringCharge", "mobile-data-monthly", Decimal("9.65")),
                   ("discount", "mobile-discounts/welcome-half-price", Decimal("-4.82"))]
    assert acme == [("oneTimeCharge", "sim-fee", Decimal("3.00")),
                    ("recurringCharge", "mobile-data-monthly", Decimal("4.13")),
                    ("discount", "mobile-discounts/welcome-half-price", Decimal("-2.07"))]
    # each line's parts add up to the line billed unsplit
    for (_, _, mine), (_, _, theirs), whole in zip(ana, acme, ("9.99", "13.78", "-6.89")):
        assert mine + theirs == Decimal(whole)
    # each part says whose part it is and of what
    [once, fee, discount] = _details(http, "ba-acme-2026-06-EUR")
    assert (fee["payerRole"], fee["payerWeight"], fee["payersWeight"], fee["unsplitAmount"]) == \
        ("employer", 30, 100, Decimal("13.78"))
    assert (once["payerRole"], once["unsplitAmount"]) == ("employer", Decimal("9.99"))
    assert (discount["payerRole"], discount["unsplitAmount"]) == ("employer", Decimal("-6.89"))

    # a whole month: 20.00 -> 14.00 + 6.00, half off: -7.00 and -3.00; no SIM fee again
    run = _run(http, "2026-07")
    assert run["billsMade"] == ["ba-acme-2026-07-EUR", "ba-ana-2026-07-EUR"], run
    assert _lines(http, "ba-ana-2026-07-EUR") == [
        ("recurringCharge", "mobile-data-monthly", Decimal("14.00")),
        ("discount", "mobile-discounts/welcome-half-price", Decimal("-7.00"))]
    assert _lines(http, "ba-acme-2026-07-EUR") == [
        ("recurringCharge", "mobile-data-monthly", Decimal("6.00")),
        ("discount", "mobile-discounts/welcome-half-price", Decimal("-3.00"))]


def test_the_product_keeps_each_payers_account_and_weight(http: TestClient) -> None:
    order = _order(http, "2026-06-10T08:00:00Z")
    [product] = [p for p in _ok(http.get(INVENTORY), 200) if p["productOrderItem"][0]["productOrderId"] == order["id"]]
    prices = {p["name"]: p for p in product["productPrice"]}
    shares = [{"role": "customer", "weight": 70, "billingAccount": {"id": "ba-ana"}},
              {"role": "employer", "weight": 30, "billingAccount": {"id": "ba-acme"}}]
    for name in ("mobile-data-monthly", "sim-fee"):
        # the first payer's account stays the price's billingAccount, as for a single payer
        assert prices[name]["billingAccount"] == {"id": "ba-ana"}
        assert prices[name]["payerShares"] == shares
    assert "payerShares" not in prices["sms-per-message"]  # usage: split per record by rating


def test_an_order_naming_no_account_for_a_role_of_the_shares_is_refused_when_placed(http: TestClient) -> None:
    # the employer's 30 % would have gone to Ana (or nowhere): refused at once, as an order
    # naming no account for its only payer is, not accepted to fail at completion
    parties = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
    response = http.post(ORDER, json={"relatedParty": parties, "requestedStartDate": "2026-06-10T08:00:00Z",
                                      "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                                                            "productOffering": {"id": "mobile-data-plan"}}]})
    assert response.status_code == 422, response.text
    assert "noBillingAccount" in response.text and "'employer' (its share)" in response.text
    assert "mobile-data-monthly" in response.text
    assert _ok(http.get(ORDER), 200) == [] and _ok(http.get(INVENTORY), 200) == []
    assert _run(http, "2026-06")["billsMade"] == []


def test_a_product_stored_with_one_billing_account_bills_as_before(http: TestClient) -> None:
    # a product kept before the shares were (its prices name one account): the whole fee to it
    _ok(http.post(INVENTORY, json={
        "id": "old-line", "status": "active", "startDate": "2026-06-01T00:00:00Z",
        "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
        "productPrice": [{"name": "mobile-data-monthly", "priceType": "recurring", "recurringChargePeriod": "month",
                          "billingAccount": {"id": "ba-ana"},
                          "price": {"taxIncludedAmount": {"unit": "EUR", "value": 20}}}]}))
    run = _run(http, "2026-06")
    assert run["billsMade"] == ["ba-ana-2026-06-EUR"], run
    assert _lines(http, "ba-ana-2026-06-EUR") == [("recurringCharge", "mobile-data-monthly", Decimal("20.00"))]


def test_a_stored_share_without_an_account_leaves_the_payers_unbilled_with_the_reason(http: TestClient) -> None:
    # a product kept with a share naming no account (not made by an order): not charged to the other payer
    shares = [{"role": "customer", "weight": 70, "billingAccount": {"id": "ba-ana"}},
              {"role": "employer", "weight": 30}]
    _ok(http.post(INVENTORY, json={
        "id": "odd-line", "status": "active", "startDate": "2026-06-01T00:00:00Z",
        "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
        "productPrice": [{"name": "mobile-data-monthly", "priceType": "recurring", "recurringChargePeriod": "month",
                          "billingAccount": {"id": "ba-ana"}, "payerShares": shares,
                          "price": {"taxIncludedAmount": {"unit": "EUR", "value": 20}}}]}))
    run = _run(http, "2026-06")
    assert run["billsMade"] == [], run
    assert run["accountsNotBilled"] == [{"id": "ba-ana", "reason": (
        "product odd-line: price 'mobile-data-monthly': noBillingAccount: no billing account for the payer "
        "role 'employer'")}], run


ANA_SHARE = {"role": "customer", "weight": 70, "billingAccount": {"id": "ba-ana"}}
ODD_SHARES = {
    "not a list": "customer",
    "an empty list": [],
    "a share that is no object": [ANA_SHARE, "employer"],
    "a weight in text": [ANA_SHARE, {"role": "employer", "weight": "30", "billingAccount": {"id": "ba-acme"}}],
    "a weight of 0": [ANA_SHARE, {"role": "employer", "weight": 0, "billingAccount": {"id": "ba-acme"}}],
    "a negative weight": [ANA_SHARE, {"role": "employer", "weight": -30, "billingAccount": {"id": "ba-acme"}}],
    "a weight of true": [ANA_SHARE, {"role": "employer", "weight": True, "billingAccount": {"id": "ba-acme"}}],
    "a weight of 20 decimal places": [ANA_SHARE, {"role": "employer", "weight": 1e-20,
                                                  "billingAccount": {"id": "ba-acme"}}],
    "a weight of 30 digits": [ANA_SHARE, {"role": "employer", "weight": 1e29, "billingAccount": {"id": "ba-acme"}}],
    "a role twice": [ANA_SHARE, dict(ANA_SHARE, billingAccount={"id": "ba-acme"})],
    "a role that is no text": [ANA_SHARE, {"role": 7, "weight": 30, "billingAccount": {"id": "ba-acme"}}],
}


@pytest.mark.parametrize("case", list(ODD_SHARES))
def test_stored_shares_the_run_cannot_read_leave_the_payers_unbilled_never_a_server_error(
        http: TestClient, case: str) -> None:
    created = http.post(INVENTORY, json={
        "id": "odd-line", "status": "active", "startDate": "2026-06-01T00:00:00Z",
        "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
        "productPrice": [{"name": "mobile-data-monthly", "priceType": "recurring", "recurringChargePeriod": "month",
                          "billingAccount": {"id": "ba-ana"}, "payerShares": ODD_SHARES[case],
                          "price": {"taxIncludedAmount": {"unit": "EUR", "value": 20}}}]})
    assert created.status_code < 500, created.text
    if created.status_code != 201:  # refused when written: nothing to bill
        return
    run = _run(http, "2026-06")
    assert run["billsMade"] == [], run
    assert "ba-ana" in [a["id"] for a in run["accountsNotBilled"]], run
    for refused in run["accountsNotBilled"]:
        assert refused["reason"].startswith("product odd-line: price 'mobile-data-monthly': payerShares"), run


def test_a_share_naming_an_unknown_account_is_refused_when_the_product_is_written(http: TestClient) -> None:
    price = {"name": "mobile-data-monthly", "priceType": "recurring", "recurringChargePeriod": "month",
             "billingAccount": {"id": "ba-ana"}, "price": {"taxIncludedAmount": {"unit": "EUR", "value": 20}},
             "payerShares": [{"role": "customer", "weight": 70, "billingAccount": {"id": "ba-ana"}},
                             {"role": "employer", "weight": 30, "billingAccount": {"id": "ba-acne"}}]}
    response = http.post(INVENTORY, json={"id": "p-shared", "status": "active", "startDate": "2026-06-01T00:00:00Z",
                                          "productOffering": {"id": "mobile-data-plan"},
                                          "billingAccount": {"id": "ba-ana"}, "productPrice": [price],
                                          "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]})
    assert response.status_code == 422, response.text
    assert "productPrice[0].payerShares[1].billingAccount.id: no billingAccount 'ba-acne' (did you mean 'ba-acme'?)" \
        in response.text
    assert _ok(http.get(INVENTORY), 200) == []


def test_an_account_paying_a_share_of_a_product_cannot_be_deleted(http: TestClient) -> None:
    _order(http, "2026-06-10T08:00:00Z")
    response = http.delete(f"{ACCOUNT}/ba-acme")
    assert response.status_code == 409, response.text
    assert "still referred to" in response.text
    assert _ok(http.get(f"{ACCOUNT}/ba-acme"), 200)["id"] == "ba-acme"
