"""Requests a deeper fuzz run of the API found answered with a 500, each now a clean TMF
error (or, where the request is valid, a normal answer). On the connected-car example."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from bssrules.services import catalog as services
from bssrules.api import create_app
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork
from bssrules.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
SLA = "/tmf-api/slaManagement/v4"
CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
BILLING = "/tmf-api/customerBillManagement/v4"
PARTIES = [{"id": "csp", "role": "provider"}, {"id": "car-maker", "role": "consumer"}]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('regressions') / 'r.db'}")
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "connected_car"), "cc")
    with TestClient(create_app(engine=engine, auth=False), raise_server_exceptions=False) as client:
        created = client.post(f"{SLA}/sla", json={"id": "s1", "name": "S", "ruleSet": {"id": "call-center-sla"},
                                                   "relatedParty": PARTIES})
        assert created.status_code == 201, created.text
        yield client
    engine.dispose()


def _error(response: Any, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body["@type"] == "Error" and body["status"] == str(status), body
    assert fragment in body["message"], body


@pytest.mark.parametrize(("body", "fragment"), [
    ({"id": 5, "name": "x", "ruleSet": {"id": "call-center-sla"}, "relatedParty": PARTIES}, "id is a string"),
    ({"name": "x", "ruleSet": {"id": ["a"]}, "relatedParty": []}, "ruleSet.id"),
    ({"name": "x", "ruleSet": {"id": "call-center-sla"}, "relatedParty": 5}, "relatedParty is a list"),
    ({"name": "x", "ruleSet": {"id": "call-center-sla"},
      "relatedParty": [{"id": "a", "role": []}, {"id": "b", "role": "consumer"}]}, "relatedParty is a list"),
])
def test_an_sla_of_the_wrong_types_is_a_400(api: TestClient, body: dict[str, Any], fragment: str) -> None:
    _error(api.post(f"{SLA}/sla", json=body), 400, fragment)


def test_a_hub_callback_that_is_no_url_is_a_400(api: TestClient) -> None:
    _error(api.post("/tmf-api/productOrderingManagement/v4/hub", json={"callback": "http://[::1/x"}), 400,
           "callback must be an http(s) URL")


@pytest.mark.parametrize("value", [b"1e999999", b"-1e999999"])
def test_a_measurement_beyond_the_range_of_a_measurement_is_a_400(api: TestClient, value: bytes) -> None:
    response = api.post(f"{SLA}/slaMeasurement", content=b'{"sla": {"id": "s1"}, "metric": "availability", '
                                                         b'"window": "month", "value": ' + value + b'}',
                        headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text[:300]
    assert "value is a finite number between -10^15 and 10^15 with at most 12 decimals" in response.text


@pytest.mark.parametrize("observed", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+18:00"])
def test_an_instant_outside_the_calendar_in_utc_is_a_400(api: TestClient, observed: str) -> None:
    _error(api.post(f"{SLA}/slaMeasurement", json={"sla": {"id": "s1"}, "metric": "availability", "value": 1,
                                                   "observedAt": observed}), 400, "observedAt")


@pytest.mark.parametrize("observed", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_an_instant_at_the_ends_of_the_calendar_is_evaluated(api: TestClient, observed: str) -> None:
    response = api.post(f"{SLA}/slaMeasurement", json={"sla": {"id": "s1"}, "metric": "availability", "value": 1,
                                                      "observedAt": observed})
    assert response.status_code < 500, response.text[:300]


def test_a_measurement_of_an_sla_id_that_is_no_string_is_a_404(api: TestClient) -> None:
    _error(api.post(f"{SLA}/slaMeasurement", json={"sla": {"id": 7}, "metric": "m", "value": 1}), 404, "'7'")


def test_a_configuration_check_with_ids_of_the_wrong_type_is_a_client_error(api: TestClient) -> None:
    assert api.post(CHECK, json={"shoppingCart": {"id": {}}}).status_code == 404
    _error(api.post(CHECK, json={"cartItem": [{"productOffering": {"id": "data-5gb"}}],
                                 "relatedParty": [{"id": {}, "role": "customer"}]}), 400, "relatedParty")
    dated = api.post(CHECK, json={"cartItem": [{"productOffering": {"id": "data-5gb"}}],
                                  "requestedDate": "0001-01-01T00:00:00+18:00"})
    assert dated.status_code < 500, dated.text[:300]


@pytest.mark.parametrize("request_", [("POST", f"{BILLING}/billRun"), ("POST", f"{BILLING}/settlementRun"),
                                      ("GET", f"{SLA}/slaReport")])
def test_a_period_beyond_the_calendar_is_a_400(api: TestClient, request_: tuple[str, str]) -> None:
    method, path = request_
    period = "99999999999999999999-01"
    response = api.post(path, json={"period": period}) if method == "POST" else \
        api.get(path, params={"sla": "s1", "period": period})
    _error(response, 400, "YYYY-MM")
    for edge in ("9999-12", "0000-01"):
        edge_response = api.post(path, json={"period": edge}) if method == "POST" else \
            api.get(path, params={"sla": "s1", "period": edge})
        assert edge_response.status_code < 500, edge_response.text[:300]


# Issue 14, section 3: each class of the hostile run, on every operation it can reach (the
# classes one by one, on both tiers, are in test_no_server_error_*.py).

_OPENAPI = create_app(auth=False).openapi()
BODY_OPERATIONS = sorted((m.upper(), p) for p, ops in _OPENAPI["paths"].items() for m in ops
                         if m in ("post", "patch") and not p.endswith("/key"))
UNSTORABLE = {"NUL": "\\u0000", "lone surrogate": "\\udc00"}


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=[f"{m} {p}" for m, p in BODY_OPERATIONS])
def test_unstorable_text_in_any_body_is_a_400_naming_where(api: TestClient, method: str, path: str) -> None:
    url = path.replace("{id}", "no-such-id")
    for name, text in UNSTORABLE.items():
        content = f'{{"description": "ok", "name": "a{text}"}}'.encode()
        response = api.request(method, url, content=content, headers={
            "content-type": "application/merge-patch+json" if method == "PATCH" else "application/json"})
        _error(response, 400, "name: holds")


@pytest.mark.parametrize("path", [p for p, ops in _OPENAPI["paths"].items() if "{id}" in p and "get" in ops])
def test_nul_in_any_path_id_is_a_400(api: TestClient, path: str) -> None:
    _error(api.get(path.replace("{id}", "a%00b")), 400, "NUL character")


def test_a_usage_with_an_emoji_id_is_answered_with_an_ascii_location_and_a_resend_gets_it(api: TestClient) -> None:
    body = {"id": "u-😀", "usageType": "data", "usageDate": "2026-01-01T00:00:00Z"}
    first = api.post("/tmf-api/usageManagement/v4/usage", json=body)
    assert first.status_code == 201, first.text
    location = first.headers["location"]
    assert location == "/tmf-api/usageManagement/v4/usage/u-%F0%9F%98%80" == first.json()["href"]
    resent = api.post("/tmf-api/usageManagement/v4/usage", json=body)
    assert (resent.status_code, resent.json(), resent.headers["location"]) == (200, first.json(), location)
    assert api.get(location).json() == first.json()
