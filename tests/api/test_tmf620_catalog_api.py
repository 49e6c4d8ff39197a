"""The TMF620 Product Catalog Management API: the five resources, their query conventions and
errors, on each database tier.

Every response seen here has already been checked against the strict TMF620 contract by the
``client`` fixture (tests/api/conftest.py); the tests below check behaviour on top of that.
"""
from __future__ import annotations

import json
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import Engine, select

from bssrules.catalog.catalog import Catalog
from bssrules.store.tables import metadata

try:  # tests/api as a package, or (pytest's default) as a rootdir-less folder on sys.path
    from .tmf_contract import (
        BASE_PATH, EMPTY, OPENAPI, RESOURCES, ROOT_DEFINITIONS, Contract, ContractViolation, assert_conforms,
        check_response, contract_for,
    )
except ImportError:
    from tmf_contract import (  # type: ignore[no-redef]
        BASE_PATH, EMPTY, OPENAPI, RESOURCES, ROOT_DEFINITIONS, Contract, ContractViolation, assert_conforms,
        check_response, contract_for,
    )

KINDS = tuple(RESOURCES)
MERGE_PATCH = {"content-type": "application/merge-patch+json"}

# A new resource of each kind, referring to example entities where it refers to anything.
CREATE_BODIES: dict[str, dict[str, Any]] = {
    "catalog": {"id": "b2b-catalog", "name": "B2B catalog", "description": "For business customers",
                "category": [{"id": "connectivity"}]},
    "category": {"id": "iot", "name": "IoT", "parentId": "connectivity"},
    "productSpecification": {
        "id": "iot-sim", "name": "IoT SIM", "brand": "Acme",
        "productSpecCharacteristic": [{"name": "apn", "valueType": "string", "productSpecCharacteristicValue": [
            {"value": "iot.example", "isDefault": True}, {"value": "m2m.example"}]}]},
    "productOffering": {"id": "iot-connect", "name": "IoT connectivity", "partnerEligible": True,
                        "productSpecification": {"id": "car-connectivity"}, "category": [{"id": "connectivity"}],
                        "productOfferingPrice": [{"id": "car-connectivity-monthly"}]},
    "productOfferingPrice": {"id": "iot-monthly", "name": "IoT per month", "priceType": "recurring",
                             "recurringChargePeriodType": "month", "price": {"unit": "EUR", "value": 1.25}},
}
# What the created resource shows of its body (references come back with href and @referredType).
CREATED_SHOWS: dict[str, dict[str, Any]] = {
    "catalog": {"name": "B2B catalog", "description": "For business customers", "catalogType": "ProductCatalog"},
    "category": {"name": "IoT", "parentId": "connectivity", "isRoot": False},
    "productSpecification": {"name": "IoT SIM", "brand": "Acme", "isBundle": False},
    "productOffering": {"name": "IoT connectivity", "partnerEligible": True, "isBundle": False, "isSellable": True},
    "productOfferingPrice": {"name": "IoT per month", "priceType": "recurring",
                             "recurringChargePeriodType": "month", "price": {"unit": "EUR", "value": 1.25}},
}
# A merge patch per kind and what the resource must show afterwards.
PATCHES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "catalog": ({"description": "Only for fleets", "category": [{"id": "infotainment"}]},
                {"description": "Only for fleets", "category": [{
                    "id": "infotainment", "href": f"{BASE_PATH}/category/infotainment", "@referredType": "Category"}]}),
    "category": ({"parentId": "infotainment", "name": "IoT data"},
                 {"name": "IoT data", "parentId": "infotainment", "isRoot": False}),
    "productSpecification": ({"brand": "Acme IoT", "productNumber": "IOT-1"},
                             {"brand": "Acme IoT", "productNumber": "IOT-1"}),
    "productOffering": ({"partnerEligible": False, "lifecycleStatus": "Retired"},
                        {"partnerEligible": False, "lifecycleStatus": "Retired", "name": "IoT connectivity"}),
    # A nested merge: price.unit is kept, price.value replaced.
    "productOfferingPrice": ({"price": {"value": 1.5}}, {"price": {"unit": "EUR", "value": 1.5}}),
}


def url(kind: str, id: str | None = None) -> str:
    return f"{BASE_PATH}/{kind}" + (f"/{id}" if id is not None else "")


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


