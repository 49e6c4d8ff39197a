"""Robustness: the API fuzzed against its own OpenAPI document, and hostile request bodies.

* **Fuzzing** (schemathesis): every operation of the app's OpenAPI document is called with
  generated requests, valid and invalid (positive and negative generation), on a SQLite
  database holding the connected-car example; no answer may be a 5xx, and every error
  answer must be a TMF ``Error`` body. Operations without a request body also go through
  schemathesis' coverage phase (boundary and wrong-type values of every parameter). A
  smaller pass runs with authentication ON, as the administrator.
* **Hostile bodies**, on every operation that reads a JSON body (read from the OpenAPI
  document, so a new route is covered the day it is added): malformed JSON is a 400, a
  wrong content type a 415, an oversized body a clean error; unknown attributes are refused
  with a 400 naming them.

The run is deterministic (``derandomize=True``, no example database) and bounded
(``max_examples``), so CI is stable and the file stays well under a minute.

Every 500 the fuzzer found is fixed and kept as a minimal regression test ("Regressions"
below); the fuzz tests skip no input.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import Engine

from bssrules.services import catalog as services
from bssrules.api import create_app
from bssrules.api.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimit
from bssrules.services.partners import make_key
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork
from bssrules.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "connected_car"
PC = "/tmf-api/productCatalogManagement/v4"
TMF_ERROR_ATTRIBUTES = {"code", "reason", "message", "status", "@type"}

# The document the app serves at /openapi.json (built without a database: ``openapi()`` is
# pure). Schemathesis needs it at collection time to make one test per operation; the
# fixtures check that the running apps serve exactly this document (``from_asgi``).
OPENAPI = create_app(auth=False).openapi()

# Phases. Only schemathesis' fuzzing phase is bounded by max_examples:
# * the coverage phase enumerates boundary and wrong-type values of every parameter and body
#   attribute, unbounded: thousands of requests for a TMF body, 10-20 minutes for the whole
#   API. It runs only where it is small: on the operations without a request body (path and
#   query parameters, at most ~50 requests each) — the bodies get the fuzzing phase
#   (positive and negative) and the explicit tests below;
# * the examples phase (the examples of the TMF documents) builds its requests when pytest
#   collects the tests, adding ~6 s to the collection of every run of the suite: off.
_FUZZING_ONLY = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False},
                                                           "examples": {"enabled": False}}})
_COVERAGE_ONLY = schemathesis.Config.from_dict({"phases": {"fuzzing": {"enabled": False},
                                                           "examples": {"enabled": False}}})

fuzz_schema = schemathesis.openapi.from_dict(OPENAPI, config=_FUZZING_ONLY)
admin_schema = schemathesis.openapi.from_dict(OPENAPI, config=_FUZZING_ONLY)
coverage_schema = schemathesis.openapi.from_dict(OPENAPI, config=_COVERAGE_ONLY).exclude(
    func=lambda ctx: "requestBody" in ctx.operation.definition.raw)

# Each operation's generation is seeded from the test (derandomize): the same requests on
# every run. deadline=None: the first example of a large TMF body takes seconds to generate.
FUZZ_SETTINGS = settings(max_examples=3, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
ADMIN_SETTINGS = settings(FUZZ_SETTINGS, max_examples=1)


ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
QUALIFICATION = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"


# ------------------------------------------------------------------------------ helpers

def assert_tmf_error(response: httpx.Response | Any, status: int, code: str | None = None,
                     context: str = "") -> dict[str, Any]:
    """The response is a TMF Error body {code, reason, message, status, @type: Error} with ``status``."""
    __tracebackhide__ = True
    text = f"{context + ': ' if context else ''}{response.text[:300]}"
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {text}"
    content_type = response.headers.get("content-type") or ""
    if isinstance(content_type, list):  # a schemathesis Response: every value of the header
        content_type = content_type[0] if content_type else ""
    assert content_type.startswith("application/json"), f"an error body is JSON, got {content_type!r}: {text}"
    body = response.json()
    assert isinstance(body, dict) and TMF_ERROR_ATTRIBUTES <= body.keys(), f"not a TMF Error body: {text}"
    assert body["@type"] == "Error", text
    assert body["status"] == str(status), text
    assert isinstance(body["code"], str) and body["code"], text
    assert isinstance(body["reason"], str) and body["reason"], text
    assert isinstance(body["message"], str) and body["message"], text
    if code is not None:
        assert body["code"] == code, f"expected code {code!r}: {text}"
    return body


def tmf_error_body(ctx: Any, response: Any, case: Any) -> None:
    """Schemathesis check: every 4xx/5xx answer is a TMF Error body with its own status."""
    if response.status_code >= 400:
        assert_tmf_error(response, response.status_code)


FUZZ_CHECKS = [not_a_server_error, tmf_error_body]


def _loaded_engine(folder: Path) -> Engine:
    engine = make_engine(f"sqlite:///{folder / 'fuzz.db'}")
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(EXAMPLE), "cc")
    return engine


def _served(app: Any) -> Any:
    """The app as a server runs it, checked to serve the document fuzzed.

    Starlette answers an unexpected exception with the 500 (here a TMF Error body) and then
    re-raises it for the server to log; a server carries on. So does this wrapper, so that a
    500 reaches schemathesis' checks as a response (reported with the request to reproduce
    it) instead of aborting the test with a bare traceback; the traceback is in the captured
    log (``bssrules.api``: "unexpected error")."""
    async def server(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except Exception:
            if scope["type"] != "http":
                raise

    served = schemathesis.openapi.from_asgi("/openapi.json", server)
    assert served.raw_schema == OPENAPI, "the app serves another OpenAPI document than the one fuzzed"
    return server


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def open_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app with authentication OFF (every caller is the operator), on the example data."""
    engine = _loaded_engine(tmp_path_factory.mktemp("fuzz-open"))
    yield _served(create_app(engine=engine, auth=False))
    engine.dispose()


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    """The app with authentication ON, and the administrator's Authorization header."""
    engine = _loaded_engine(tmp_path_factory.mktemp("fuzz-auth"))
    key = make_key()
    yield _served(create_app(engine=engine, auth=True, admin_key=key)), {"Authorization": f"Bearer {key}"}
    engine.dispose()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client (auth OFF) on a database of its own, for the explicit tests; a 500 is
    answered, not raised (raise_server_exceptions=False), as a server would."""
    engine = _loaded_engine(tmp_path_factory.mktemp("fuzz-explicit"))
    with TestClient(create_app(engine=engine, auth=False), raise_server_exceptions=False) as test_client:
        yield test_client
    engine.dispose()


# ----------------------------------------------------------------------------- fuzzing

def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give each fuzz test item an id of its own. Schemathesis 4 names the items
    ``test…[METHOD /path]``, but pytest 9 builds node ids from the function name and the
    parameters only, so all the items of a test would share one node id (ambiguous reports,
    ``--lf``, JUnit). Parametrizing their app fixture (one value: the database tier) gives
    ``test…[METHOD /path][sqlite]``."""
    if metafunc.function.__name__ in ("test_fuzzed_requests_get_no_server_error",
                                      "test_boundary_parameters_get_no_server_error",
                                      "test_fuzzed_requests_as_administrator_get_no_server_error"):
        for fixture in ("open_app", "admin_app"):
            if fixture in metafunc.fixturenames:
                metafunc.parametrize(fixture, ["sqlite"], indirect=True, scope="module")


