"""The OpenAPI document (/openapi.json) describes every operation completely, and truly.

* Every POST and PATCH declares its request body, in the media types the route reads, with a
  schema whose references all resolve within the document.
* Every list declares ``offset`` and ``limit`` (with the bounds ``api.query`` enforces),
  ``fields`` exactly where the route reads it, and the parameters it reads itself; its
  description says how it filters. The two reports declare what they read.
* The body schemas of our own (non-TMF) bodies (``bssrules/api/bodies.py``) say what the
  services accept: a body valid by the schema is accepted by the API (2xx), a body the
  schema refuses is refused by the API, and ``additionalProperties: false`` stands exactly
  where the service refuses an unknown attribute.
* Every operation declares what it answers on success: a 2xx response with a JSON schema
  that says something (not ``{}``) and resolves — or a 204 without a body. (The answers of
  the configuration check and query are validated against theirs in
  ``tests/api/test_configuration_api.py``; those of partners, hubs, deliveries, aggregated
  usage, accumulators, bill and settlement runs and SLAs in ``tests/api/test_answer_schemas.py``.)

The API runs on a SQLite database holding the connected-car example (as the fuzz tests do).
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import Engine

from bssrules.services import catalog as services
from bssrules.api import answers, bodies, create_app, openapi_parts
from bssrules.api.query import MAX_LIMIT, MAX_OFFSET
from bssrules.api.tmfspec import TMF620
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork
from bssrules.store.db import make_engine
from bssrules.store.resources import StoredResource

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "connected_car"
DOCUMENT = create_app(auth=False).openapi()
OPERATIONS = [(method.upper(), path, operation) for path, methods in DOCUMENT["paths"].items()
              for method, operation in methods.items()]
# POST …/partner/{id}/key takes no body: it issues a key for the partner in the path.
NO_BODY = {("POST", "/tmf-api/partnerManagement/v4/partner/{id}/key")}
BODY_OPERATIONS = [(m, p, op) for m, p, op in OPERATIONS if m in ("POST", "PATCH") and (m, p) not in NO_BODY]
MEDIA_TYPES = {"POST": {"application/json"}, "PATCH": {"application/merge-patch+json", "application/json"}}
# GET on a collection: a path that names no resource, whose operation lists.
COLLECTION_GETS = [(p, op) for m, p, op in OPERATIONS if m == "GET" and not p.endswith("}")
                   and op["operationId"].startswith("list")]
# The two GETs on no resource that answer one document, not a list.
REPORTS = {"/tmf-api/usageManagement/v4/aggregatedUsage", "/tmf-api/slaManagement/v4/slaReport"}

HUB = "/tmf-api/productOrderingManagement/v4/hub"
CONFIG = "/tmf-api/productConfigurationManagement/v5"
BILLING = "/tmf-api/customerBillManagement/v4"
SLA = "/tmf-api/slaManagement/v4"
PARTIES = [{"id": "csp", "role": "provider", "@referredType": "Organization"},
           {"id": "car-maker", "role": "consumer", "@referredType": "Organization"}]


# ----------------------------------------------------------------------------- helpers

def _resolve(ref: str) -> Any:
    assert ref.startswith("#/"), f"a reference outside the document: {ref}"
    node: Any = DOCUMENT
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved reference {ref}"
        node = node[part]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _reachable(schema: Any) -> list[str]:
    """Every reference reachable from ``schema``, each resolved (fails on the first that is not)."""
    seen: list[str] = []
    todo = list(_refs(schema))
    while todo:
        ref = todo.pop()
        if ref not in seen:
            seen.append(ref)
            todo += _refs(_resolve(ref))
    return seen


def _validator(name: str) -> Draft202012Validator:
    """A validator of one component schema, resolving references within the document (the
    document is OpenAPI 3.1: its schemas are JSON Schema 2020-12)."""
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]},
                                format_checker=FormatChecker())


def _valid(name: str, body: Any) -> bool:
    return _validator(name).is_valid(body)


def _parameters(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}


def _content_type(method: str) -> str:
    return "application/merge-patch+json" if method == "PATCH" else "application/json"


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'document.db'}")
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(EXAMPLE), "cc")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def api(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine=engine, auth=False), raise_server_exceptions=False) as client:
        yield client


def _settlement_note(engine: Engine, note_id: str) -> str:
    """A settlement note as a settlement run leaves it: sent, from the payee to the payer."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    document = {"billNo": note_id, "category": "settlement", "runType": "onCycle", "state": "sent",
                "amountDue": {"unit": "EUR", "value": 10}, "remainingAmount": {"unit": "EUR", "value": 10},
                "relatedParty": [{"id": "car-maker", "role": "payer", "@referredType": "Organization"},
                                 {"id": "csp", "role": "payee", "@referredType": "Organization"}],
                "sharedWith": ["car-maker", "csp"]}
    with UnitOfWork(engine) as uow:
        uow.resources.insert(StoredResource("customerBill", note_id, 1, now, now, document, state="sent"))
        uow.commit()
    return f"{BILLING}/customerBill/{note_id}"


