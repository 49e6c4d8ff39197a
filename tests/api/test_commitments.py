"""Commitments (issue 15, item 2), on both tiers: an offering's terms are served as TMF620
``productOfferingTerm``, an order takes one (``itemTerm``) and its products carry it as TMF637
``productTerm``; terminating a product before the term in force ends adds its early
termination charge, which the month's bill shows; terminating a bundle terminates its
components, each charged under its own term; a term that renews is shown as the renewal in
force. Amounts are worked out by hand in each test."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft4Validator
from sqlalchemy import Engine

from bssrules.api import create_app
from bssrules.rules.project import load_project_texts
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork
from tests.api.tmf_contract import assert_conforms

ROOT = Path(__file__).resolve().parents[2]
CATALOG = "/tmf-api/productCatalogManagement/v4/productOffering"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4/product"
BILLS = "/tmf-api/customerBillManagement/v4"
MERGE = {"content-type": "application/merge-patch+json"}
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]

TERMS_CATALOG = """
productSpecifications:
  - id: ps-fibre
    name: Fibre access
  - id: ps-tv
    name: Television
productOfferingPrices:
  - id: pop-tv-monthly
    name: TV monthly fee
    priceType: recurring
    recurringPeriod: month
    amount: 10.00
    currency: EUR
  - id: pop-fibre-monthly
    name: Fibre monthly fee
    priceType: recurring
    recurringPeriod: month
    amount: 30.00
    currency: EUR
productOfferings:
  - id: po-fibre-24
    name: Fibre, 24 months
    productSpecification: ps-fibre
    prices: [pop-fibre-monthly]
    terms:
      - name: 24 months
        duration: {amount: 24, units: month}
        atEnd: renew
        earlyTermination: {charge: remainingRecurring, share: 0.5}
  - id: po-fibre-12
    name: Fibre, 12 months
    productSpecification: ps-fibre
    prices: [pop-fibre-monthly]
    terms:
      - name: 12 months
        duration: {amount: 12, units: month}
        atEnd: end
        earlyTermination: {charge: fixed, amount: 100.00, currency: EUR}
  - id: po-fibre-choice
    name: Fibre, 12 or 24 months
    productSpecification: ps-fibre
    prices: [pop-fibre-monthly]
    terms:
      - name: 12 months
        duration: {amount: 12, units: month}
        atEnd: end
      - name: 24 months
        duration: {amount: 24, units: month}
        atEnd: end
  - id: po-fibre-promo
    name: Fibre, 6 months (a spring promotion)
    productSpecification: ps-fibre
    prices: [pop-fibre-monthly]
    terms:
      - name: 6 months
        duration: {amount: 6, units: month}
        atEnd: end
        validFor: {start: 2026-03-01, end: 2026-06-01}
  - id: po-fibre-free
    name: Fibre, no commitment
    productSpecification: ps-fibre
    prices: [pop-fibre-monthly]
  - id: po-tv-12
    name: TV, 12 months
    productSpecification: ps-tv
    prices: [pop-tv-monthly]
    terms:
      - name: 12 months
        duration: {amount: 12, units: month}
        atEnd: end
        earlyTermination: {charge: fixed, amount: 50.00, currency: EUR}
  - id: po-fibre-tv
    name: Fibre and TV, 24 months
    bundle:
      - {offering: po-fibre-24}
      - {offering: po-tv-12}
    terms:
      - name: 24 months
        duration: {amount: 24, units: month}
        atEnd: end
        earlyTermination: {charge: fixed, amount: 80.00, currency: EUR}