def create(client: Any, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(url(kind), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def merge_patch(client: Any, kind: str, id: str, patch: Any) -> httpx.Response:
    return client.patch(url(kind, id), content=json.dumps(patch), headers=MERGE_PATCH)


def assert_error(response: httpx.Response, status: int, code: str | None = None, *fragments: str) -> dict[str, Any]:
    """A TMF error body {code, reason, message, status} with the given status."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    body = response.json()
    assert {"code", "reason", "message", "status"} <= set(body), body
    assert body["status"] == str(status)
    assert body["reason"] == HTTPStatus(status).phrase
    assert body["message"]
    if code is not None:
        assert body["code"] == code, body
    for fragment in fragments:
        assert fragment in body["message"], f"'{fragment}' not in message: {body['message']}"
    return body


def stored_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a rejected request wrote nothing."""
    with engine.connect() as connection:
        return {table.name: sorted(tuple(map(str, row)) for row in connection.execute(select(table)))
                for table in metadata.sorted_tables}


# --------------------------------------------------------------------------------- the contract check


def test_the_contract_check_refuses_an_attribute_the_definition_does_not_document() -> None:
    with pytest.raises(ContractViolation, match=r"\$: Additional properties are not allowed \('colour'"):
        assert_conforms({"id": "x", "name": "X", "colour": "red"}, "ProductOffering")


def test_the_contract_check_is_strict_inside_references_and_options_too() -> None:
    offering = {"id": "x", "category": [{"id": "c", "colour": "red"}],
                "bundledProductOffering": [{"id": "b", "bundledProductOfferingOption": {"numberRelOfferMax": 2}}]}
    with pytest.raises(ContractViolation) as failure:
        assert_conforms(offering, "ProductOffering")
    message = str(failure.value)
    assert "$.category[0]: Additional properties are not allowed ('colour'" in message
    assert "$.bundledProductOffering[0].bundledProductOfferingOption: Additional properties" in message
    assert "2 problems" in message


def test_the_contract_check_allows_the_documented_extensions_only_where_they_are_documented() -> None:
    assert_conforms({"id": "o", "partnerEligible": True}, "ProductOffering")
    assert_conforms({"id": "s", "productSpecCharacteristic": [
        {"name": "volume", "defaultValue": 5, "unitOfMeasure": "GB"}]}, "ProductSpecification")
    with pytest.raises(ContractViolation, match="'partnerEligible' was unexpected"):
        assert_conforms({"id": "p", "partnerEligible": True}, "ProductOfferingPrice")
    with pytest.raises(ContractViolation, match="'defaultValue' was unexpected"):
        assert_conforms({"id": "s", "defaultValue": 5}, "ProductSpecification")
    with pytest.raises(ContractViolation, match="True is not of type 'string'"):
        assert_conforms({"id": "s", "productSpecCharacteristic": [{"unitOfMeasure": True}]}, "ProductSpecification")


@pytest.mark.parametrize("body, definition, problem", [
    ({"id": "o", "lastUpdate": "yesterday"}, "ProductOffering", r"\$.lastUpdate: 'yesterday' is not a 'date-time'"),
    ({"id": "o", "version": 1}, "ProductOffering", r"\$.version: 1 is not of type 'string'"),
    ({"id": "p", "price": {"value": "9.99"}}, "ProductOfferingPrice", r"\$.price.value: '9.99' is not of type"),
    ({"code": "notFound", "message": "gone"}, "Error", r"\$: 'reason' is a required property"),
    ({"id": "c", "relatedParty": [{"id": "csp", "role": "owner"}]}, "Catalog",
     r"\$.relatedParty\[0\]: '@referredType' is a required property"),
], ids=["format", "type", "nested-type", "required", "required-in-sub-definition"])
def test_the_contract_check_enforces_types_formats_and_required_attributes(
        body: dict[str, Any], definition: str, problem: str) -> None:
    with pytest.raises(ContractViolation, match=problem):
        assert_conforms(body, definition)


@pytest.mark.parametrize("method, path, status, expected", [
    ("GET", f"{BASE_PATH}/productOffering", 200, Contract("ProductOffering", many=True)),
    ("GET", f"{BASE_PATH}/category/c1", 200, Contract("Category")),
    ("POST", f"{BASE_PATH}/catalog", 201, Contract("Catalog")),
    ("PATCH", f"{BASE_PATH}/productSpecification/s1", 200, Contract("ProductSpecification")),
    ("DELETE", f"{BASE_PATH}/productOfferingPrice/p1", 204, EMPTY),
    ("PUT", f"{BASE_PATH}/productOffering/o1", 405, Contract("Error")),
    ("GET", "/no/such/path", 404, Contract("Error")),
    ("GET", "/openapi.json", 200, OPENAPI),
])
def test_each_response_is_held_to_the_contract_of_its_method_path_and_status(
        method: str, path: str, status: int, expected: Contract) -> None:
    assert contract_for(method, path, status) == expected


@pytest.mark.parametrize("method, path, status", [
    ("POST", f"{BASE_PATH}/productOffering", 200),
    ("DELETE", f"{BASE_PATH}/productOffering/o1", 200),
    ("GET", f"{BASE_PATH}/resourceSpecification", 200),
    ("GET", "/docs", 200),
])
def test_a_response_no_contract_foresees_fails_the_check(method: str, path: str, status: int) -> None:
    with pytest.raises(ContractViolation, match="no TMF620 contract"):
        contract_for(method, path, status)


def test_a_204_with_a_body_or_a_non_json_error_fails_the_check() -> None:
    deleted = httpx.Response(204, content=b"{}", request=httpx.Request("DELETE", f"http://t{BASE_PATH}/category/c"))
    with pytest.raises(ContractViolation, match="must have an empty body"):
        check_response(deleted)
    error = httpx.Response(404, text="Not Found", request=httpx.Request("GET", f"http://t{BASE_PATH}/category/c"))
    with pytest.raises(ContractViolation, match="must be application/json"):
        check_response(error)


def test_the_client_checks_every_response_against_its_contract(client: Any, examples: Catalog) -> None:
    client.get(url("productOfferingPrice"))
    client.get(url("category", "nothing"))
    client.delete(url("productOffering", "classic-phone"))
    assert client.contract_checks == [
        ("GET", url("productOfferingPrice"), 200, Contract("ProductOfferingPrice", many=True)),
        ("GET", url("category", "nothing"), 404, Contract("Error")),
        ("DELETE", url("productOffering", "classic-phone"), 204, EMPTY),
    ]


def test_the_client_fails_a_test_whose_response_breaks_the_contract(client: Any) -> None:
    async def off_contract() -> JSONResponse:
        return JSONResponse({"id": "probe", "name": "Probe", "colour": "red"})

    client.app.router.routes.insert(0, APIRoute(url("productOffering", "probe"), off_contract, methods=["GET"]))
    with pytest.raises(ContractViolation,
                       match=r"(?s)GET .*/productOffering/probe → 200 does not conform.*'colour' was unexpected"):
        client.get(url("productOffering", "probe"))


# --------------------------------------------------------------------------------- list and retrieve


@pytest.mark.parametrize("kind", KINDS)
def test_listing_serves_every_loaded_resource_of_the_kind_in_id_order(
        client: Any, examples: Catalog, kind: str) -> None:
    response = client.get(url(kind))
    expected = sorted(examples.ids(kind))
    assert ids(response) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))
    assert response.headers["X-Result-Count"] == str(len(expected))
    assert "Link" not in response.headers
    for item in response.json():
        assert item["href"] == url(kind, item["id"])
        assert item["@type"] == RESOURCES[kind]
        assert item["version"] == "1"
        assert item["name"] == examples.get(kind, item["id"]).name