# ----------------------------------------------------------------------------- request bodies

def test_the_document_has_the_operations_this_file_speaks_of() -> None:
    assert len(BODY_OPERATIONS) > 40 and len(COLLECTION_GETS) >= 20
    assert ("POST", "/tmf-api/partnerManagement/v4/partner/{id}/key") in {(m, p) for m, p, _ in OPERATIONS}


@pytest.mark.parametrize(("method", "path", "operation"), BODY_OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _ in BODY_OPERATIONS])
def test_every_post_and_patch_declares_a_body_whose_schema_resolves(method: str, path: str,
                                                                     operation: dict[str, Any]) -> None:
    body = operation.get("requestBody")
    assert body, f"{method} {path} reads a JSON body but declares none"
    assert body.get("required") is True
    assert set(body["content"]) == MEDIA_TYPES[method], body["content"].keys()
    for media in body["content"].values():
        schema = media["schema"]
        if "$ref" in schema:
            assert isinstance(_resolve(schema["$ref"]), dict)
        _reachable(schema)


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in BODY_OPERATIONS],
                         ids=[f"{m} {p}" for m, p, _ in BODY_OPERATIONS])
def test_the_route_reads_the_body_in_every_media_type_declared(api: TestClient, method: str, path: str) -> None:
    """The media types declared are those the route reads: none is refused with a 415."""
    operation = DOCUMENT["paths"][path][method.lower()]
    url = re.sub(r"\{[^}]+\}", "no-such-id", path)
    for media_type in operation["requestBody"]["content"]:
        response = api.request(method, url, content=b'{"name": ', headers={"content-type": media_type})
        assert response.status_code == 400, f"{media_type}: {response.status_code} {response.text[:200]}"


def test_every_reference_of_the_document_resolves() -> None:
    refs = set(_refs(DOCUMENT))
    assert len(refs) > 100
    for ref in sorted(refs):
        _resolve(ref)


def test_every_body_schema_is_a_component_used_by_an_operation_and_hides_no_tmf_definition() -> None:
    used = {ref for _, _, op in BODY_OPERATIONS for media in op["requestBody"]["content"].values()
            for ref in _reachable(media["schema"])}
    for name, schema in bodies.SCHEMAS.items():
        assert DOCUMENT["components"]["schemas"][name] == schema
        assert bodies.ref(name) in used, f"{name} describes no operation's body"
        assert name not in TMF620.definitions, f"{name} would replace the TMF620 definition"