"""


@pytest.fixture
def http(engine: Engine) -> Iterator[TestClient]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project_texts({"catalog.yaml": TERMS_CATALOG}), "terms")
    with TestClient(create_app(engine=engine)) as client:
        assert client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}
                           ).status_code == 201
        assert client.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}).status_code == 201
        yield client


def _order(client: TestClient, offering: str, start: str, **item: Any) -> Any:
    return client.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": start, "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": offering}, **item}]})


def _product(client: TestClient, offering: str, start: str, **item: Any) -> dict[str, Any]:
    placed = _order(client, offering, start, **item)
    assert placed.status_code == 201, placed.text
    for state in ("inProgress", "completed"):
        moved = client.patch(f"{ORDER}/{placed.json()['id']}", json={"state": state}, headers=MERGE)
        assert moved.status_code == 200 and moved.json()["state"] == state, moved.text
    products = [p for p in client.get(INVENTORY).json()
                if p["productOrderItem"][0]["productOrderId"] == placed.json()["id"]]
    assert len(products) == 1
    return products[0]


def _terminate(client: TestClient, product: dict[str, Any], at: str | None) -> Any:
    body = {"status": "terminated", **({"terminationDate": at} if at else {})}
    return client.patch(f"{INVENTORY}/{product['id']}", json=body, headers=MERGE)


def _charges(product: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in product.get("productPrice", []) if p.get("@type") == "EarlyTerminationCharge"]


def _tmf637_product_errors(product: dict[str, Any]) -> list[str]:
    spec = json.loads((ROOT / "bssrules/api/specs/TMF637-ProductInventory-v4.0.0.swagger.json").read_text())
    validator = Draft4Validator({"definitions": spec["definitions"], "$ref": "#/definitions/Product"})
    return [e.message for e in validator.iter_errors(product)]


def test_an_offering_s_terms_are_served_as_productOfferingTerm_per_the_tmf620_definition(http: TestClient) -> None:
    offering = http.get(f"{CATALOG}/po-fibre-24").json()
    assert offering["productOfferingTerm"] == [{
        "name": "24 months", "duration": {"amount": 24, "units": "month"}, "atEnd": "renew",
        "earlyTermination": {"charge": "remainingRecurring", "share": 0.5}}]
    assert_conforms(offering, "ProductOffering")
    assert "productOfferingTerm" not in http.get(f"{CATALOG}/po-fibre-free").json()


def test_an_offering_is_created_with_terms_and_a_wrong_term_is_refused_naming_it(http: TestClient) -> None:
    body = {"id": "po-new", "name": "New", "productSpecification": {"id": "ps-fibre"},
            "productOfferingTerm": [{"name": "18 months", "duration": {"amount": 18, "units": "months"},
                                     "atEnd": "end", "earlyTermination": {"charge": "fixed", "amount": 60,
                                                                          "currency": "EUR"}}]}
    created = http.post(CATALOG, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["productOfferingTerm"][0]["duration"] == {"amount": 18, "units": "month"}
    bad = dict(body, id="po-bad", productOfferingTerm=[{"name": "x", "duration": {"amount": 18, "units": "month"},
                                                         "atEnd": "renw"}])
    refused = http.post(CATALOG, json=bad)
    assert refused.status_code == 400, refused.text
    assert "productOfferingTerm[0].atEnd" in refused.json()["reason"] + refused.json().get("message", "")
    assert http.get(f"{CATALOG}/po-bad").status_code == 404


def test_a_completed_order_carries_the_term_onto_the_product_as_productTerm(http: TestClient) -> None:
    product = _product(http, "po-fibre-24", "2026-01-31")
    assert product["productTerm"] == [{
        "name": "24 months", "duration": {"amount": 24, "units": "month"}, "atEnd": "renew",
        "earlyTermination": {"charge": "remainingRecurring", "share": 0.5},
        "validFor": {"startDateTime": "2026-01-31T00:00:00Z", "endDateTime": "2028-01-31T00:00:00Z"}}]
    assert _tmf637_product_errors(product) == []
    assert "productTerm" not in _product(http, "po-fibre-free", "2026-01-01")


@pytest.mark.parametrize(("offering", "item", "code", "message"), [
    ("po-fibre-choice", {}, "termRequired", "name one in itemTerm (12 months, 24 months)"),
    ("po-fibre-choice", {"itemTerm": [{"name": "24 month"}]}, "unknownTerm", "did you mean '24 months'?"),
    ("po-fibre-free", {"itemTerm": [{"name": "12 months"}]}, "noTerm", "is sold without a term"),
    ("po-fibre-promo", {"itemTerm": [{"name": "6 months"}]}, "termNotOffered",
     "term '6 months' of offering po-fibre-promo is not offered at this date (its validFor); offered: none"),
    ("po-fibre-choice", {"itemTerm": [{"name": "12 months", "duration": {"amount": 24, "units": "month"}}]},
     "termMismatch", "term '12 months' lasts 12 month(s)"),
])
def test_an_order_naming_no_term_or_a_wrong_one_is_refused_and_nothing_is_stored(
        http: TestClient, offering: str, item: dict[str, Any], code: str, message: str) -> None:
    refused = _order(http, offering, "2026-01-01", **item)
    assert refused.status_code == 422, refused.text
    [violation] = refused.json()["violation"]
    assert violation["code"] == code and message in violation["message"]
    assert violation["path"].startswith("$.productOrderItem[0].itemTerm")
    assert http.get(ORDER).json() == []


def test_the_item_s_chosen_term_is_the_product_s(http: TestClient) -> None:
    product = _product(http, "po-fibre-choice", "2026-01-01", itemTerm=[{"name": "12 months"}])
    assert product["productTerm"][0]["validFor"]["endDateTime"] == "2027-01-01T00:00:00Z"


def test_a_term_is_taken_only_while_the_catalog_offers_it(http: TestClient) -> None:
    during = _product(http, "po-fibre-promo", "2026-04-10", itemTerm=[{"name": "6 months"}])
    assert during["productTerm"][0]["validFor"]["endDateTime"] == "2026-10-10T00:00:00Z"
    assert "productTerm" not in _product(http, "po-fibre-promo", "2026-06-01")


def test_terminating_before_the_end_charges_half_the_recurring_charges_left(http: TestClient) -> None:
    product = _product(http, "po-fibre-24", "2026-01-01")
    terminated = _terminate(http, product, "2026-07-16T00:00:00Z")
    assert terminated.status_code == 200, terminated.text
    # left: 16 of July's 31 days (30 x 16/31 = 15.483.. -> 15.48 as a bill rounds it), then August
    # 2026 to December 2027, 17 months of 30.00 = 510.00; 525.48 x 0.5 = 262.74
    [charge] = _charges(terminated.json())
    assert charge["priceType"] == "oneTime" and charge["billingAccount"] == {"id": "ba-ana"}
    assert charge["price"]["taxIncludedAmount"] == {"unit": "EUR", "value": 262.74}
    assert "2028-01-01T00:00:00Z" in charge["description"]
    # terminating again adds nothing
    again = http.patch(f"{INVENTORY}/{product['id']}", json={"description": "gone"}, headers=MERGE).json()
    assert len(_charges(again)) == 1


def test_a_renewed_term_counts_from_its_own_renewal(http: TestClient) -> None:
    product = _product(http, "po-fibre-24", "2023-01-01")
    # 2023-01-01 + 24 months, renewed: the term in force on 2026-07-16 is 2025-01-01 .. 2027-01-01;
    # left: 15.48 in July, 5 x 30.00 = 150.00 (August to December); 165.48 x 0.5 = 82.74
    [charge] = _charges(_terminate(http, product, "2026-07-16T00:00:00Z").json())
    assert charge["price"]["taxIncludedAmount"]["value"] == 82.74


def test_a_fixed_charge_within_the_term_and_none_once_a_term_that_ends_is_over(http: TestClient) -> None:
    within = _product(http, "po-fibre-12", "2026-03-01")
    [charge] = _charges(_terminate(http, within, "2026-12-31T23:59:59Z").json())
    assert charge["price"]["taxIncludedAmount"] == {"unit": "EUR", "value": 100.00}
    over = _product(http, "po-fibre-12", "2025-03-01")
    assert _charges(_terminate(http, over, "2026-03-01T00:00:00Z").json()) == []
    free = _product(http, "po-fibre-free", "2026-03-01")
    assert _charges(_terminate(http, free, "2026-04-01").json()) == []


def test_a_termination_without_a_date_is_dated_now_and_charged(http: TestClient) -> None:
    product = _product(http, "po-fibre-12", "2099-01-01")  # a term far from over
    terminated = _terminate(http, product, None).json()
    assert terminated["terminationDate"]
    [charge] = _charges(terminated)
    assert charge["price"]["taxIncludedAmount"]["value"] == 100.00


def test_the_charge_is_billed_in_the_month_of_the_termination(http: TestClient) -> None:
    product = _product(http, "po-fibre-24", "2026-01-01")
    assert _terminate(http, product, "2026-07-16T00:00:00Z").status_code == 200
    run = http.post(f"{BILLS}/billRun", json={"period": "2026-07"})
    assert run.status_code == 201, run.text
    [bill_id] = run.json()["billsMade"]
    rates = http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": bill_id}).json()
    lines = sorted((r["appliedBillingRateType"], r["name"], r["taxIncludedAmount"]["value"]) for r in rates)
    # July's fee up to the 16th: 30 x 15/31 = 14.516.. -> 14.52; the charge: 262.74
    assert lines == [("oneTimeCharge", "Early termination charge (24 months)", 262.74),
                     ("recurringCharge", "pop-fibre-monthly", 14.52)]
    assert http.get(f"{BILLS}/customerBill/{bill_id}").json()["amountDue"]["value"] == 277.26
    june = http.post(f"{BILLS}/billRun", json={"period": "2026-06"}).json()["billsMade"]
    june_rates = http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": june[0]}).json()
    assert [r["appliedBillingRateType"] for r in june_rates] == ["recurringCharge"]


def _terminate_by_order(client: TestClient, product: dict[str, Any], start: str | None) -> Any:
    return client.post(ORDER, json={"relatedParty": CUSTOMER, **({"requestedStartDate": start} if start else {}),
                                    "productOrderItem": [{"id": "1", "action": "delete",
                                                          "product": {"id": product["id"]}}]})


def test_a_delete_item_is_valued_with_the_charge_and_completing_the_order_terminates_and_charges(
        http: TestClient) -> None:
    product = _product(http, "po-fibre-24", "2026-01-01")
    placed = _terminate_by_order(http, product, "2026-07-16")
    assert placed.status_code == 201, placed.text
    order = placed.json()
    [price] = order["productOrderItem"][0]["itemPrice"]
    assert price["@type"] == "EarlyTerminationCharge" and price["price"]["taxIncludedAmount"] == {
        "unit": "EUR", "value": 262.74}
    assert order["orderTotalPrice"] == [{"priceType": "oneTime",
                                         "price": {"taxIncludedAmount": {"unit": "EUR", "value": 262.74}}}]
    assert http.get(f"{INVENTORY}/{product['id']}").json()["status"] == "active"  # placed, not yet done
    for state in ("inProgress", "completed"):
        assert http.patch(f"{ORDER}/{order['id']}", json={"state": state}, headers=MERGE).status_code == 200
    terminated = http.get(f"{INVENTORY}/{product['id']}").json()
    assert terminated["status"] == "terminated" and terminated["terminationDate"] == "2026-07-16T00:00:00Z"
    [charge] = _charges(terminated)
    assert charge["price"]["taxIncludedAmount"]["value"] == 262.74 and charge["billingAccount"] == {"id": "ba-ana"}


def test_an_order_adding_and_terminating_adds_the_charge_to_its_one_time_total(http: TestClient) -> None:
    old = _product(http, "po-fibre-12", "2026-03-01")
    placed = http.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-05-01", "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "po-fibre-24"}},
        {"id": "2", "action": "delete", "product": {"id": old["id"]}}]})
    assert placed.status_code == 201, placed.text
    totals = {(t["priceType"], t.get("recurringChargePeriod")): t["price"]["taxIncludedAmount"]["value"]
              for t in placed.json()["orderTotalPrice"]}
    assert totals == {("recurring", "month"): 30.00, ("oneTime", None): 100.00}


@pytest.mark.parametrize(("product_id", "code"), [
    ("nope", "unknownProduct"), ("other", "notThePartysProduct"), ("gone", "productNotInForce")])
def test_a_delete_item_naming_no_product_of_the_customer_in_force_is_refused(
        http: TestClient, product_id: str, code: str) -> None:
    assert http.post(f"{PARTY}/individual", json={"id": "bob", "givenName": "Bob", "familyName": "T"}
                     ).status_code == 201
    for id, party, status in (("other", "bob", "active"), ("gone", "ana", "terminated")):
        assert http.post(INVENTORY, json={"id": id, "status": status, "productOffering": {"id": "po-fibre-free"},
                                          "relatedParty": [{"id": party, "role": "owner",
                                                            "@referredType": "Individual"}]}).status_code == 201
    refused = _terminate_by_order(http, {"id": product_id}, None)
    assert refused.status_code == 422, refused.text
    [violation] = refused.json()["violation"]
    assert violation["code"] == code and violation["path"] == "$.productOrderItem[0].product.id"
    assert http.get(ORDER).json() == []


# ------------------------------------------------------------------ a bundle's components


def _bundle(client: TestClient, start: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A fibre-and-TV bundle ordered to start at ``start``: its product, and its components' by offering."""
    placed = client.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": start, "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "po-fibre-tv"}, "productOrderItem": [
            {"id": "1.1", "action": "add", "quantity": 1, "productOffering": {"id": "po-fibre-24"}},
            {"id": "1.2", "action": "add", "quantity": 1, "productOffering": {"id": "po-tv-12"}}]}]})
    assert placed.status_code == 201, placed.text
    for state in ("inProgress", "completed"):
        assert client.patch(f"{ORDER}/{placed.json()['id']}", json={"state": state}, headers=MERGE).status_code == 200
    products = {p["productOffering"]["id"]: p for p in client.get(INVENTORY).json()
                if p["productOrderItem"][0]["productOrderId"] == placed.json()["id"]}
    bundle = products.pop("po-fibre-tv")
    return bundle, products


