"""Real answers hold to the schemas the OpenAPI document declares for them (answers of our
own: ``bssrules/api/answers.py``; a hub's: TMF's ``EventSubscription``).

Each operation below is called for real, with authentication on, on both tiers, and its
answer is validated (JSON Schema 2020-12, formats checked) against the schema the document
declares for that operation and status — so a schema that drifts from what the service
returns, or a route that declares another's, fails here. The answers are made to hold what
their optional parts can hold (a partner acting for a party, deliveries that failed, totals
grouped every way, a time zone, bills already made, violations with their tickets).

The isolation world of ``test_partners_auth`` (devices and roaming) serves partners, hubs,
deliveries, usage and bill runs; the connected car serves SLAs and settlement.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import Engine

from bssrules.api import create_app
from tests.api.test_partners_auth import (
    BILL_RUN, ORDER, PARTNER, PLAN_SMALL, USAGE_API, Api, World, _load, api, world,
)

DOCUMENT = create_app(auth=True).openapi()
BILLING = "/tmf-api/customerBillManagement/v4"
SLA = "/tmf-api/slaManagement/v4"
HUB_APIS = ("/tmf-api/productCatalogManagement/v4", "/tmf-api/troubleTicket/v4",
            "/tmf-api/productOrderingManagement/v4", "/tmf-api/slaManagement/v4", "/tmf-api/usageManagement/v4",
            "/tmf-api/productInventory/v4", "/tmf-api/customerBillManagement/v4")
# The operations whose answers had no schema (issue 17): each must be validated here.
COVERED = {
    ("POST", f"{PARTNER}"), ("GET", f"{PARTNER}"), ("GET", f"{PARTNER}/{{id}}"), ("PATCH", f"{PARTNER}/{{id}}"),
    ("POST", f"{PARTNER}/{{id}}/key"), ("GET", "/tmf-api/partnerManagement/v4/delivery"),
    *[("POST", f"{api}/hub{tail}") for api in HUB_APIS for tail in ("", "/{id}/redeliver")],
    ("GET", f"{USAGE_API}/aggregatedUsage"), ("GET", f"{USAGE_API}/accumulator"),
    ("POST", f"{BILLING}/billRun"), ("POST", f"{BILLING}/settlementRun"),
    ("POST", f"{SLA}/sla"), ("GET", f"{SLA}/sla"), ("GET", f"{SLA}/sla/{{id}}"), ("POST", f"{SLA}/slaMeasurement"),
    ("GET", f"{SLA}/slaViolation"), ("GET", f"{SLA}/slaViolation/{{id}}"), ("GET", f"{SLA}/slaReport"),
}
_FORMATS = FormatChecker()


def _template(method: str, path: str) -> str:
    """The document's path of a concrete one."""
    for template, operations in DOCUMENT["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if method.lower() in operations and re.match(pattern, path):
            return template
    raise AssertionError(f"{method} {path}: no operation of the document")


class Checked:
    """Calls that validate each answer against the schema its operation declares."""

    def __init__(self, api: Api):
        self.api = api
        self.validated: set[tuple[str, str]] = set()

    def __call__(self, method: str, path: str, key: str, body: Any = None, status: int | None = None,
                 params: Any = None) -> Any:
        response = self.api.call(method, path, key, json_body=body, params=params)
        wanted = status or {"POST": 201}.get(method, 200)
        assert response.status_code == wanted, f"{method} {path} → {response.status_code}: {response.text}"
        template = _template(method, path)
        declared = DOCUMENT["paths"][template][method.lower()]["responses"][str(wanted)]
        schema = declared["content"]["application/json"]["schema"]
        assert schema, f"{method} {template} declares no schema"
        validator = Draft202012Validator({**schema, "components": DOCUMENT["components"]}, format_checker=_FORMATS)
        answer = response.json()
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(answer)]
        assert not problems, f"{method} {path} answers outside its schema: {problems}\n{answer}"
        self.validated.add((method, template))
        return answer