OWN_BODIES = {
    ("POST", "/tmf-api/productCatalogManagement/v4/hub"): "HubRegistration",
    ("POST", "/tmf-api/troubleTicket/v4/hub"): "HubRegistration",
    ("POST", "/tmf-api/productOrderingManagement/v4/hub"): "HubRegistration",
    ("POST", "/tmf-api/slaManagement/v4/hub"): "HubRegistration",
    ("POST", "/tmf-api/usageManagement/v4/hub"): "HubRegistration",
    ("POST", "/tmf-api/productInventory/v4/hub"): "HubRegistration",
    ("POST", "/tmf-api/customerBillManagement/v4/hub"): "HubRegistration",
    ("POST", f"{CONFIG}/checkProductConfiguration"): "ProductConfigurationRequest",
    ("POST", f"{CONFIG}/queryProductConfiguration"): "ProductConfigurationRequest",
    ("POST", f"{BILLING}/billRun"): "BillRun_Create",
    ("POST", f"{BILLING}/settlementRun"): "SettlementRun_Create",
    ("PATCH", f"{BILLING}/customerBill/{{id}}"): "SettlementNote_Update",
    ("POST", f"{SLA}/sla"): "Sla_Create",
    ("POST", f"{SLA}/slaMeasurement"): "SlaMeasurement_Create",
}


@pytest.mark.parametrize(("method", "path"), list(OWN_BODIES), ids=[f"{m} {p}" for m, p in OWN_BODIES])
def test_our_own_bodies_are_described_by_their_schema(method: str, path: str) -> None:
    content = DOCUMENT["paths"][path][method.lower()]["requestBody"]["content"]
    assert {m["schema"]["$ref"] for m in content.values()} == {bodies.ref(OWN_BODIES[method, path])}


# ----------------------------------------------------------------------------- answers

# Operations that still answer with an empty schema: each would be an expected failure,
# strictly (once its route declares a schema, the test passes, which fails until the operation
# is taken off this list). None is left: every operation declares its answer.
NO_ANSWER_SCHEMA_YET: dict[tuple[str, str], str] = {}  # (method, path) -> the module of its route


def _answer_cases() -> list[Any]:
    cases = []
    for method, path, operation in OPERATIONS:
        module = NO_ANSWER_SCHEMA_YET.get((method, path))
        marks = [pytest.mark.xfail(strict=True, reason=f"{module} declares no answer schema yet")] if module else []
        cases.append(pytest.param(method, path, operation, marks=marks, id=f"{method} {path}"))
    return cases


@pytest.mark.parametrize(("method", "path", "operation"), _answer_cases())
def test_every_operation_declares_the_schema_of_its_answer(method: str, path: str, operation: dict[str, Any]) -> None:
    successes = {status: response for status, response in operation["responses"].items() if status.startswith("2")}
    assert successes, f"{method} {path} declares no 2xx answer"
    for status, response in successes.items():
        content = response.get("content") or {}
        if status == "204":
            assert not content, f"{method} {path}: a 204 has no body"
            continue
        schema = content.get("application/json", {}).get("schema")
        assert schema, f"{method} {path} answers {status} with the empty schema {schema!r}: declare what it returns"
        _reachable(schema)


def test_the_list_of_operations_without_an_answer_schema_names_only_operations_of_the_document() -> None:
    assert set(NO_ANSWER_SCHEMA_YET) <= {(m, p) for m, p, _ in OPERATIONS}


def test_every_answer_schema_is_a_component_some_operation_answers_with() -> None:
    answered = {ref for _, _, op in OPERATIONS for status, response in op["responses"].items()
                for media in (response.get("content") or {}).values() for ref in _reachable(media["schema"])}
    for name, schema in bodies.ANSWERS.items():
        assert DOCUMENT["components"]["schemas"][name] == schema
        assert bodies.ref(name) in answered, f"{name} describes no operation's answer"
        assert name not in TMF620.definitions and name not in bodies.SCHEMAS