def _value(charge: dict[str, Any]) -> Any:
    return charge["price"]["taxIncludedAmount"]["value"]


def test_a_bundle_s_product_names_its_components_per_tmf637(http: TestClient) -> None:
    bundle, parts = _bundle(http, "2026-01-01")
    assert bundle["isBundle"] is True
    assert sorted(r["product"]["id"] for r in bundle["productRelationship"]) == sorted(p["id"] for p in parts.values())
    assert {r["relationshipType"] for r in bundle["productRelationship"]} == {"bundled"}
    assert _tmf637_product_errors(bundle) == []
    assert all("productRelationship" not in p for p in parts.values())


def test_terminating_a_bundle_terminates_its_components_each_charged_under_its_own_term(http: TestClient) -> None:
    bundle, parts = _bundle(http, "2026-01-01")
    terminated = _terminate(http, bundle, "2026-07-16T00:00:00Z")
    assert terminated.status_code == 200, terminated.text
    assert [_value(c) for c in _charges(terminated.json())] == [80.00]  # the bundle's fixed charge
    fibre = http.get(f"{INVENTORY}/{parts['po-fibre-24']['id']}").json()
    tv = http.get(f"{INVENTORY}/{parts['po-tv-12']['id']}").json()
    assert (fibre["status"], fibre["terminationDate"]) == (tv["status"], tv["terminationDate"]) == (
        "terminated", "2026-07-16T00:00:00Z")
    # fibre: half of what is left to 2028-01-01 (15.48 + 17 x 30.00 = 525.48) = 262.74; TV: its fixed 50.00
    assert [_value(c) for c in _charges(fibre)] == [262.74]
    assert [_value(c) for c in _charges(tv)] == [50.00]
    run = http.post(f"{BILLS}/billRun", json={"period": "2026-07"})
    [bill_id] = run.json()["billsMade"]
    rates = http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": bill_id}).json()
    assert sorted(r["taxIncludedAmount"]["value"] for r in rates if r["appliedBillingRateType"] == "oneTimeCharge"
                  ) == [50.00, 80.00, 262.74]