@fuzz_schema.parametrize()
@FUZZ_SETTINGS
def test_fuzzed_requests_get_no_server_error(case: Any, open_app: Any) -> None:
    response = case.call(app=open_app)
    case.validate_response(response, checks=FUZZ_CHECKS)


@coverage_schema.parametrize()
@FUZZ_SETTINGS
def test_boundary_parameters_get_no_server_error(case: Any, open_app: Any) -> None:
    response = case.call(app=open_app)
    case.validate_response(response, checks=FUZZ_CHECKS)


@admin_schema.parametrize()
@ADMIN_SETTINGS
def test_fuzzed_requests_as_administrator_get_no_server_error(case: Any, admin_app: tuple[Any, dict[str, str]]) -> None:
    app, headers = admin_app
    response = case.call(app=app, headers=headers)
    assert response.status_code not in (401, 403), f"the administrator's key was refused: {response.text[:300]}"
    case.validate_response(response, checks=FUZZ_CHECKS, headers=headers)


def test_every_operation_is_fuzzed() -> None:
    """Nothing is left out silently: all operations are fuzzed (both passes), and exactly those
    without a body get the coverage phase."""
    operations = {(m.upper(), p) for p, ops in OPENAPI["paths"].items() for m in ops
                  if m in ("get", "post", "put", "patch", "delete")}
    fuzzed = {(op.method.upper(), op.path) for op in (r.ok() for r in fuzz_schema.get_all_operations())}
    as_admin = {(op.method.upper(), op.path) for op in (r.ok() for r in admin_schema.get_all_operations())}
    covered = {(op.method.upper(), op.path) for op in (r.ok() for r in coverage_schema.get_all_operations())}
    with_body = {(m.upper(), p) for p, ops in OPENAPI["paths"].items() for m, op in ops.items()
                 if isinstance(op, dict) and "requestBody" in op}
    assert len(operations) > 100
    assert fuzzed == operations
    assert as_admin == operations
    assert covered == operations - with_body