def test_every_answer_of_our_own_is_a_component_some_operation_answers_with() -> None:
    answered = {ref for _, _, op in OPERATIONS for status, response in op["responses"].items()
                if status.startswith("2") for media in (response.get("content") or {}).values()
                for ref in _reachable(media["schema"])}
    for name, schema in answers.ANSWERS.items():
        assert DOCUMENT["components"]["schemas"][name] == schema
        assert answers.ref(name) in answered, f"{name} describes no operation's answer"
        assert name not in TMF620.definitions and name not in bodies.SCHEMAS and name not in bodies.ANSWERS
        Draft202012Validator.check_schema(schema)


def test_the_configuration_check_and_query_answer_with_their_schemas() -> None:
    for operation, name in (("checkProductConfiguration", "CheckProductConfiguration"),
                            ("queryProductConfiguration", "QueryProductConfiguration")):
        response = DOCUMENT["paths"][f"{CONFIG}/{operation}"]["post"]["responses"]["200"]
        assert response["content"]["application/json"]["schema"] == {"$ref": bodies.ref(name)}


# ------------------------------------------------------- the body schemas say what is accepted

# (schema, method, path, a body valid by the schema): the API accepts it.
VALID_BODIES = [
    ("HubRegistration", "POST", HUB, {"callback": "http://example.com/events"}),
    ("HubRegistration", "POST", "/tmf-api/slaManagement/v4/hub",
     {"callback": "https://example.com/sla", "query": "eventType=SlaViolationCreateEvent&event.slaViolation.severity"
                                                       "=critical,major", "@type": "EventSubscriptionInput"}),
    ("ProductConfigurationRequest", "POST", f"{CONFIG}/checkProductConfiguration",
     {"cartItem": [{"id": "1", "quantity": 1, "action": "add", "productOffering": {"id": "car-connectivity-b2b"},
                    "cartItem": [{"productOffering": {"id": "split-billing-option"}}]}],
      "relatedParty": [{"id": "car-maker", "role": "customer", "@referredType": "Organization"}],
      "channel": {"id": "csp-b2b-portal"}, "requestedDate": "2026-09-01"}),
    ("ProductConfigurationRequest", "POST", f"{CONFIG}/queryProductConfiguration",
     {"cartItem": [{"productOffering": {"id": "data-5gb"},
                    "product": {"productCharacteristic": [{"name": "volume", "value": 5}]}}],
      "requestedDate": "2026-09-01T10:00:00Z"}),
    ("BillRun_Create", "POST", f"{BILLING}/billRun", {"period": "2026-06"}),
    ("BillRun_Create", "POST", f"{BILLING}/billRun", {"period": "2026-07", "billingAccount": [{"id": "ba-doc"}]}),
    ("SettlementRun_Create", "POST", f"{BILLING}/settlementRun", {"period": "2026-06"}),
    ("Sla_Create", "POST", f"{SLA}/sla",
     {"id": "doc-sla", "name": "Documented SLA", "description": "x", "ruleSet": {"id": "call-center-sla"},
      "relatedParty": PARTIES, "validFor": {"startDateTime": "2026-01-01T00:00:00Z"},
      "@type": "ServiceLevelAgreement"}),
    ("SlaMeasurement_Create", "POST", f"{SLA}/slaMeasurement",
     {"sla": {"id": "cc-sla"}, "metric": "availability", "value": 99.7, "window": "month",
      "observedAt": "2026-06-15T10:00:00Z"}),
    ("SlaMeasurement_Create", "POST", f"{SLA}/slaMeasurement",
     {"sla": {"id": "cc-sla"}, "metric": "ticketResolutionHours", "value": "24.01", "observedAt": "2026-06-02"}),
]


@pytest.fixture(scope="module")
def world(api: TestClient) -> TestClient:
    """What the valid bodies name: a billing account (and its owner) and an SLA."""
    owner = api.post("/tmf-api/party/v4/organization", json={"id": "car-maker", "tradingName": "Car maker"})
    assert owner.status_code == 201, owner.text
    account = api.post("/tmf-api/accountManagement/v4/billingAccount", json={
        "id": "ba-doc", "name": "Doc",
        "relatedParty": [{"id": "car-maker", "name": "Car maker", "role": "owner", "@referredType": "Organization"}]})
    assert account.status_code == 201, account.text
    sla = api.post(f"{SLA}/sla", json={"id": "cc-sla", "name": "cc", "ruleSet": {"id": "call-center-sla"},
                                       "relatedParty": PARTIES})
    assert sla.status_code == 201, sla.text
    return api