@pytest.mark.parametrize("kind", KINDS)
def test_retrieving_a_loaded_resource_by_id_returns_what_the_list_shows(
        client: Any, examples: Catalog, kind: str) -> None:
    listed = {item["id"]: item for item in client.get(url(kind)).json()}
    for id in sorted(examples.ids(kind)):
        response = client.get(url(kind, id))
        assert response.status_code == 200
        assert response.json() == listed[id]


def test_a_catalogs_related_parties_carry_the_referred_type_tmf620_requires(client: Any, examples: Catalog) -> None:
    parties = client.get(url("catalog", "central-catalog")).json()["relatedParty"]
    assert [(p["id"], p["role"]) for p in parties] == [
        ("car-maker", "owner"), ("csp", "contributor"), ("content-provider", "contributor")]
    assert all(isinstance(p["@referredType"], str) and p["@referredType"] for p in parties)
    sent = {"id": "partners", "name": "Partners", "relatedParty": [
        {"id": "acme", "name": "Acme", "role": "reseller", "@referredType": "Organization"}]}
    created = create(client, "catalog", sent)
    assert created["relatedParty"] == sent["relatedParty"]


def test_the_loaded_examples_are_served_in_tmf620_shape(client: Any, examples: Catalog) -> None:
    offering = client.get(url("productOffering", "music-5gb")).json()
    assert offering["isBundle"] is True
    assert offering["validFor"] == {"startDateTime": "2026-03-01T00:00:00Z"}
    assert offering["bundledProductOffering"] == [
        {"id": child, "href": url("productOffering", child),
         "bundledProductOfferingOption": {"numberRelOfferLowerLimit": 1, "numberRelOfferUpperLimit": 1}}
        for child in ("data-5gb", "music-access")]
    assert [c["id"] for c in offering["channel"]] == ["csp-shop", "car-maker-portal", "content-provider-app"]
    spec = client.get(url("productSpecification", "split-billing")).json()
    assert spec["productSpecCharacteristic"] == [{
        "name": "maxPayers", "valueType": "integer", "configurable": True, "minCardinality": 0, "maxCardinality": 1,
        "productSpecCharacteristicValue": [{"valueType": "integer", "valueFrom": 2, "valueTo": 5,
                                            "rangeInterval": "closed"}],
        "defaultValue": 2}]
    price = client.get(url("productOfferingPrice", "infotainment-out-of-bundle")).json()
    assert (price["priceType"], price["unitOfMeasure"]) == ("usage", {"amount": 1, "units": "GB"})


def test_every_reference_href_leads_to_the_resource_it_names(client: Any, examples: Catalog) -> None:
    offering = client.get(url("productOffering", "mobile-telephony-plan")).json()
    references = [offering["productSpecification"], *offering["category"], *offering["productOfferingPrice"],
                  *offering["productOfferingRelationship"]]
    assert len(references) == 7
    for reference in references:
        target = client.get(reference["href"])
        assert target.status_code == 200, reference
        assert target.json()["id"] == reference["id"]
        assert target.json()["@type"] == reference["@referredType"]


# --------------------------------------------------------------------------------- create, patch, delete