# ---------------------------------------------------------------- hostile request bodies

def _body_operations() -> list[tuple[str, str]]:
    """Every operation that reads a JSON body: each POST and PATCH of the document (many
    declare no requestBody but read one), except ``POST …/partner/{id}/key``, which takes no
    body (it issues a key for the partner in the path)."""
    no_body = {("POST", "/tmf-api/partnerManagement/v4/partner/{id}/key")}
    return sorted((m.upper(), p) for p, ops in OPENAPI["paths"].items() for m in ops
                  if m in ("post", "put", "patch") and (m.upper(), p) not in no_body)


BODY_OPERATIONS = _body_operations()
BODY_IDS = [f"{m} {p}" for m, p in BODY_OPERATIONS]


def _url(path: str) -> str:
    """A concrete URL: path parameters name nothing (the body is read before the lookup)."""
    return re.sub(r"\{[^}]+\}", "no-such-id", path)


def _json_type(method: str) -> str:
    return "application/merge-patch+json" if method == "PATCH" else "application/json"


MALFORMED = {
    "truncated": b'{"name": ',
    "trailing garbage": b'{"name": "x"} }',
    "single quotes": b"{'name': 'x'}",
    "bare word": b"name=x",
    "NaN": b'{"name": NaN}',
    "invalid UTF-8": b'{"name": "\xff\xfe"}',
    "BOM and nothing": b"\xef\xbb\xbf",
    "empty": b"",
    "whitespace": b" \n\t ",
    "null": b"null",
    "a number": b"42",
    "a string": b'"x"',
    "an empty array": b"[]",
}


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=BODY_IDS)
def test_malformed_json_is_a_400(api: TestClient, method: str, path: str) -> None:
    for name, body in MALFORMED.items():
        response = api.request(method, _url(path), content=body, headers={"content-type": _json_type(method)})
        assert_tmf_error(response, 400, "invalidInput", context=f"{name} body")