@pytest.mark.parametrize(("name", "method", "path", "body"), VALID_BODIES,
                         ids=[f"{n}-{i}" for i, (n, *_) in enumerate(VALID_BODIES)])
def test_a_body_valid_by_its_schema_is_accepted(world: TestClient, name: str, method: str, path: str,
                                                body: dict[str, Any]) -> None:
    errors = [e.message for e in _validator(name).iter_errors(body)]
    assert not errors, errors
    response = world.request(method, path, json=body, headers={"content-type": _content_type(method)})
    assert 200 <= response.status_code < 300, response.text[:500]


def test_a_settlement_note_state_change_valid_by_its_schema_is_accepted(world: TestClient, engine: Engine) -> None:
    url = _settlement_note(engine, "doc-note-1")
    for state in ("onHold", "validated", "settled"):
        body = {"state": state}
        assert _valid("SettlementNote_Update", body)
        for media_type in sorted(MEDIA_TYPES["PATCH"]):
            response = world.patch(url, json=body, headers={"content-type": media_type})
            assert response.status_code == 200 and response.json()["state"] == state, response.text[:300]


# (schema, method, path, a body the schema refuses): the API refuses it too.
REFUSED_BODIES = [
    ("HubRegistration", "POST", HUB, {}),
    ("HubRegistration", "POST", HUB, {"callback": "ftp://example.com/x"}),
    ("HubRegistration", "POST", HUB, {"callback": "http://example.com/x", "query": {"eventType": "x"}}),
    ("ProductConfigurationRequest", "POST", f"{CONFIG}/checkProductConfiguration", {"requestedDate": "2026-09-01"}),
    ("ProductConfigurationRequest", "POST", f"{CONFIG}/checkProductConfiguration", {"cartItem": [{"id": "1"}]}),
    ("ProductConfigurationRequest", "POST", f"{CONFIG}/checkProductConfiguration",
     {"cartItem": [{"productOffering": {"id": "data-5gb"}, "quantity": "many"}]}),
    ("BillRun_Create", "POST", f"{BILLING}/billRun", {}),
    ("BillRun_Create", "POST", f"{BILLING}/billRun", {"period": "2026-13"}),
    ("BillRun_Create", "POST", f"{BILLING}/billRun", {"period": "2026-06", "billingAccount": "ba-doc"}),
    ("BillRun_Create", "POST", f"{BILLING}/billRun", {"period": "2026-06", "@type": "BillRun"}),
    ("SettlementRun_Create", "POST", f"{BILLING}/settlementRun", {"period": "June"}),
    ("Sla_Create", "POST", f"{SLA}/sla",
     {"name": "x", "ruleSet": {"id": "call-center-sla"}, "relatedParty": PARTIES[:1]}),
    ("Sla_Create", "POST", f"{SLA}/sla", {"name": "", "ruleSet": {"id": "call-center-sla"}, "relatedParty": PARTIES}),
    ("Sla_Create", "POST", f"{SLA}/sla", {"name": "x", "relatedParty": PARTIES}),
    ("SlaMeasurement_Create", "POST", f"{SLA}/slaMeasurement", {"sla": {"id": "cc-sla"}, "value": 99}),
    ("SlaMeasurement_Create", "POST", f"{SLA}/slaMeasurement",
     {"sla": {"id": "cc-sla"}, "metric": "availability", "value": "high"}),
    ("SlaMeasurement_Create", "POST", f"{SLA}/slaMeasurement",
     {"sla": {"id": "cc-sla"}, "metric": "availability", "value": 99, "observedAt": 20260601}),
]