@pytest.mark.parametrize("kind", KINDS)
def test_creating_a_resource_answers_201_with_a_location_that_retrieves_it(
        client: Any, examples: Catalog, kind: str) -> None:
    body = CREATE_BODIES[kind]
    response = client.post(url(kind), json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == created["href"] == url(kind, body["id"])
    assert (created["id"], created["@type"], created["version"]) == (body["id"], RESOURCES[kind], "1")
    assert created["lifecycleStatus"] == "Active"
    assert CREATED_SHOWS[kind].items() <= created.items()
    assert client.get(response.headers["Location"]).json() == created
    assert body["id"] in ids(client.get(url(kind), params={"fields": "id"}))


def test_creating_without_an_id_gets_one_assigned(client: Any) -> None:
    first = create(client, "category", {"name": "Unnamed"})
    second = create(client, "category", {"name": "Unnamed"})
    assert first["id"] and second["id"] and first["id"] != second["id"]
    assert client.get(first["href"]).json()["name"] == "Unnamed"


def test_a_created_resource_keeps_references_and_characteristics_as_sent(client: Any, examples: Catalog) -> None:
    offering = create(client, "productOffering", CREATE_BODIES["productOffering"])
    assert offering["productSpecification"] == {"id": "car-connectivity", "href": url("productSpecification",
                                                "car-connectivity"), "@referredType": "ProductSpecification"}
    assert [p["id"] for p in offering["productOfferingPrice"]] == ["car-connectivity-monthly"]
    spec = create(client, "productSpecification", CREATE_BODIES["productSpecification"])
    assert spec["productSpecCharacteristic"][0]["productSpecCharacteristicValue"] == [
        {"valueType": "string", "value": "iot.example", "isDefault": True},
        {"valueType": "string", "value": "m2m.example", "isDefault": False}]


@pytest.mark.parametrize("kind", KINDS)
def test_patching_a_resource_applies_the_merge_patch_and_increments_the_version(
        client: Any, examples: Catalog, kind: str) -> None:
    created = create(client, kind, CREATE_BODIES[kind])
    patch, shows = PATCHES[kind]
    response = merge_patch(client, kind, created["id"], patch)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["version"] == "2"
    assert patched["lastUpdate"] >= created["lastUpdate"]
    assert shows.items() <= patched.items(), patched
    untouched = {k for k in created if k not in patch and k not in {"version", "lastUpdate"}}
    assert {k: patched[k] for k in untouched} == {k: created[k] for k in untouched}
    assert client.get(created["href"]).json() == patched
    again = merge_patch(client, kind, created["id"], {"description": "Third edit"})
    assert again.json()["version"] == "3"


@pytest.mark.parametrize("kind, attribute", [("catalog", "description"), ("productSpecification", "brand"),
                                             ("productOfferingPrice", "recurringChargePeriodType")])
def test_a_merge_patch_member_set_to_null_removes_that_attribute(
        client: Any, examples: Catalog, kind: str, attribute: str) -> None:
    created = create(client, kind, CREATE_BODIES[kind])
    assert attribute in created
    patch: dict[str, Any] = {attribute: None}
    if kind == "productOfferingPrice":  # a price without a period is no longer recurring
        patch["priceType"] = "oneTime"
    response = merge_patch(client, kind, created["id"], patch)
    assert response.status_code == 200, response.text
    assert attribute not in response.json()
    assert response.json()["version"] == "2"
    assert attribute not in client.get(created["href"]).json()


def test_a_merge_patch_of_parent_id_alone_moves_a_category(client: Any, examples: Catalog) -> None:
    moved = merge_patch(client, "category", "converged", {"parentId": "devices"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["parentId"], moved.json()["isRoot"]) == ("devices", False)
    rooted = merge_patch(client, "category", "converged", {"parentId": None})
    assert rooted.status_code == 200, rooted.text
    assert "parentId" not in rooted.json() and rooted.json()["isRoot"] is True


@pytest.mark.parametrize("kind", KINDS)
def test_a_patch_that_changes_nothing_keeps_the_version_and_last_update(
        client: Any, examples: Catalog, kind: str) -> None:
    created = create(client, kind, CREATE_BODIES[kind])
    echo = {"name": created["name"], "version": "42", "lastUpdate": "2000-01-01T00:00:00Z", "@type": RESOURCES[kind],
            "href": created["href"], "id": created["id"]}
    for patch in ({}, echo):
        response = merge_patch(client, kind, created["id"], patch)
        assert response.status_code == 200, response.text
        assert response.json() == created
    assert client.get(created["href"]).json() == created


def test_a_patch_may_also_be_sent_as_plain_json(client: Any, examples: Catalog) -> None:
    response = client.patch(url("productOffering", "data-5gb"), json={"name": "5 GB for partners"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["version"]) == ("5 GB for partners", "2")


@pytest.mark.parametrize("kind", KINDS)
def test_deleting_a_resource_answers_204_and_then_404(client: Any, examples: Catalog, kind: str) -> None:
    created = create(client, kind, CREATE_BODIES[kind])
    response = client.delete(created["href"])
    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get(created["href"]), 404, "notFound", created["id"])
    assert_error(client.delete(created["href"]), 404, "notFound")
    assert_error(merge_patch(client, kind, created["id"], {"name": "Back"}), 404, "notFound")


def test_deleting_a_loaded_offering_removes_it_from_lists_and_filters(client: Any, examples: Catalog) -> None:
    assert client.delete(url("productOffering", "classic-phone")).status_code == 204
    assert "classic-phone" not in ids(client.get(url("productOffering")))
    assert ids(client.get(url("productOffering"), params={"lifecycleStatus": "Retired"})) == []


# --------------------------------------------------------------------------------- fields=


def test_fields_keeps_only_the_requested_attributes_plus_id_href_and_type(client: Any, examples: Catalog) -> None:
    listed = client.get(url("productOffering"), params={"fields": "name,partnerEligible"}).json()
    assert len(listed) == len(examples.offerings)
    for item in listed:
        assert set(item) == {"id", "href", "@type", "name", "partnerEligible"}
    one = client.get(url("productOfferingPrice", "sim-fee"), params={"fields": "price"}).json()
    assert one == {"id": "sim-fee", "href": url("productOfferingPrice", "sim-fee"), "@type": "ProductOfferingPrice",
                   "price": {"unit": "EUR", "value": 10.0}}
    bare = client.get(url("category", "converged"), params={"fields": "id"}).json()
    assert set(bare) == {"id", "href", "@type"}


@pytest.mark.parametrize("path", [url("productOffering"), url("productOffering", "data-5gb")])
def test_fields_naming_an_unknown_attribute_is_refused_with_a_suggestion(
        client: Any, path: str) -> None:
    assert_error(client.get(path, params={"fields": "name,lifecycleStaus"}), 400, "invalidInput",
                 "'lifecycleStaus' is not an attribute of ProductOffering", "did you mean 'lifecycleStatus'")


# --------------------------------------------------------------------------------- attribute filters


@pytest.mark.parametrize("kind, query, expected", [
    ("productOffering", {"lifecycleStatus": "Retired"}, ["classic-phone"]),
    ("productOffering", {"category.id": "connectivity"}, ["car-connectivity-b2b", "split-billing-option"]),
    ("productOffering", {"isBundle": "true"}, ["mobile-with-tablet", "music-5gb"]),
    ("productOffering", {"partnerEligible": "true"}, ["data-5gb"]),
    ("productOffering", {"category.id": "connectivity,devices"},
     ["car-connectivity-b2b", "classic-phone", "ipad-mini-deluxe", "ipad-mini-std", "smartphone",
      "split-billing-option"]),
    ("productOffering", {"category.id": "devices", "lifecycleStatus": "Active"},
     ["ipad-mini-deluxe", "ipad-mini-std", "smartphone"]),
    ("productOffering", {"productSpecification.id": "handset"}, ["classic-phone", "smartphone"]),
    ("productOffering", {"category.id": "nowhere"}, []),
    ("productOfferingPrice", {"priceType": "oneTime,usage", "price.unit": "EUR"},
     ["car-connectivity-activation", "classic-phone-price", "infotainment-out-of-bundle", "ipad-mini-deluxe-price",
      "ipad-mini-std-price", "sim-fee", "smartphone-price"]),
    ("productOfferingPrice", {"price.value": "5,2.5"},  # numbers match however they are written
     ["car-connectivity-activation", "car-connectivity-monthly", "extra-minutes-monthly"]),
    ("productSpecification", {"resourceSpecification.id": "embedded-sim"}, ["car-connectivity", "infotainment-data"]),
    ("productSpecification", {"productSpecCharacteristic.name": "volume"}, ["data-download"]),
    ("category", {"isRoot": "false"}, ["partner-building-blocks"]),
    ("catalog", {"category.id": "converged", "fields": "name"}, ["central-catalog"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_attribute_filters_select_the_matching_resources(
        client: Any, examples: Catalog, kind: str, query: dict[str, str], expected: list[str]) -> None:
    response = client.get(url(kind), params=query)
    assert ids(response) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


def test_active_offerings_are_all_but_the_retired_one(client: Any, examples: Catalog) -> None:
    active = sorted(o.id for o in examples.offerings.values() if o.lifecycle_status == "Active")
    assert len(active) == len(examples.offerings) - 1
    assert ids(client.get(url("productOffering"), params={"lifecycleStatus": "Active"})) == active
    both = client.get(url("productOffering"), params={"lifecycleStatus": "Active,Retired"})
    assert ids(both) == sorted(examples.offerings)
    repeated = client.get(f"{url('productOffering')}?lifecycleStatus=Retired&lifecycleStatus=Active")
    assert ids(repeated) == sorted(examples.offerings)


@pytest.mark.parametrize("parameter, suggestion", [
    ("lifecycleStatu", "lifecycleStatus"), ("categry.id", "category.id"), ("partnerEligable", "partnerEligible"),
])
def test_filtering_on_an_unknown_attribute_is_refused_with_did_you_mean(
        client: Any, parameter: str, suggestion: str) -> None:
    assert_error(client.get(url("productOffering"), params={parameter: "x"}), 400, "invalidInput",
                 f"cannot filter on '{parameter}'", f"did you mean '{suggestion}'")


@pytest.mark.parametrize("query, fragment", [
    ("price.value=cheap", "'price.value' is a number; 'cheap' is not"),
    ("isBundle=yes", "'isBundle' is true or false; 'yes' is neither"),
])
def test_a_filter_value_of_the_wrong_type_is_refused(client: Any, query: str, fragment: str) -> None:
    kind = "productOfferingPrice" if query.startswith("price") else "productOffering"
    assert_error(client.get(f"{url(kind)}?{query}"), 400, "invalidInput", fragment)


def test_filters_follow_changes_made_through_the_api(client: Any, examples: Catalog) -> None:
    assert merge_patch(client, "productOffering", "smartphone", {"lifecycleStatus": "Retired"}).status_code == 200
    assert ids(client.get(url("productOffering"), params={"lifecycleStatus": "Retired"})) == [
        "classic-phone", "smartphone"]
    assert "smartphone" not in ids(client.get(url("productOffering"), params={"lifecycleStatus": "Active"}))
    create(client, "productOffering", CREATE_BODIES["productOffering"])
    assert ids(client.get(url("productOffering"), params={"partnerEligible": "true"})) == ["data-5gb", "iot-connect"]


# --------------------------------------------------------------------------------- offset and limit


def next_link(response: httpx.Response) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    target, relation = link.split(";", 1)
    assert relation.strip() == 'rel="next"', link
    return target.strip().removeprefix("<").removesuffix(">")


def test_offset_and_limit_return_one_page_with_total_and_result_counts(client: Any, examples: Catalog) -> None:
    everything = sorted(examples.prices)
    response = client.get(url("productOfferingPrice"), params={"offset": 3, "limit": 4})
    assert ids(response) == everything[3:7]
    assert response.headers["X-Total-Count"] == str(len(everything))
    assert response.headers["X-Result-Count"] == "4"
    link = next_link(response)
    assert link is not None and urlsplit(link).path == url("productOfferingPrice")
    assert parse_qs(urlsplit(link).query) == {"offset": ["7"], "limit": ["4"]}


def test_following_next_links_visits_every_match_once_and_the_last_page_has_none(
        client: Any, examples: Catalog) -> None:
    expected = sorted(o.id for o in examples.offerings.values() if o.lifecycle_status == "Active")
    response = client.get(url("productOffering"), params={"lifecycleStatus": "Active", "limit": 5, "fields": "name"})
    seen, counts = [], []
    while True:
        assert response.headers["X-Total-Count"] == str(len(expected))
        counts.append(int(response.headers["X-Result-Count"]))
        seen += ids(response)
        assert all(set(item) == {"id", "href", "@type", "name"} for item in response.json())
        link = next_link(response)
        if link is None:
            break
        response = client.get(link)
    assert seen == expected
    assert counts == [5, 5, 2]


def test_following_next_links_keeps_every_value_of_a_repeated_filter(client: Any, examples: Catalog) -> None:
    response = client.get(f"{url('productOffering')}?lifecycleStatus=Active&lifecycleStatus=Retired&limit=10")
    seen = ids(response)
    link = next_link(response)
    assert link is not None
    assert parse_qs(urlsplit(link).query)["lifecycleStatus"] == ["Active", "Retired"]
    seen += ids(client.get(link))
    assert seen == sorted(examples.offerings)


def test_an_offset_past_the_end_returns_an_empty_page_with_the_total(client: Any, examples: Catalog) -> None:
    response = client.get(url("productOffering"), params={"offset": 100})
    assert response.json() == []
    assert (response.headers["X-Total-Count"], response.headers["X-Result-Count"]) == (
        str(len(examples.offerings)), "0")
    assert "Link" not in response.headers


@pytest.mark.parametrize("query, fragment", [
    ("limit=0", "'limit' must be between 1 and 1000, got 0"),
    ("limit=1001", "'limit' must be between 1 and 1000, got 1001"),
    ("limit=ten", "'limit' must be an integer, got 'ten'"),
    ("offset=-1", "'offset' must be between 0 and 9223372036854775807, got -1"),
    ("offset=1.5", "'offset' must be an integer"),
])
def test_invalid_paging_is_refused(client: Any, query: str, fragment: str) -> None:
    assert_error(client.get(f"{url('productOffering')}?{query}"), 400, "invalidInput", fragment)


# --------------------------------------------------------------------------------- errors


REJECTED = [
    pytest.param("POST", url("productOffering"), b'{"name": "Broken",', {"content-type": "application/json"},
                 400, "invalidInput", "malformed JSON", id="400-malformed-json"),
    pytest.param("POST", url("productOffering"), b"", {"content-type": "application/json"},
                 400, "invalidInput", "the request body is empty", id="400-empty-body"),
    pytest.param("POST", url("productOffering"), b'[{"name": "In a list"}]', {"content-type": "application/json"},
                 400, "invalidInput", "must be a JSON object", id="400-not-an-object"),
    pytest.param("POST", url("productOfferingPrice"), {"name": 5, "priceType": "oneTime"}, None,
                 400, "invalidInput", "does not conform to ProductOfferingPrice_Create: name",
                 id="400-schema-invalid"),
    pytest.param("POST", url("productSpecification"), {"name": "Spec", "colour": "red"}, None,
                 400, "invalidInput", "unsupported field 'colour'", id="400-unknown-field"),
    pytest.param("POST", url("category"), {"name": "Sub", "parentID": "devices"}, None,
                 400, "invalidInput", "did you mean 'parentId'", id="400-misspelt-field"),
    pytest.param("POST", url("productOfferingPrice"), {"name": "Monthly", "priceType": "recurring",
                                                      "price": {"unit": "EUR", "value": 1}}, None,
                 400, "invalidInput", "a recurring price needs recurringPeriod", id="400-invalid-model"),
    pytest.param("POST", url("category"), {"name": "Full", "productOffering": [{"id": "smartphone"}]}, None,
                 400, "invalidInput", "'productOffering' of a category is derived", id="400-derived-on-create"),
    pytest.param("PATCH", url("productOffering", "data-5gb"), {"id": "data-6gb"}, MERGE_PATCH,
                 400, "invalidInput", "the id of a resource cannot be changed", id="400-patch-id"),
    pytest.param("PATCH", url("category", "converged"), {"subCategory": []}, MERGE_PATCH,
                 400, "invalidInput", "subCategory cannot be patched", id="400-patch-derived"),
    pytest.param("PATCH", url("productOffering", "data-5gb"), {"isSellable": "no"}, MERGE_PATCH,
                 400, "invalidInput", "ProductOffering_Update", id="400-patch-schema-invalid"),
    pytest.param("GET", url("productOffering", "no-such-offer"), None, None,
                 404, "notFound", "no ProductOffering with id 'no-such-offer'", id="404-retrieve"),
    pytest.param("PATCH", url("productOffering", "no-such-offer"), {"name": "X"}, MERGE_PATCH,
                 404, "notFound", "no-such-offer", id="404-patch"),
    pytest.param("DELETE", url("category", "no-such-category"), None, None,
                 404, "notFound", "no Category with id 'no-such-category'", id="404-delete"),
    pytest.param("GET", f"{BASE_PATH}/productOfferingTerm", None, None, 404, "notFound", None, id="404-route"),
    pytest.param("PUT", url("productOffering", "data-5gb"), {"name": "Put"}, None,
                 405, "methodNotAllowed", None, id="405-put-item"),
    pytest.param("PUT", url("productOffering"), {"name": "Put"}, None,
                 405, "methodNotAllowed", None, id="405-put-collection"),
    pytest.param("POST", url("productOffering"), {"id": "data-5gb", "name": "Again",
                                                  "productSpecification": {"id": "data-download"}}, None,
                 409, "conflict", "a ProductOffering with id 'data-5gb' already exists", id="409-duplicate-id"),
    pytest.param("DELETE", url("productSpecification", "data-download"), None, None,
                 409, "conflict", "still referred to by ProductOffering 'data-5gb'", id="409-delete-referenced-spec"),
    pytest.param("DELETE", url("category", "converged"), None, None,
                 409, "conflict", "Category 'partner-building-blocks'", id="409-delete-parent-category"),
    pytest.param("POST", url("productOffering"), b"name: Yaml", {"content-type": "application/yaml"},
                 415, "unsupportedMediaType", "not 'application/yaml'", id="415-create-yaml"),
    pytest.param("POST", url("productOffering"), b'{"name": "Patchy"}', MERGE_PATCH,
                 415, "unsupportedMediaType", "send the body as application/json", id="415-create-merge-patch"),
    pytest.param("PATCH", url("productOffering", "data-5gb"), b'{"name": "Text"}', {"content-type": "text/plain"},
                 415, "unsupportedMediaType", "application/merge-patch+json", id="415-patch-text"),
    pytest.param("POST", url("productOffering"), {"name": "Typo", "productSpecification": {"id": "data-downlaod"}},
                 None, 422, "unknownReference", "unknown productSpecification 'data-downlaod' (did you mean "
                 "'data-download'?)", id="422-create-unknown-spec"),
    pytest.param("PATCH", url("productOffering", "data-5gb"), {"productOfferingPrice": [{"id": "data-5gb-month"}]},
                 MERGE_PATCH, 422, "unknownReference", "unknown productOfferingPrice 'data-5gb-month'",
                 id="422-patch-unknown-price"),
    pytest.param("PATCH", url("productOffering", "data-5gb"), {"prodSpecCharValueUse": [
        {"name": "volume", "productSpecCharacteristicValue": [{"value": 500}]}]}, MERGE_PATCH,
                 422, "unknownReference", "outside the range 1..100", id="422-patch-value-outside-spec"),
    pytest.param("PATCH", url("category", "partner-building-blocks"), {"parentId": "partner-building-blocks"},
                 MERGE_PATCH, 422, None, "would contain itself", id="422-patch-category-cycle"),
]


@pytest.mark.parametrize("method, path, body, headers, status, code, fragment", REJECTED)
def test_a_rejected_request_answers_a_tmf_error_and_changes_nothing(
        client: Any, examples: Catalog, engine: Engine, method: str, path: str, body: Any,
        headers: dict[str, str] | None, status: int, code: str, fragment: str | None) -> None:
    kind = path.removeprefix(BASE_PATH + "/").split("/")[0]
    listed = url(kind if kind in RESOURCES else "productOffering")
    list_before = client.get(listed).json()
    rows_before = stored_rows(engine)
    content = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    if headers is None and content is not None:
        headers = {"content-type": "application/json"}
    response = client.request(method, path, content=content, headers=headers)
    assert_error(response, status, code, *([fragment] if fragment else []))
    assert client.get(listed).json() == list_before
    assert stored_rows(engine) == rows_before


def test_a_405_lists_every_method_the_resource_supports_in_allow(client: Any, examples: Catalog) -> None:
    item = client.put(url("productOffering", "data-5gb"), json={"name": "Put"})
    collection = client.put(url("productOffering"), json={"name": "Put"})
    assert {m.strip() for m in item.headers["Allow"].split(",")} == {"GET", "PATCH", "DELETE"}
    assert {m.strip() for m in collection.headers["Allow"].split(",")} == {"GET", "POST"}


def test_an_offering_that_would_bundle_itself_is_refused(client: Any, examples: Catalog) -> None:
    response = merge_patch(client, "productOffering", "data-5gb", {"bundledProductOffering": [{"id": "music-5gb"}]})
    assert_error(response, 422, None, "would contain itself")
    assert client.get(url("productOffering", "data-5gb")).json()["version"] == "1"


def test_an_unused_resource_can_be_deleted_once_its_referrers_are_gone(client: Any, examples: Catalog) -> None:
    assert_error(client.delete(url("productSpecification", "handset")), 409, "conflict", "classic-phone", "smartphone")
    for offering in ("classic-phone", "smartphone"):
        assert client.delete(url("productOffering", offering)).status_code == 204
    assert client.delete(url("productSpecification", "handset")).status_code == 204


# --------------------------------------------------------------------------------- category derived lists


def refs(kind: str, *ids: str) -> list[dict[str, str]]:
    return [{"id": id, "href": url(kind, id)} for id in ids]


def test_a_category_lists_its_offerings_and_sub_categories(client: Any, examples: Catalog) -> None:
    converged = client.get(url("category", "converged")).json()
    assert converged["isRoot"] is True and "parentId" not in converged
    assert converged["productOffering"] == refs("productOffering", "music-5gb", "music-access")
    assert converged["subCategory"] == refs("category", "partner-building-blocks")
    blocks = client.get(url("category", "partner-building-blocks")).json()
    assert (blocks["isRoot"], blocks["parentId"]) == (False, "converged")
    assert blocks["productOffering"] == refs("productOffering", "data-5gb")
    assert "subCategory" not in blocks
    for category in client.get(url("category")).json():
        expected = sorted(o.id for o in examples.offerings.values() if category["id"] in o.categories)
        assert [o["id"] for o in category.get("productOffering", [])] == expected


def test_derived_category_lists_follow_changes_to_offerings_and_categories(client: Any, examples: Catalog) -> None:
    create(client, "category", {"id": "tablets", "name": "Tablets", "parentId": "devices"})
    assert merge_patch(client, "productOffering", "ipad-mini-std", {"category": [{"id": "tablets"}]}).status_code == 200
    assert client.delete(url("productOffering", "classic-phone")).status_code == 204
    devices = client.get(url("category", "devices")).json()
    assert [o["id"] for o in devices["productOffering"]] == ["ipad-mini-deluxe", "smartphone"]
    assert devices["subCategory"] == refs("category", "tablets")
    tablets = client.get(url("category", "tablets")).json()
    assert tablets["productOffering"] == refs("productOffering", "ipad-mini-std")
    assert tablets["version"] == "1"  # derived lists do not make a new version


# --------------------------------------------------------------------------------- exact amounts


def test_amounts_keep_their_exact_decimal_digits_through_the_api(client: Any) -> None:
    for id, amount, currency in (("kwd", "12.345", "KWD"), ("tenth", "0.1", "EUR"), ("fifth", "0.2", "EUR"),
                                 ("cents", "19.90", "EUR"), ("big", "123456789012345.67", "EUR")):
        text = (f'{{"id": "{id}", "name": "{id}", "priceType": "oneTime", '
                f'"price": {{"unit": "{currency}", "value": {amount}}}}}')
        created = client.post(url("productOfferingPrice"), content=text, headers={"content-type": "application/json"})
        assert created.status_code == 201, created.text
        assert f'"value": {amount}}}' in created.text
        served = client.get(url("productOfferingPrice", id))
        assert served.json(parse_float=Decimal)["price"]["value"] == Decimal(amount)
        assert f'"value": {amount}}}' in served.text
    values = [client.get(url("productOfferingPrice", i)).json(parse_float=Decimal)["price"]["value"]
              for i in ("tenth", "fifth")]
    assert sum(values) == Decimal("0.3")


# --------------------------------------------------------------------------------- OpenAPI


def test_openapi_document_publishes_the_tmf_definitions_and_every_route(client: Any) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for definition in ROOT_DEFINITIONS:
        assert definition in schemas
    for definition in RESOURCES.values():
        assert f"{definition}_Create" in schemas and f"{definition}_Update" in schemas
    assert schemas["ProductOffering"]["properties"]["category"]["items"] == {"$ref": "#/components/schemas/CategoryRef"}
    assert {path for path in document["paths"] if path.startswith(BASE_PATH)} == {
        p for kind in KINDS for p in (url(kind), url(kind, "{id}"))} | {f"{BASE_PATH}/hub", f"{BASE_PATH}/hub/{{id}}", f"{BASE_PATH}/hub/{{id}}/redeliver"}
    for kind, definition in RESOURCES.items():
        assert set(document["paths"][url(kind)]) == {"get", "post"}
        assert set(document["paths"][url(kind, "{id}")]) == {"get", "patch", "delete"}
        listing = document["paths"][url(kind)]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert listing == {"type": "array", "items": {"$ref": f"#/components/schemas/{definition}"}}


def test_every_reference_in_the_openapi_document_resolves(client: Any) -> None:
    document = client.get("/openapi.json").json()
    text = json.dumps(document)
    assert "#/definitions/" not in text
    schemas = document["components"]["schemas"]

    def references(node: Any) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    found = set(references(document))
    assert len(found) > 50
    dangling = sorted(r for r in found if r.removeprefix("#/components/schemas/") not in schemas)
    assert dangling == []


def test_every_documented_operation_is_served_and_no_other_method_is(client: Any) -> None:
    document = client.get("/openapi.json").json()
    probed = 0
    for path, operations in document["paths"].items():
        if not path.startswith(BASE_PATH) or path.startswith(f"{BASE_PATH}/hub"):  # hubs: tests/api/test_notifications.py
            continue
        definition = RESOURCES[path.removeprefix(BASE_PATH + "/").split("/")[0]]
        concrete = path.replace("{id}", "no-such-id")
        for method in ("get", "post", "patch", "delete", "put"):
            response = client.request(method.upper(), concrete, content=b"{}",
                                      headers={"content-type": "application/json"})
            if method not in operations:
                assert_error(response, 405, "methodNotAllowed")
                continue
            probed += 1
            if concrete.endswith("/no-such-id"):  # served by the route: the resource is what is missing
                assert_error(response, 404, "notFound", f"no {definition} with id 'no-such-id'")
            elif method == "get":
                assert response.status_code == 200 and response.json() == []
            else:  # POST {}: served, refused because TMF620 requires a name
                assert_error(response, 400, "invalidInput", f"{definition}_Create", "'name' is a required property")
    assert probed == 5 * len(KINDS)


def test_a_bundle_entry_not_charged_goes_through_the_api_and_back(client: Any) -> None:
    create(client, "productSpecification", {"id": "spec-x", "name": "X"})
    create(client, "productOffering", {"id": "child-x", "name": "Child", "isSellable": False,
                                       "productSpecification": {"id": "spec-x"}})
    bundle = create(client, "productOffering", {"id": "bundle-x", "name": "Bundle", "bundledProductOffering": [
        {"id": "child-x", "charged": False,
         "bundledProductOfferingOption": {"numberRelOfferLowerLimit": 1, "numberRelOfferUpperLimit": 1}}]})
    assert bundle["bundledProductOffering"][0]["charged"] is False
    assert client.get(url("productOffering", "bundle-x")).json()["bundledProductOffering"] == \
        bundle["bundledProductOffering"]
    # charged again (the default): the extension is not shown
    patched = merge_patch(client, "productOffering", "bundle-x", {"bundledProductOffering": [{"id": "child-x"}]})
    assert patched.status_code == 200, patched.text
    assert "charged" not in patched.json()["bundledProductOffering"][0]
    wrong = merge_patch(client, "productOffering", "bundle-x", {"bundledProductOffering": [
        {"id": "child-x", "charged": "no"}]})
    assert_error(wrong, 400, "invalidInput", "bundledProductOffering[0].charged")