WRONG_TYPES = ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x",
               "application/jsonx", "text/json", None]


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=BODY_IDS)
def test_a_wrong_content_type_is_a_415(api: TestClient, method: str, path: str) -> None:
    for content_type in WRONG_TYPES:
        headers = {"content-type": content_type} if content_type else {}
        response = api.request(method, _url(path), content=b'{"name": "x"}', headers=headers)
        body = assert_tmf_error(response, 415, "unsupportedMediaType", context=f"content-type {content_type}")
        assert "application/json" in body["message"], body


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=BODY_IDS)
def test_json_with_parameters_is_json_not_a_415(api: TestClient, method: str, path: str) -> None:
    """The media type is compared without its parameters and case: a malformed body sent as
    such JSON is a 400 (read as JSON), not a 415."""
    for content_type in (f"{_json_type(method)}; charset=utf-8", _json_type(method).upper()):
        response = api.request(method, _url(path), content=b'{"name": ', headers={"content-type": content_type})
        assert_tmf_error(response, 400, "invalidInput", context=f"content-type {content_type}")


@pytest.mark.parametrize("path", [p for m, p in BODY_OPERATIONS if m == "POST"])
def test_a_merge_patch_is_refused_on_a_post(api: TestClient, path: str) -> None:
    response = api.post(_url(path), content=b'{"name": "x"}', headers={"content-type": "application/merge-patch+json"})
    assert_tmf_error(response, 415, "unsupportedMediaType")


# An oversized body: far beyond any resource of these APIs (the largest, a usage batch of
# 1000 records, is well under a megabyte).
OVERSIZED = 16 * 1024 * 1024
# Representative operations, one per way of reading a body: the TMF620 catalog, the generic
# TMF resources, usage (its own reader: an object or an array), an order, an admin operation
# (partner) and a merge patch.
OVERSIZED_OPERATIONS = [
    ("POST", f"{PC}/productOffering"), ("PATCH", f"{PC}/productOffering/car-connectivity-b2b"),
    ("POST", "/tmf-api/party/v4/individual"), ("POST", "/tmf-api/usageManagement/v4/usage"),
    ("POST", "/tmf-api/productOrderingManagement/v4/productOrder"), ("POST", "/tmf-api/partnerManagement/v4/partner"),
]


@pytest.mark.parametrize(("method", "path"), OVERSIZED_OPERATIONS, ids=[f"{m} {p}" for m, p in OVERSIZED_OPERATIONS])
def test_an_oversized_body_is_refused_with_413_whatever_it_holds(api: TestClient, method: str, path: str) -> None:
    """The size is checked before the content: malformed, misfiled or well-formed, a body over
    the limit is a 413 naming the limit."""
    padding = b"x" * OVERSIZED
    bodies = [("malformed", b'{"name": "' + padding, _json_type(method)),
              ("wrong type", b'{"name": "' + padding + b'"}', "text/plain"),
              ("well-formed", b'{"name": "' + padding + b'"}', _json_type(method))]
    for name, content, content_type in bodies:
        response = api.request(method, path, content=content, headers={"content-type": content_type})
        error = assert_tmf_error(response, 413, "payloadTooLarge", context=name)
        assert str(DEFAULT_MAX_BODY_BYTES) in error["message"], error


