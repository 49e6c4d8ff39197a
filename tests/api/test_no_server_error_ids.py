"""Ids and lengths that once answered 500 (issue 14, section 3), on both tiers:

* a non-ASCII id (an emoji) is an id like any other: the resource is created once, its href
  and Location are ASCII URIs (the id percent-encoded, RFC 3986) that find it again, and a
  resent usage is answered 200 with the stored one — the usage was committed before building
  the Location header failed, and every resend failed again;
* an id that is not a string is a 400 that says so, before anything is looked up;
* a qualification (or an order) posted with an id that exists is a 409, not a duplicate key;
* a value longer than its column keeps is a 400 naming the field and the limit, before the
  database sees it (PostgreSQL refused it with a 500; SQLite kept it whole).
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
PC = "/tmf-api/productCatalogManagement/v4"
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4/billingAccount"
INVENTORY = "/tmf-api/productInventory/v4/product"
USAGE_API = "/tmf-api/usageManagement/v4"
USAGE = f"{USAGE_API}/usage"
BUCKET = "/tmf-api/prepayBalanceManagement/v4/bucket"
TICKET = "/tmf-api/troubleTicket/v4/troubleTicket"
QUALIFICATION = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
EMOJI = "line-😀"


@pytest.fixture
def http(engine: Engine, app_for: Callable[..., Any]) -> Iterator[TestClient]:
    """The roaming example on each tier; Ana (ba-ana) with the mobile plan line-1 and, under an
    emoji id, a second line. A 500 is answered, as a server would, not raised."""
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "roaming"), "roaming")
    with app_for(engine) as app, TestClient(app, raise_server_exceptions=False) as client:
        _ok(client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}))
        _ok(client.post(ACCOUNT, json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}))
        for line in ("line-1", EMOJI):
            _ok(client.post(INVENTORY, json={
                "id": line, "status": "active", "startDate": "2026-06-01T00:00:00Z",
                "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
                "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}))
        yield client


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


def _error(response: Any, status: int, *fragments: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["@type"] == "Error" and body["status"] == str(status), body
    for fragment in fragments:
        assert fragment in body["message"], body
    return str(body["message"])


def _sms(usage_id: str, line: str = "line-1", messages: int = 3) -> dict[str, Any]:
    return {"id": usage_id, "usageDate": "2026-06-03T10:00:00Z", "usageType": "sms", "usageCharacteristic": [
        {"name": "productId", "value": line}, {"name": "service", "value": "sms"},
        {"name": "volume", "value": messages}, {"name": "unit", "value": "message"}]}


# ------------------------------------------------------------------------ non-ASCII ids


def _found_again(http: TestClient, response: Any, path: str, resource_id: str) -> None:
    created = _ok(response)
    href = f"{path}/{quote(resource_id, safe='')}"
    assert created["id"] == resource_id
    assert created["href"] == href and href.isascii()
    assert response.headers["location"] == href
    assert _ok(http.get(response.headers["location"]), 200)["id"] == resource_id


@pytest.mark.parametrize("resource_id", ["ana-😀", "Zoë", "a b?c#d", "东京"])
def test_a_party_with_a_non_ascii_id_is_created_and_found_at_its_location(http: TestClient, resource_id: str) -> None:
    _found_again(http, http.post(f"{PARTY}/individual", json={"id": resource_id, "givenName": "A", "familyName": "B"}),
                 f"{PARTY}/individual", resource_id)


def test_resources_of_every_kind_take_a_non_ascii_id(http: TestClient) -> None:
    _found_again(http, http.post(BUCKET, json={"id": "b-😀", "usageType": "sms", "product": [{"id": EMOJI}],
                                               "remainingValue": {"amount": 5, "units": "message"}}), BUCKET, "b-😀")
    _found_again(http, http.post(TICKET, json={
        "id": "t-😀", "description": "d", "severity": "minor", "ticketType": "complaint",
        "relatedParty": [{"id": "org", "role": "assignee", "@referredType": "Organization"}]}), TICKET, "t-😀")
    _found_again(http, http.post(QUALIFICATION, json={"id": "q-😀", "productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": "mobile-data-plan"}}]}), QUALIFICATION, "q-😀")


def test_a_usage_with_an_emoji_id_is_rated_and_charged_once_and_a_resend_gets_it_back(http: TestClient) -> None:
    first = http.post(USAGE, json=_sms("u-😀", EMOJI))
    _found_again(http, first, USAGE, "u-😀")
    usage = first.json()
    assert usage["status"] == "rated", usage
    for _ in range(3):
        again = http.post(USAGE, json=_sms("u-😀", EMOJI))
        assert again.status_code == 200, again.text
        assert again.json() == usage and again.headers["location"] == first.headers["location"]
    totals = _ok(http.get(f"{USAGE_API}/aggregatedUsage", params={"product": EMOJI}), 200)["total"]
    assert [(t["value"], t["count"]) for t in totals] == [(Decimal("0.30"), 1)]


# ------------------------------------------------------------------- ids that are not strings

# a resource of each kind a client may name, as created without an id
CREATED = [
    (TICKET, {"description": "d", "severity": "minor", "ticketType": "complaint"}),
    (BUCKET, {"usageType": "sms", "product": [{"id": "line-1"}], "remainingValue": {"amount": 5, "units": "message"}}),
    (QUALIFICATION, {"productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "mobile-data-plan"}}]}),
    (f"{PARTY}/individual", {"givenName": "A", "familyName": "B"}),
    (ORDER, {"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "mobile-data-plan"}}]}),
    (f"{PC}/category", {"name": "c"}),
]
CREATED_KINDS = ["ticket", "bucket", "qualification", "individual", "order", "category"]


@pytest.mark.parametrize("bad", [5, 5.5, True, ["a"], {"a": 1}])
@pytest.mark.parametrize(("path", "body"), CREATED, ids=CREATED_KINDS)
def test_an_id_that_is_not_a_string_is_a_400(http: TestClient, path: str, body: dict[str, Any], bad: Any) -> None:
    _error(http.post(path, json={**body, "id": bad}), 400, "id is a string")


def test_a_usage_id_that_is_not_a_string_is_a_400_and_the_batch_stores_nothing(http: TestClient) -> None:
    _error(http.post(USAGE, json=[_sms("fine"), {**_sms("x"), "id": 5}]), 400, "id must be a non-empty string")
    assert http.get(f"{USAGE}/fine").status_code == 404


# --------------------------------------------------------------------------- ids that exist


def test_a_qualification_posted_with_an_id_that_exists_is_a_409_and_changes_nothing(http: TestClient) -> None:
    body = {"id": "q1", "productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": "mobile-data-plan"}}]}
    stored = _ok(http.post(QUALIFICATION, json=body))
    _error(http.post(QUALIFICATION, json={**body, "relatedParty": [{"id": "ana", "role": "customer",
                                                                        "@referredType": "Individual"}]}), 409,
           "a ProductOfferingQualification with id 'q1' already exists")
    assert _ok(http.get(f"{QUALIFICATION}/q1"), 200) == stored


def test_an_order_posted_with_an_id_that_exists_is_a_409(http: TestClient) -> None:
    body = {"id": "o1", "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
            "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "line-1"}}]}
    _ok(http.post(ORDER, json=body))
    _error(http.post(ORDER, json=body), 409, "a ProductOrder with id 'o1' already exists")


# ------------------------------------------------------------------------------- lengths


@pytest.mark.parametrize("kind", ["category", "catalog", "productOfferingPrice"])
def test_a_catalog_name_longer_than_the_store_keeps_is_a_400_naming_it_and_the_limit(http: TestClient,
                                                                                     kind: str) -> None:
    body = {"name": "n" * 401, **({"priceType": "oneTime", "price": {"unit": "EUR", "value": 1}}
                                  if kind == "productOfferingPrice" else {})}
    _error(http.post(f"{PC}/{kind}", json=body), 400, "name has at most 400 characters; this one has 401")
    _ok(http.post(f"{PC}/{kind}", json={**body, "id": f"{kind}-400", "name": "n" * 400}))
    _error(http.patch(f"{PC}/{kind}/{kind}-400", json={"name": "n" * 10_000},
                      headers={"content-type": "application/merge-patch+json"}), 400, "name has at most 400")
    assert _ok(http.get(f"{PC}/{kind}/{kind}-400"), 200)["name"] == "n" * 400


def test_an_id_longer_than_the_store_keeps_is_a_400(http: TestClient) -> None:
    _error(http.post(f"{PARTY}/individual", json={"id": "i" * 129, "givenName": "A", "familyName": "B"}), 400,
           "id has at most 128 characters; this one has 129")
    assignee = {"id": "org", "role": "assignee", "@referredType": "Organization"}
    _error(http.post(TICKET, json={"id": "t" * 10_000, "description": "d", "severity": "minor",
                                   "ticketType": "complaint", "relatedParty": [assignee]}),
           400, "at most 128 characters")


def test_a_state_or_a_catalog_reference_longer_than_the_store_keeps_is_a_400(http: TestClient) -> None:
    _error(http.post(ACCOUNT, json={"name": "x", "state": "s" * 41, "relatedParty": [
        {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}), 400,
        "state has at most 40 characters")
    _error(http.post(INVENTORY, json={"status": "active", "productOffering": {"id": "o" * 129}}), 400,
           "productOffering.id has at most 128 characters")
    _error(http.patch(f"{INVENTORY}/line-1", json={"productSpecification": {"id": "s" * 200}},
                      headers={"content-type": "application/merge-patch+json"}), 400,
           "productSpecification.id has at most 128 characters")


def test_a_usage_of_a_service_name_longer_than_the_store_keeps_is_stored_rejected(http: TestClient) -> None:
    body = _sms("long-service")
    body["usageCharacteristic"][1]["value"] = "s" * 129
    usage = _ok(http.post(USAGE, json=body))
    assert usage["status"] == "rejected"
    assert usage["rejectionReason"] == [{"code": "malformed", "label": "the service (usageType) has at most 128 "
                                                                       "characters; this one has 129"}]


def test_attributes_of_any_name_and_length_are_kept_with_the_usage(http: TestClient) -> None:
    body = {**_sms("long-names"), "n" * 300: "x" * 10_000, "nested": {"m" * 250: {"deep": 1}}}
    usage = _ok(http.post(USAGE, json=body))
    assert usage["n" * 300] == "x" * 10_000 and usage["nested"] == {"m" * 250: {"deep": 1}}


# ----------------------------------------------------- ids that could not be read back at …/{id}


@pytest.mark.parametrize("bad", ["a/b", "/", "..", "."])
@pytest.mark.parametrize(("path", "body"), CREATED, ids=CREATED_KINDS)
def test_an_id_that_could_not_be_read_back_is_a_400_and_nothing_is_created(
        http: TestClient, path: str, body: dict[str, Any], bad: str) -> None:
    before = http.get(path)
    _error(http.post(path, json={**body, "id": bad}), 400, "cannot be read back")
    assert http.get(path).json() == before.json()


def test_a_usage_id_with_a_slash_is_a_400_and_the_batch_stores_nothing(http: TestClient) -> None:
    _error(http.post(USAGE, json=_sms("u/1")), 400, "cannot be read back")
    _error(http.post(USAGE, json=[_sms("fine-1"), _sms("u/2")]), 400, "[1].id", "cannot be read back")
    assert http.get(USAGE).json() == []