def test_a_component_terminated_before_its_bundle_keeps_its_own_date_and_one_charge(http: TestClient) -> None:
    bundle, parts = _bundle(http, "2026-01-01")
    assert _terminate(http, parts["po-tv-12"], "2026-03-01T00:00:00Z").status_code == 200
    assert _terminate(http, bundle, "2026-07-16T00:00:00Z").status_code == 200
    tv = http.get(f"{INVENTORY}/{parts['po-tv-12']['id']}").json()
    assert tv["terminationDate"] == "2026-03-01T00:00:00Z" and [_value(c) for c in _charges(tv)] == [50.00]
    assert http.get(f"{INVENTORY}/{parts['po-fibre-24']['id']}").json()["status"] == "terminated"


def test_a_delete_item_naming_a_bundle_is_valued_with_its_components_charges_and_terminates_them(
        http: TestClient) -> None:
    bundle, parts = _bundle(http, "2026-01-01")
    placed = _terminate_by_order(http, bundle, "2026-07-16")
    assert placed.status_code == 201, placed.text
    prices = placed.json()["productOrderItem"][0]["itemPrice"]
    assert [_value(p) for p in prices] == [80.00, 262.74, 50.00]  # the bundle's, then its components'
    assert prices[1]["description"].startswith(f"component {parts['po-fibre-24']['id']} (po-fibre-24): ")
    assert placed.json()["orderTotalPrice"] == [{"priceType": "oneTime",
                                                 "price": {"taxIncludedAmount": {"unit": "EUR", "value": 392.74}}}]
    assert all(http.get(f"{INVENTORY}/{p['id']}").json()["status"] == "active" for p in parts.values())
    for state in ("inProgress", "completed"):
        assert http.patch(f"{ORDER}/{placed.json()['id']}", json={"state": state}, headers=MERGE).status_code == 200
    shown = [http.get(f"{INVENTORY}/{p['id']}").json() for p in [bundle, *parts.values()]]
    assert [(p["status"], p["terminationDate"]) for p in shown] == [("terminated", "2026-07-16T00:00:00Z")] * 3
    assert sorted(_value(c) for p in shown for c in _charges(p)) == [50.00, 80.00, 262.74]


