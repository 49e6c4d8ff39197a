"""TMF679 qualification over HTTP, on both tiers, from the connected-car and PPV examples
as stored in the database; every body is checked against the official TMF679 definition."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft4Validator, FormatChecker

from bssrules.services import catalog as services
from bssrules.api.qualification import TMF679
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
POQ = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
PARTY, INVENTORY = "/tmf-api/party/v4", "/tmf-api/productInventory/v4"


def _check(response: Any) -> Any:
    path = response.request.url.path
    if not path.startswith(POQ):
        return response
    body = response.json()
    name = "Error" if response.status_code >= 400 else "ProductOfferingQualification"
    schema: dict[str, Any] = {"definitions": TMF679.definitions, "$ref": f"#/definitions/{name}"}
    if isinstance(body, list):
        schema = {"definitions": TMF679.definitions, "type": "array", "items": {"$ref": f"#/definitions/{name}"}}
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in Draft4Validator(schema, format_checker=FormatChecker()).iter_errors(body)]
    assert not errors, f"{path} -> {response.status_code} breaks {name}: {errors}"
    return response


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    for example in ("connected_car", "ppv"):
        with UnitOfWork(engine) as uow:
            services.load_project(uow, load_project(ROOT / "examples" / example), example)
    with TestClient(create_app(engine=engine)) as test_client:
        test_client.event_hooks["response"] = [lambda r: (r.read(), _check(r))]
        assert test_client.post(f"{PARTY}/individual", json={
            "id": "driver-1", "givenName": "Ana", "familyName": "Silva"}).status_code == 201
        yield test_client


def _qualify(http: Any, channel: str, *offerings: str, party: str = "driver-1") -> dict[str, str]:
    body = {"channel": {"id": channel},
            "relatedParty": [{"id": party, "role": "customer", "@referredType": "Individual"}],
            "productOfferingQualificationItem": [{"id": str(i), "productOffering": {"id": o}}
                                                 for i, o in enumerate(offerings)]}
    response = http.post(POQ, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _results(answer: dict[str, Any]) -> dict[str, str]:
    return {i["productOffering"]["id"]: i["qualificationItemResult"] for i in answer["productOfferingQualificationItem"]}


def test_a_driver_qualifies_for_infotainment_on_the_car_makers_portal_only(http: Any) -> None:
    assert _results(_qualify(http, "car-maker-portal", "infotainment-connectivity")) == {
        "infotainment-connectivity": "qualified"}
    refused = _qualify(http, "csp-shop", "infotainment-connectivity")
    item = refused["productOfferingQualificationItem"][0]
    assert item["qualificationItemResult"] == "unqualified"
    assert {r["code"] for r in item["eligibilityUnavailabilityReason"]} == {"channelNotAllowed", "wrongChannel"}
    assert refused["qualificationResult"] == "unqualified"


def test_every_item_is_answered_and_the_whole_says_partially_qualified(http: Any) -> None:
    answer = _qualify(http, "car-maker-portal", "infotainment-connectivity", "split-billing-option", "no-such")
    assert _results(answer) == {"infotainment-connectivity": "qualified", "split-billing-option": "unqualified",
                                "no-such": "unqualified"}
    assert answer["qualificationResult"] == "partiallyQualified"
    codes = {i["productOffering"]["id"]: [r["code"] for r in i.get("eligibilityUnavailabilityReason", [])]
             for i in answer["productOfferingQualificationItem"]}
    assert "organizationsOnly" in codes["split-billing-option"]
    assert codes["no-such"] == ["unknownOffering"]


def test_a_movie_needs_an_effective_ppv_service_and_the_service_is_proposed(http: Any) -> None:
    item = _qualify(http, "web", "ppv-movie")["productOfferingQualificationItem"][0]
    assert item["qualificationItemResult"] == "alternate"
    assert [r["code"] for r in item["eligibilityUnavailabilityReason"]] == ["ppvServiceNotEffective"]
    assert [p["alternateProductOffering"]["id"] for p in item["alternateProductOfferingProposal"]] == ["ppv-service"]
    owner = [{"id": "driver-1", "role": "owner", "@referredType": "Individual"}]
    terminated = {"id": "p-0", "status": "terminated", "productOffering": {"id": "ppv-service"}, "relatedParty": owner}
    assert http.post(f"{INVENTORY}/product", json=terminated).status_code == 201
    assert _results(_qualify(http, "web", "ppv-movie")) == {"ppv-movie": "alternate"}
    active = {**terminated, "id": "p-1", "status": "active"}
    assert http.post(f"{INVENTORY}/product", json=active).status_code == 201
    assert _results(_qualify(http, "web", "ppv-movie")) == {"ppv-movie": "qualified"}


def test_qualifications_are_stored_listed_and_retrieved(http: Any) -> None:
    created = _qualify(http, "car-maker-portal", "infotainment-connectivity")
    assert http.get(f"{POQ}/{created['id']}").json() == created
    listed = http.get(POQ, params={"state": "done", "fields": "qualificationResult"})
    assert [q["id"] for q in listed.json()] == [created["id"]] and listed.headers["X-Total-Count"] == "1"
    assert http.get(f"{POQ}/nope").status_code == 404


def test_an_unknown_party_or_an_empty_request_is_refused_and_nothing_is_stored(http: Any) -> None:
    response = http.post(POQ, json={"relatedParty": [{"id": "ghost", "@referredType": "Individual"}],
                                    "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "x"}}]})
    assert response.status_code == 400 and "ghost" in response.json()["message"]
    assert http.post(POQ, json={"productOfferingQualificationItem": []}).status_code == 400
    assert http.get(POQ).json() == []


def test_a_rule_change_loaded_by_another_process_is_used_at_once(http: Any, engine: Any) -> None:
    assert _results(_qualify(http, "csp-shop", "music-5gb")) == {"music-5gb": "qualified"}
    project = load_project(ROOT / "examples" / "connected_car")
    rules = [r for r in project.rules if r.id == "connected-car-eligibility"][0]
    rule = [r for r in rules.definition.rules if r.id == "converged-offer-channels"][0]
    narrowed = rule.model_copy(update={"when": {"channel.id": "car-maker-portal"}})
    definition = rules.definition.model_copy(update={"rules": [narrowed if r.id == rule.id else r
                                                               for r in rules.definition.rules]})
    from bssrules.rules.compiled import compile_rule_set

    project.rules.versions[rules.id] = [compile_rule_set(definition)]
    with UnitOfWork(engine) as uow:
        services.load_project(uow, project, "connected_car")
    assert _results(_qualify(http, "csp-shop", "music-5gb")) == {"music-5gb": "unqualified"}
