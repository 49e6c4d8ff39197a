"""party.age, party.segment and party.country reach the rules over HTTP (both tiers): from the
individual's birthDate (as of the decision's date), the party's characteristics and its
postal address — in a qualification, a configuration check and an order alike. Before,
only the type and the classification were read: an adults-only rule refused every buyer."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
POQ = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
PARTY = "/tmf-api/party/v4"

RULES = """\
ruleSets:
  - id: ppv-service-eligibility
    kind: eligibility
    rules:
      - id: adults-only
        offerings: [ppv-service]
        when: {party.age: {gte: 18}}
        reason: {code: minor, label: The service is for adults}
      - id: residential-only
        offerings: [ppv-service]
        when: {party.segment: residential}
        reason: {code: notResidential, label: The service is for residential customers}
      - id: iberia-only
        offerings: [ppv-service]
        when: {party.country: {in: [PT, ES]}}
        reason: {code: outsideIberia, label: The service is sold in Portugal and Spain}
"""


@pytest.fixture
def http(engine: Any, tmp_path: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    project = tmp_path / "ppv"
    shutil.copytree(ROOT / "examples" / "ppv", project, ignore=shutil.ignore_patterns(".bssrules-cache"))
    (project / "rules" / "adults.yaml").write_text(RULES)
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(project), "ppv")
    with TestClient(create_app(engine=engine)) as client:
        yield client


def _individual(http: Any, party_id: str, birth: str | None, segment: str | None = "residential",
                country: str | None = "PT") -> None:
    body: dict[str, Any] = {"id": party_id, "givenName": party_id, "familyName": "S"}
    if birth is not None:
        body["birthDate"] = birth
    if segment is not None:
        body["partyCharacteristic"] = [{"name": "segment", "value": segment}]
    if country is not None:
        body["contactMedium"] = [{"mediumType": "email", "characteristic": {"emailAddress": "x@example.com"}},
                                 {"mediumType": "postalAddress", "preferred": True,
                                  "characteristic": {"city": "Lisboa", "country": country}}]
    created = http.post(f"{PARTY}/individual", json=body)
    assert created.status_code == 201, created.text


def _refusals(http: Any, party_id: str) -> list[str]:
    answer = http.post(POQ, json={
        "relatedParty": [{"id": party_id, "role": "customer", "@referredType": "Individual"}],
        "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "ppv-service"}}]})
    assert answer.status_code == 201, answer.text
    item = answer.json()["productOfferingQualificationItem"][0]
    return sorted(r["code"] for r in item.get("eligibilityUnavailabilityReason") or [])


def test_an_adult_resident_of_portugal_qualifies_and_the_others_are_told_why(http: Any) -> None:
    _individual(http, "ana", "1980-01-01")
    _individual(http, "teen", "2020-01-01")
    _individual(http, "hotel-guest", "1980-01-01", segment="hospitality", country="FR")
    _individual(http, "unknown-age", None)
    assert _refusals(http, "ana") == []
    assert _refusals(http, "teen") == ["minor"]
    assert _refusals(http, "hotel-guest") == ["notResidential", "outsideIberia"]
    assert _refusals(http, "unknown-age") == ["minor"]  # no birth date: no age, so not known to be 18


def _check(http: Any, party_id: str, requested: str) -> list[str]:
    answer = http.post(CHECK, json={
        "requestedDate": requested,
        "relatedParty": [{"id": party_id, "role": "customer"}],
        "cartItem": [{"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "ppv-service"}}]})
    assert answer.status_code == 200, answer.text
    return sorted(v.get("reason", v["code"]) for v in answer.json()["violation"])


def test_the_age_is_the_one_the_party_has_on_the_date_the_basket_is_checked_for(http: Any) -> None:
    _individual(http, "bea", "2008-06-15T00:00:00Z")
    assert _check(http, "bea", "2026-06-14T23:59:59Z") == ["minor"]
    assert _check(http, "bea", "2026-06-15T00:00:00Z") == []


def test_an_order_sees_the_same_facts_and_a_minor_is_refused_with_nothing_stored(http: Any) -> None:
    _individual(http, "teen", "2020-01-01")
    _individual(http, "ana", "1980-01-01")
    item = {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "ppv-service"}}
    refused = http.post(ORDER, json={"relatedParty": [{"id": "teen", "role": "customer", "@referredType": "Individual"}], "productOrderItem": [item]})
    assert refused.status_code in (400, 422), refused.text
    assert "minor" in refused.text
    assert http.get(ORDER, params={"relatedParty.id": "teen"}).json() == []
    placed = http.post(ORDER, json={"relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}], "productOrderItem": [item]})
    assert placed.status_code == 201, placed.text