def test_partners_hubs_deliveries_usage_and_bill_runs_answer_as_declared(world: World) -> None:
    check = Checked(world.api)
    admin, a = world.admin, world.a
    created = check("POST", PARTNER, admin, {"id": "payer", "name": "Payer", "party": {"id": "cust-a"},
                                             "description": "reads its bills",
                                             "apiBundle": {"name": "payer", "api": [{"name": "TMF678",
                                                                                     "operations": ["list"]}]}})
    assert created["party"] == {"id": "cust-a", "@referredType": "Individual"} and created["apiKey"]
    assert len(check("GET", PARTNER, admin)) >= 4  # the administrator, A, B and the payer
    check("GET", f"{PARTNER}/payer", admin)
    check("PATCH", f"{PARTNER}/payer", admin, {"channel": ["web"], "catalog": ["c"]})
    check("PATCH", f"{PARTNER}/payer", admin, {"party": None})
    assert set(check("POST", f"{PARTNER}/payer/key", admin)) == {"partner", "apiKey"}
    hubs = {}
    for base in HUB_APIS:
        hub = check("POST", f"{base}/hub", a, {"callback": "http://127.0.0.1:9/unreachable"})
        hubs[base] = hub["id"]
    world.api.ok("POST", ORDER, a, {"relatedParty": [{"id": "cust-a", "role": "customer",
                                                      "@referredType": "Individual"}],
                                    "productOrderItem": [PLAN_SMALL]})
    deliveries = check("GET", "/tmf-api/partnerManagement/v4/delivery", admin)
    assert deliveries, "the order's event, to A's ordering hub"
    for base, hub in hubs.items():
        redone = check("POST", f"{base}/hub/{hub}/redeliver", a, {}, status=202)
        assert redone["hub"] == hub
    assert check("GET", f"{USAGE_API}/accumulator", a, params={"product": "line-a"})
    month = dt.date.fromisoformat(f"{world.period}-01")
    for params in ({"product": "line-a", "groupBy": "billingAccount,service,product,payerRole"},
                   {"billingAccount": "ba-a", "start": month.isoformat(),
                    "end": (month + dt.timedelta(days=40)).replace(day=1).isoformat()},
                   {"product": "line-a", "start": f"{world.period}-01T00:00:00Z"}):
        aggregated = check("GET", f"{USAGE_API}/aggregatedUsage", a, params=params)
        assert aggregated["total"], params
    run = check("POST", BILL_RUN, admin, {"period": world.period})
    assert run["billsAlreadyMade"] and not run["billsMade"]
    check("POST", f"{BILLING}/settlementRun", admin, {"period": world.period})
    assert check.validated >= {op for op in COVERED if not op[1].startswith(SLA + "/sla")}


PROVIDER_AND_CONSUMER = [{"id": "csp", "role": "provider", "@referredType": "Organization"},
                         {"id": "car-maker", "role": "consumer", "@referredType": "Organization", "name": "Car maker"}]


@pytest.fixture
def connected_car(engine: Engine, api: Api) -> Iterator[Api]:
    _load(engine, "connected_car")
    yield api


def test_slas_measurements_violations_reports_and_settlement_answer_as_declared(connected_car: Api) -> None:
    check = Checked(connected_car)
    admin = connected_car.admin_key
    for partner in ("csp", "car-maker"):  # an SLA's parties are partners
        check("POST", PARTNER, admin, {"id": partner, "name": partner,
                                       "apiBundle": {"name": "sla", "api": [{"name": "TMF623"}]}})
    check("POST", f"{SLA}/sla", admin, {"id": "cc-sla", "name": "Connectivity", "description": "the call center's",
                                        "ruleSet": {"id": "call-center-sla"}, "relatedParty": PROVIDER_AND_CONSUMER,
                                        "validFor": {"startDateTime": "2026-01-01T00:00:00Z"}})
    check("GET", f"{SLA}/sla", admin)
    check("GET", f"{SLA}/sla/cc-sla", admin)
    measured = check("POST", f"{SLA}/slaMeasurement", admin, {
        "sla": {"id": "cc-sla"}, "metric": "availability", "value": 97.9, "window": "month",
        "observedAt": "2026-06-30T23:59:59Z"})
    assert measured["violation"] and all("troubleTicket" in v for v in measured["violation"])
    check("POST", f"{SLA}/slaMeasurement", admin, {"sla": {"id": "cc-sla"}, "metric": "availability", "value": 99.99})
    violations = check("GET", f"{SLA}/slaViolation", admin)
    assert len(violations) == len(measured["violation"])
    check("GET", f"{SLA}/slaViolation/{violations[0]['id']}", admin)
    report = check("GET", f"{SLA}/slaReport", admin, params={"sla": "cc-sla", "period": "2026-06"})
    assert report["violationCount"] == len(violations) and report["byRule"]
    settled = check("POST", f"{BILLING}/settlementRun", admin, {"period": "2026-06"})
    assert settled["itemsDecided"] >= 0
    assert check.validated >= {op for op in COVERED if op[1].startswith(SLA + "/sla")}


def test_every_operation_that_had_no_answer_schema_is_covered_here() -> None:
    assert COVERED <= {(m.upper(), p) for p, ops in DOCUMENT["paths"].items() for m in ops}
    assert len(COVERED) == 31
