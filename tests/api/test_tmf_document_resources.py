"""TMF632 party, TMF629 customer, TMF666 billing account, TMF637 product inventory over HTTP,
on both database tiers; every response body is checked against its API's official definition."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from jsonschema import Draft4Validator, FormatChecker

from bssrules.api.resources import SPECS

PARTY, CUSTOMER = "/tmf-api/party/v4", "/tmf-api/customerManagement/v4"
ACCOUNT, INVENTORY = "/tmf-api/accountManagement/v4", "/tmf-api/productInventory/v4"
MERGE = {"content-type": "application/merge-patch+json"}
DEFINITIONS = {"individual": "Individual", "organization": "Organization", "customer": "Customer",
               "billingAccount": "BillingAccount", "product": "Product"}


def _check(response: Any) -> Any:
    """Validate a response body against the definition of its API and resource."""
    path = response.request.url.path
    api = next((prefix for prefix in SPECS if path.startswith(prefix)), None)
    if api is None:  # /openapi.json and the like: not a TMF resource
        return response
    resource = path[len(api) + 1:].split("/")[0]
    definitions = SPECS[api].definitions
    if response.status_code == 204:
        assert response.content == b""
        return response
    body = response.json()
    name = "Error" if response.status_code >= 400 else DEFINITIONS[resource]
    schema = {"definitions": definitions, "$ref": f"#/definitions/{name}"}
    if isinstance(body, list):
        schema = {"definitions": definitions, "type": "array", "items": {"$ref": f"#/definitions/{name}"}}
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in Draft4Validator(schema, format_checker=FormatChecker()).iter_errors(body)]
    assert not errors, f"{response.request.method} {path} -> {response.status_code} breaks {name}: {errors}"
    return response


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    with TestClient(create_app(engine=engine)) as test_client:
        test_client.event_hooks["response"] = [lambda r: (r.read(), _check(r))]
        yield test_client


def _driver(http: Any, id: str = "driver-1") -> dict[str, Any]:
    response = http.post(f"{PARTY}/individual", json={"id": id, "givenName": "Ana", "familyName": "Silva"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_third_party_payer_is_created_as_an_individual_with_href_and_type(http: Any) -> None:
    created = _driver(http)
    assert created["href"] == f"{PARTY}/individual/driver-1"
    assert created["@type"] == "Individual"
    assert http.get(f"{PARTY}/individual/driver-1").json() == created


def test_checking_whether_a_driver_is_already_a_customer_filters_customers_by_engaged_party(http: Any) -> None:
    _driver(http)
    _driver(http, "driver-2")
    assert http.get(f"{CUSTOMER}/customer", params={"engagedParty.id": "driver-1"}).json() == []
    response = http.post(f"{CUSTOMER}/customer", json={"id": "c-1", "name": "Ana Silva",
                                                       "engagedParty": {"id": "driver-1", "@referredType": "Individual"}})
    assert response.status_code == 201, response.text
    found = http.get(f"{CUSTOMER}/customer", params={"engagedParty.id": "driver-1"})
    assert [c["id"] for c in found.json()] == ["c-1"] and found.headers["X-Total-Count"] == "1"
    assert http.get(f"{CUSTOMER}/customer", params={"engagedParty.id": "driver-2"}).json() == []


def test_a_customer_of_an_unknown_party_is_refused_with_422_and_a_suggestion(http: Any) -> None:
    _driver(http)
    response = http.post(f"{CUSTOMER}/customer", json={"name": "X", "engagedParty": {"id": "driver-2",
                                                                                     "@referredType": "Individual"}})
    assert response.status_code == 422
    assert "no individual or organization 'driver-2' (did you mean 'driver-1'?)" in response.json()["message"]
    assert http.get(f"{CUSTOMER}/customer").json() == []


def test_a_billing_account_is_created_found_by_party_and_patched_without_repeating_required_fields(http: Any) -> None:
    _driver(http)
    account = {"id": "ba-1", "name": "Ana pays", "relatedParty": [
        {"id": "driver-1", "name": "Ana Silva", "role": "owner", "@referredType": "Individual"}]}
    assert http.post(f"{ACCOUNT}/billingAccount", json=account).status_code == 201
    assert [a["id"] for a in http.get(f"{ACCOUNT}/billingAccount", params={"relatedParty.id": "driver-1"}).json()] \
        == ["ba-1"]
    patched = http.patch(f"{ACCOUNT}/billingAccount/ba-1", json={"state": "active"}, headers=MERGE)
    assert patched.status_code == 200, patched.text
    assert patched.json()["state"] == "active" and patched.json()["name"] == "Ana pays"
    removed = http.patch(f"{ACCOUNT}/billingAccount/ba-1", json={"state": None}, headers=MERGE)
    assert "state" not in removed.json()


def test_a_customers_products_are_listed_with_their_status(http: Any) -> None:
    _driver(http)
    owner = [{"id": "driver-1", "role": "owner", "@referredType": "Individual"}]
    for id, status in (("p-1", "active"), ("p-2", "terminated")):
        response = http.post(f"{INVENTORY}/product", json={
            "id": id, "status": status, "productOffering": {"id": "infotainment-connectivity"},
            "relatedParty": owner})
        assert response.status_code == 201, response.text
    products = http.get(f"{INVENTORY}/product", params={"relatedParty.id": "driver-1", "fields": "status"}).json()
    assert [(p["id"], p["status"]) for p in products] == [("p-1", "active"), ("p-2", "terminated")]
    active = http.get(f"{INVENTORY}/product", params={"relatedParty.id": "driver-1", "status": "active"}).json()
    assert [p["id"] for p in active] == ["p-1"]


def test_a_party_still_referred_to_cannot_be_deleted_and_nothing_changes(http: Any) -> None:
    _driver(http)
    http.post(f"{CUSTOMER}/customer", json={"id": "c-1", "name": "Ana",
                                            "engagedParty": {"id": "driver-1", "@referredType": "Individual"}})
    response = http.delete(f"{PARTY}/individual/driver-1")
    assert response.status_code == 409
    assert "Customer 'c-1'" in response.json()["message"]
    assert http.get(f"{PARTY}/individual/driver-1").status_code == 200
    assert http.delete(f"{CUSTOMER}/customer/c-1").status_code == 204
    assert http.delete(f"{PARTY}/individual/driver-1").status_code == 204
    assert http.get(f"{PARTY}/individual/driver-1").status_code == 404


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    (f"{PARTY}/individual", {"givenName": "A"}, 400, "invalidInput"),  # familyName is required
    (f"{PARTY}/individual", {"givenName": "A", "familyName": "B", "shoeSize": 42}, 400, "invalidInput"),
    (f"{PARTY}/organization", {"tradingName": "Acme", "@type": "Individual"}, 400, "invalidInput"),
])
def test_malformed_bodies_get_a_tmf_error_and_create_nothing(http: Any, path: str, body: dict[str, Any],
                                                              status: int, code: str) -> None:
    response = http.post(path, json=body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert http.get(path).json() == []


def test_a_duplicate_id_is_a_conflict(http: Any) -> None:
    _driver(http)
    response = http.post(f"{PARTY}/individual", json={"id": "driver-1", "givenName": "X", "familyName": "Y"})
    assert response.status_code == 409


def test_the_openapi_document_carries_each_apis_definitions_under_its_prefix(http: Any) -> None:
    document = http.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for name in ("TMF632_Individual", "TMF629_Customer", "TMF666_BillingAccount", "TMF637_Product"):
        assert name in schemas
    assert f"{INVENTORY}/product/{{id}}" in document["paths"]