@pytest.mark.parametrize(("name", "method", "path", "body"), REFUSED_BODIES,
                         ids=[f"{n}-{i}" for i, (n, *_) in enumerate(REFUSED_BODIES)])
def test_a_body_its_schema_refuses_is_refused(world: TestClient, name: str, method: str, path: str,
                                              body: dict[str, Any]) -> None:
    assert not _valid(name, body)
    response = world.request(method, path, json=body, headers={"content-type": _content_type(method)})
    assert response.status_code == 400, response.text[:300]


def test_a_settlement_note_moves_only_to_the_states_its_schema_names(world: TestClient, engine: Engine) -> None:
    url = _settlement_note(engine, "doc-note-2")
    for state in ("new", "partiallyPaid"):
        assert not _valid("SettlementNote_Update", {"state": state})
        assert world.patch(url, json={"state": state}).status_code == 409
    assert not _valid("SettlementNote_Update", {})
    assert world.patch(url, json={}).status_code == 409
    assert world.get(url).json()["state"] == "sent"


# (schema, method, path, a body valid by the schema, with an unknown attribute added)
UNKNOWN_ATTRIBUTE = [
    ("HubRegistration", "POST", HUB, {"callback": "http://example.com/events"}),
    ("BillRun_Create", "POST", f"{BILLING}/billRun", {"period": "2026-06"}),
    ("SettlementRun_Create", "POST", f"{BILLING}/settlementRun", {"period": "2026-06"}),
    ("SettlementNote_Update", "PATCH", f"{BILLING}/customerBill/no-such-note", {"state": "validated"}),
    ("Sla_Create", "POST", f"{SLA}/sla", {"name": "x", "ruleSet": {"id": "call-center-sla"}, "relatedParty": PARTIES}),
]


@pytest.mark.parametrize(("name", "method", "path", "body"), UNKNOWN_ATTRIBUTE, ids=[n for n, *_ in UNKNOWN_ATTRIBUTE])
def test_an_unknown_attribute_is_refused_by_the_schema_and_by_the_api(world: TestClient, name: str, method: str,
                                                                      path: str, body: dict[str, Any]) -> None:
    assert bodies.SCHEMAS[name]["additionalProperties"] is False
    assert _valid(name, body)
    assert not _valid(name, {**body, "zzUnknownAttribute": 1})
    response = world.request(method, path, json={**body, "zzUnknownAttribute": 1},
                             headers={"content-type": _content_type(method)})
    assert response.status_code == 400 and "zzUnknownAttribute" in response.text, response.text[:300]


@pytest.mark.parametrize(("name", "method", "path", "body"), [
    ("ProductConfigurationRequest", "POST", f"{CONFIG}/checkProductConfiguration",
     {"cartItem": [{"productOffering": {"id": "data-5gb"}}]}),
    ("SlaMeasurement_Create", "POST", f"{SLA}/slaMeasurement",
     {"sla": {"id": "cc-sla"}, "metric": "connectivityTickets", "value": 10}),
], ids=["ProductConfigurationRequest", "SlaMeasurement_Create"])
def test_where_the_service_keeps_unknown_attributes_out_of_its_way_the_schema_allows_them(
        world: TestClient, name: str, method: str, path: str, body: dict[str, Any]) -> None:
    assert "additionalProperties" not in bodies.SCHEMAS[name]
    assert _valid(name, {**body, "zzUnknownAttribute": 1})
    response = world.request(method, path, json={**body, "zzUnknownAttribute": 1})
    assert 200 <= response.status_code < 300, response.text[:300]


def test_every_schema_that_refuses_unknown_attributes_is_checked_here() -> None:
    closed = {name for name, schema in bodies.SCHEMAS.items() if schema.get("additionalProperties") is False}
    assert closed == {name for name, *_ in UNKNOWN_ATTRIBUTE}
    assert set(bodies.SCHEMAS) - {"ProductConfigurationItem"} == {name for name, *_ in VALID_BODIES} | {
        "SettlementNote_Update"}