# ------------------------------------------------------------------ the term in force


def _months_before(now: dt.datetime, months: int) -> dt.datetime:
    index = now.year * 12 + now.month - 1 - months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.timezone.utc)


def _z(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_product_past_its_term_s_end_with_renew_shows_the_renewal_in_force(http: TestClient) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    start = _months_before(now, 30)  # 24 months, renewed once: the term in force runs from 24 to 48 months
    product = _product(http, "po-fibre-24", _z(start))
    expected = {"startDateTime": _z(_months_before(now, 6)), "endDateTime": _z(_months_before(now, -18))}
    assert product["productTerm"][0]["validFor"] == expected
    assert http.get(f"{INVENTORY}/{product['id']}").json()["productTerm"][0]["validFor"] == expected
    assert _tmf637_product_errors(product) == []
    # renewals are still counted from the first start: what is left of the renewal in force
    early = _terminate(http, product, _z(_months_before(now, 1))).json()
    [charge] = _charges(early)
    assert charge["price"]["taxIncludedAmount"]["value"] == 285.00  # 19 whole months x 30.00 = 570.00, halved
    assert early["productTerm"][0]["validFor"] == expected  # the term in force at the termination


def test_a_terminated_product_shows_the_term_in_force_when_it_was_terminated(http: TestClient) -> None:
    product = _product(http, "po-fibre-24", "2023-01-01")
    terminated = _terminate(http, product, "2024-07-16T00:00:00Z").json()
    assert terminated["productTerm"][0]["validFor"] == {"startDateTime": "2023-01-01T00:00:00Z",
                                                         "endDateTime": "2025-01-01T00:00:00Z"}
    renewed = _terminate(http, _product(http, "po-fibre-24", "2023-01-01"), "2026-07-16T00:00:00Z").json()
    assert renewed["productTerm"][0]["validFor"] == {"startDateTime": "2025-01-01T00:00:00Z",
                                                      "endDateTime": "2027-01-01T00:00:00Z"}


def test_a_product_past_its_term_s_end_with_end_shows_the_term_ended_and_goes_on(http: TestClient) -> None:
    product = _product(http, "po-fibre-12", "2025-03-01")
    shown = http.get(f"{INVENTORY}/{product['id']}").json()
    assert shown["status"] == "active"  # without commitment now, not terminated
    assert shown["productTerm"][0]["validFor"] == {"startDateTime": "2025-03-01T00:00:00Z",
                                                    "endDateTime": "2026-03-01T00:00:00Z"}