def test_an_oversized_body_sent_without_a_length_is_refused_with_413_and_nothing_is_stored(api: TestClient) -> None:
    """A chunked body (no Content-Length) is counted as it arrives."""
    chunk = b"x" * (1024 * 1024)

    def body() -> Iterator[bytes]:
        yield b'{"familyName": "Chunked", "givenName": "'
        for _ in range(DEFAULT_MAX_BODY_BYTES // len(chunk) + 1):
            yield chunk
        yield b'"}'

    response = api.post("/tmf-api/party/v4/individual", content=body(), headers={"content-type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_tmf_error(response, 413, "payloadTooLarge")
    listed = api.get("/tmf-api/party/v4/individual", params={"familyName": "Chunked"})
    assert listed.status_code == 200 and listed.json() == []


def test_a_body_of_exactly_the_limit_is_read_one_byte_more_is_not() -> None:
    """With or without a declared length, the limit is inclusive, and what passes it reaches
    the application whole."""
    received: list[bytes] = []

    async def application(scope: Any, receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        received.append(body)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    small = TestClient(BodySizeLimit(application, limit=10))  # no lifespan: a bare ASGI app

    def chunked(data: bytes) -> Iterator[bytes]:
        yield from (data[i:i + 3] for i in range(0, len(data), 3))

    for send_as in (bytes, chunked):
        received.clear()
        assert small.post("/", content=send_as(b"0123456789")).status_code == 204
        assert received == [b"0123456789"]
        assert_tmf_error(small.post("/", content=send_as(b"0123456789A")), 413, "payloadTooLarge")
        assert received == [b"0123456789"], "a refused body never reaches the application"


def _unknown_attribute_case(method: str, path: str, body: dict[str, Any]) -> Any:
    return pytest.param(method, path, body, id=f"{method} {path}")


# (method, path, a body that passes the schema check): the unknown attribute is added to it.
UNKNOWN_ATTRIBUTE_CASES = [
    _unknown_attribute_case("POST", f"{PC}/catalog", {"name": "x"}),
    _unknown_attribute_case("POST", f"{PC}/category", {"name": "x"}),
    _unknown_attribute_case("POST", f"{PC}/productSpecification", {"name": "x"}),
    _unknown_attribute_case("POST", f"{PC}/productOffering", {"name": "x"}),
    _unknown_attribute_case("POST", f"{PC}/productOfferingPrice", {"name": "x"}),
    _unknown_attribute_case("PATCH", f"{PC}/productOffering/car-connectivity-b2b", {"description": "x"}),
    _unknown_attribute_case("PATCH", f"{PC}/category/connectivity", {"description": "x"}),
    _unknown_attribute_case("POST", "/tmf-api/party/v4/individual", {"givenName": "a", "familyName": "b"}),
    _unknown_attribute_case("POST", "/tmf-api/party/v4/organization", {"tradingName": "a"}),
    _unknown_attribute_case("POST", "/tmf-api/shoppingCart/v4/shoppingCart", {}),
    _unknown_attribute_case("POST", "/tmf-api/prepayBalanceManagement/v4/bucket", {"usageType": "data"}),
    _unknown_attribute_case("POST", "/tmf-api/partnerManagement/v4/partner", {"id": "fuzz-partner", "name": "P"}),
    _unknown_attribute_case("POST", f"{PC}/hub", {"callback": "http://example.com/cb"}),
    _unknown_attribute_case("POST", "/tmf-api/customerBillManagement/v4/billRun", {}),
    _unknown_attribute_case("POST", "/tmf-api/slaManagement/v4/sla", {}),
    _unknown_attribute_case("POST", "/tmf-api/troubleTicket/v4/troubleTicket",
                            {"description": "a", "severity": "minor", "ticketType": "complaint"}),
    _unknown_attribute_case("POST", QUALIFICATION,
                            {"productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "data-5gb"}}]}),
    # Not here: POST usage. A usage is never refused, it is stored rated or rejected
    # (docs/usage-api.md), and an unknown attribute is kept with it.
]


@pytest.mark.parametrize(("method", "path", "body"), UNKNOWN_ATTRIBUTE_CASES)
def test_an_unknown_attribute_is_refused(api: TestClient, method: str, path: str, body: dict[str, Any]) -> None:
    response = api.request(method, path, json={**body, "zzUnknownAttribute": 1},
                           headers={"content-type": _json_type(method)})
    error = assert_tmf_error(response, 400, "invalidInput")
    assert "zzUnknownAttribute" in error["message"], error


# ------------------------------------------------------------------------- regressions
# Each is the minimal request of a 500 the fuzzer (or the probes written while writing this
# file) found, now fixed.

LISTS = [f"{PC}/productOffering", "/tmf-api/party/v4/individual", "/tmf-api/partnerManagement/v4/partner",
         "/tmf-api/slaManagement/v4/slaViolation", "/tmf-api/partnerManagement/v4/delivery"]


@pytest.mark.parametrize("path", LISTS)
def test_an_offset_beyond_64_bits_is_a_400_naming_the_bound(api: TestClient, path: str) -> None:
    error = assert_tmf_error(api.get(path, params={"offset": str(2**63)}), 400, "invalidInput")
    assert "offset" in error["message"] and str(2**63 - 1) in error["message"], error
    assert api.get(path, params={"offset": str(2**63 - 1)}).json() == []


@pytest.mark.parametrize("value", ["1e999999999", "-1E+999999999", "1e-999999999"])
def test_a_numeric_filter_beyond_the_decimal_context_is_a_number_like_any_other(api: TestClient, value: str) -> None:
    response = api.get(f"{PC}/productOfferingPrice", params={"price.value": value})
    assert response.status_code == 200 and response.json() == [], response.text[:300]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1.2.3", "1e", "0x10"])
def test_a_numeric_filter_that_is_not_a_finite_number_is_a_400(api: TestClient, value: str) -> None:
    response = api.get(f"{PC}/productOfferingPrice", params={"price.value": value})
    error = assert_tmf_error(response, 400, "invalidInput")
    assert "price.value" in error["message"], error


@pytest.mark.parametrize("depth", [33, 900, 100_000])
def test_json_nested_too_deeply_is_a_400(api: TestClient, depth: int) -> None:
    for method, path in ((("POST", f"{PC}/productOffering"), ("POST", "/tmf-api/usageManagement/v4/usage"),
                          ("PATCH", f"{PC}/productOffering/car-connectivity-b2b"))):
        content = b'{"description": ' + b"[" * depth + b"]" * depth + b"}"
        response = api.request(method, path, content=content, headers={"content-type": _json_type(method)})
        error = assert_tmf_error(response, 400, "invalidInput", context=f"{method} {path}")
        assert "nested deeper than 32 levels" in error["message"], error


def test_json_nested_32_deep_is_read(api: TestClient) -> None:
    nested: Any = "x"
    for _ in range(31):
        nested = [nested]
    response = api.post(f"{PC}/productOffering", json={"name": "deep", "description": nested})
    assert response.status_code == 400 and "description" in response.json()["message"], response.text[:300]


def test_two_orders_with_an_empty_external_id_get_no_server_error(api: TestClient) -> None:
    # an order that terminates a product of its customer (a delete item naming none is refused)
    assert api.post("/tmf-api/party/v4/individual", json={"id": "empty-ext", "givenName": "E", "familyName": "X"}
                    ).status_code == 201
    party = {"id": "empty-ext", "role": "customer", "@referredType": "Individual"}
    assert api.post("/tmf-api/productInventory/v4/product", json={"id": "empty-ext-line", "status": "active",
                                                                  "relatedParty": [party]}).status_code == 201
    body = {"externalId": "", "relatedParty": [party],
            "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": "empty-ext-line"}}]}
    first = api.post(ORDER, json=body)
    assert first.status_code == 201, first.text[:300]
    second = api.post(ORDER, json=body)
    assert second.status_code < 500, second.text[:300]
    if second.status_code >= 400:
        assert_tmf_error(second, second.status_code)


@pytest.mark.parametrize("offering", ["", "a b", "-x", "x" * 300])
def test_a_qualification_of_an_offering_id_that_is_no_catalog_id_answers_unknown_offering(
        api: TestClient, offering: str) -> None:
    response = api.post(QUALIFICATION, json={"productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": offering}}]})
    assert response.status_code == 201, response.text[:300]
    item = response.json()["productOfferingQualificationItem"][0]
    assert item["qualificationItemResult"] == "unqualified"
    assert [r["code"] for r in item["eligibilityUnavailabilityReason"]] == ["unknownOffering"]