# ----------------------------------------------------------------------------- lists

def test_the_lists_are_the_ones_expected() -> None:
    names = {path.rsplit("/", 1)[1] for path, _ in COLLECTION_GETS}
    assert names >= {"individual", "organization", "customer", "billingAccount", "product", "shoppingCart",
                     "productOfferingQualification", "productOrder", "usage", "accumulator", "bucket",
                     "customerBill", "appliedCustomerBillingRate", "troubleTicket", "sla", "slaViolation",
                     "delivery", "productOffering", "catalog"}
    others = {p for m, p, op in OPERATIONS if m == "GET" and not p.endswith("}")} - {p for p, _ in COLLECTION_GETS}
    assert others == REPORTS


@pytest.mark.parametrize(("path", "operation"), COLLECTION_GETS, ids=[p for p, _ in COLLECTION_GETS])
def test_every_list_declares_offset_and_limit_with_their_bounds(path: str, operation: dict[str, Any]) -> None:
    parameters = _parameters(operation)
    assert {"offset", "limit"} <= set(parameters), f"{path} declares {sorted(parameters)}"
    offset, limit = parameters["offset"]["schema"], parameters["limit"]["schema"]
    assert (offset["type"], offset["minimum"], offset["maximum"]) == ("integer", 0, MAX_OFFSET)
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, MAX_LIMIT)
    assert parameters["offset"] == openapi_parts.PAGING[0] and parameters["limit"] == openapi_parts.PAGING[1]


def _call(api: TestClient, path: str, operation: dict[str, Any], **params: str) -> Any:
    """GET the list with its required parameters given (a value that names nothing)."""
    required = {name: "nothing" for name, p in _parameters(operation).items() if p.get("required")}
    return api.get(path, params={**required, **params})


@pytest.mark.parametrize(("path", "operation"), COLLECTION_GETS, ids=[p for p, _ in COLLECTION_GETS])
def test_every_list_reads_the_parameters_it_declares(api: TestClient, path: str, operation: dict[str, Any]) -> None:
    parameters = _parameters(operation)
    page = _call(api, path, operation, offset="0", limit="1")
    assert page.status_code == 200 and isinstance(page.json(), list), page.text[:300]
    for name, value in (("offset", str(MAX_OFFSET + 1)), ("offset", "-1"), ("limit", "0"),
                        ("limit", str(MAX_LIMIT + 1))):
        response = _call(api, path, operation, **{name: value})
        assert response.status_code == 400 and name in response.json()["message"], f"{name}={value}"
    # fields is declared exactly where the route reads it
    unknown_field = _call(api, path, operation, fields="zzNoSuchAttribute")
    assert (unknown_field.status_code == 400) == ("fields" in parameters), unknown_field.text[:300]
    for name, parameter in parameters.items():
        if name in ("fields", "offset", "limit") or parameter.get("required"):
            continue
        value = parameter["schema"].get("enum", ["x"])[0]
        response = _call(api, path, operation, **{name: value})
        assert response.status_code == 200, f"{name}={value}: {response.text[:300]}"


@pytest.mark.parametrize(("path", "operation"), COLLECTION_GETS, ids=[p for p, _ in COLLECTION_GETS])
def test_every_list_says_how_it_filters(api: TestClient, path: str, operation: dict[str, Any]) -> None:
    description = operation.get("description", "")
    assert "offset" in description and "limit" in description
    response = _call(api, path, operation, zzNoSuchAttribute="x")
    if "Filter by any attribute" in description:  # api.query.parse_list_query: every attribute filters
        definition = operation["operationId"].removeprefix("list")
        assert description == openapi_parts.filtering(definition)
        assert response.status_code == 400 and "zzNoSuchAttribute" in response.json()["message"]
        # a real attribute filters, with alternatives
        assert _call(api, path, operation, **{"id": "a,b"}).status_code == 200
    elif "Filter by" in description:  # the few attributes declared
        assert response.status_code == 400 and "zzNoSuchAttribute" in response.json()["message"]
    else:  # nothing filters: other parameters are ignored, and it says so
        assert "ignored" in description and response.status_code == 200


def test_the_required_parameters_of_a_list_are_required(api: TestClient) -> None:
    accumulator = _call(api, "/tmf-api/usageManagement/v4/accumulator", {"parameters": []})
    assert accumulator.status_code == 400 and "product" in accumulator.json()["message"]


def test_the_accumulators_of_a_product_come_a_page_at_a_time(api: TestClient, engine: Engine) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    from sqlalchemy import text

    with engine.begin() as connection:  # running totals live in their hot table (migration 0007)
        for month in ("2026-04", "2026-05", "2026-06"):
            connection.execute(text(
                "INSERT INTO accumulator (subscription, accumulator, period, volume, volume_scale, amount, amount_scale, "
                "reached, created, last_update) VALUES ('line-doc', 'doc-acc', :month, 1, 0, 1, 0, '[]', :now, :now)"),
                {"month": month, "now": now})
    url = "/tmf-api/usageManagement/v4/accumulator"
    everything = api.get(url, params={"product": "line-doc"})
    assert [a["period"] for a in everything.json()] == ["2026-04", "2026-05", "2026-06"]
    page = api.get(url, params={"product": "line-doc", "offset": "1", "limit": "1"})
    assert [a["period"] for a in page.json()] == ["2026-05"]
    assert (page.headers["x-total-count"], page.headers["x-result-count"]) == ("3", "1")
    assert "offset=2" in page.headers["link"] and "product=line-doc" in page.headers["link"]


# ----------------------------------------------------------------------------- reports

def test_the_aggregated_usage_declares_exactly_the_parameters_it_reads(api: TestClient) -> None:
    path = "/tmf-api/usageManagement/v4/aggregatedUsage"
    operation = DOCUMENT["paths"][path]["get"]
    declared = set(_parameters(operation))
    assert declared == {"billingAccount", "product", "start", "end", "groupBy"}
    for name in ("offset", "limit", "fields", "zzNoSuchParameter"):
        refused = api.get(path, params={"product": "nothing", name: "1"})
        assert refused.status_code == 400 and "unknown query parameter" in refused.json()["message"], name
    for name in declared:  # each is read: none is refused as unknown
        response = api.get(path, params={"product": "nothing", name: "product" if name == "groupBy" else "2026-06-01"})
        assert "unknown query parameter" not in response.text, name


def test_the_sla_report_declares_the_month_and_the_sla_it_needs(api: TestClient) -> None:
    path = f"{SLA}/slaReport"
    parameters = _parameters(DOCUMENT["paths"][path]["get"])
    assert {n: p["required"] for n, p in parameters.items()} == {"sla": True, "period": True}
    assert api.get(path, params={"sla": "nothing"}).status_code == 400
    assert api.get(path, params={"sla": "nothing", "period": "2026-06"}).status_code == 404


# ----------------------------------------------------------------------------- one place

def test_the_shared_parameters_are_defined_once() -> None:
    """fields, offset and limit are written in openapi_parts only; every router uses those."""
    sources = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "bssrules" / "api").glob("*.py")}
    for name in ("fields", "offset", "limit"):
        writers = sorted(file for file, text in sources.items() if re.search(rf'"name":\s*"{name}"', text))
        assert writers == ["openapi_parts.py"], (name, writers)
    fields = [op for _, _, op in OPERATIONS for p in op.get("parameters", []) if p["name"] == "fields"]
    assert len(fields) > 30
    assert all(openapi_parts.FIELDS in op["parameters"] for op in fields)


def test_the_document_is_valid_openapi() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(DOCUMENT)
