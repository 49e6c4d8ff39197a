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
    assert response.status_code == 422 and "ghost" in response.json()["message"]
    assert response.json()["code"] == "unknownReference"
    # a near miss among the parties the caller sees is suggested
    near = http.post(POQ, json={"relatedParty": [{"id": "driver-2", "@referredType": "Individual"}],
                                "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "x"}}]})
    assert near.status_code == 422 and "(did you mean 'driver-1'?)" in near.json()["message"], near.text
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


# ------------------------------------------------------------------ issue 13, item 5: category, dates, fields


def _qualify_category(http: Any, channel: str, category: str, **extra: Any) -> Any:
    return http.post(POQ, json={"channel": {"id": channel}, "category": {"id": category},
                                "relatedParty": [{"id": "driver-1", "role": "customer", "@referredType": "Individual"}],
                                **extra})


def test_a_category_is_answered_offering_by_offering_sub_categories_included_with_reasons(http: Any) -> None:
    response = _qualify_category(http, "csp-shop", "converged")
    assert response.status_code == 201, response.text
    answer = response.json()
    # converged holds music-access and music-5gb; data-5gb is in partner-building-blocks, under converged
    assert _results(answer) == {"data-5gb": "unqualified", "music-5gb": "qualified", "music-access": "unqualified"}
    assert answer["category"] == {"id": "converged"} and answer["qualificationResult"] == "partiallyQualified"
    by_offering = {i["productOffering"]["id"]: i for i in answer["productOfferingQualificationItem"]}
    assert {r["code"] for r in by_offering["music-access"]["eligibilityUnavailabilityReason"]} >= {"channelNotAllowed"}
    assert "eligibilityUnavailabilityReason" not in by_offering["music-5gb"]
    assert by_offering["music-5gb"]["productOffering"]["name"]
    assert len({i["id"] for i in answer["productOfferingQualificationItem"]}) == 3  # every item has its own id
    assert http.get(f"{POQ}/{answer['id']}").json() == answer


def test_items_and_a_category_together_answer_each_offering_once(http: Any) -> None:
    body = {"channel": {"id": "csp-shop"}, "category": {"id": "converged"},
            "relatedParty": [{"id": "driver-1", "role": "customer", "@referredType": "Individual"}],
            "productOfferingQualificationItem": [{"id": "3", "productOffering": {"id": "music-5gb"}},
                                                 {"id": "1", "productOffering": {"id": "ppv-movie"}}]}
    answer = http.post(POQ, json=body).json()
    offered = [(i["id"], i["productOffering"]["id"]) for i in answer["productOfferingQualificationItem"]]
    assert offered[:2] == [("3", "music-5gb"), ("1", "ppv-movie")]  # the items named come first, as named
    assert sorted(o for _, o in offered) == ["data-5gb", "music-5gb", "music-access", "ppv-movie"]
    assert [i for i, _ in offered[2:]] == ["4", "5"]  # numbered after the items named (the highest: 3)
    body["productOfferingQualificationItem"] = [{"id": "3", "productOffering": {"id": "ppv-movie"}}]
    answer = http.post(POQ, json=body).json()
    assert [i["id"] for i in answer["productOfferingQualificationItem"]] == ["3", "4", "5", "6"]  # not 3, 2, 4 …


def test_provide_only_available_lists_only_the_offerings_of_the_category_that_qualify(http: Any) -> None:
    answer = _qualify_category(http, "csp-shop", "converged", provideOnlyAvailable=True).json()
    assert _results(answer) == {"music-5gb": "qualified"}
    assert answer["qualificationResult"] == "partiallyQualified"  # the others were asked about, and refused
    nothing = _qualify_category(http, "web", "infotainment", provideOnlyAvailable=True).json()
    assert nothing["productOfferingQualificationItem"] == [] and nothing["qualificationResult"] == "unqualified"


def test_an_unknown_category_is_refused_with_a_suggestion_and_nothing_is_stored(http: Any) -> None:
    response = _qualify_category(http, "csp-shop", "convergd")
    assert response.status_code == 422
    assert "no category 'convergd'" in response.json()["message"] and "did you mean 'converged'" in \
        response.json()["message"]
    assert http.get(POQ).json() == []


def test_the_qualification_states_when_it_was_submitted_and_answered(http: Any) -> None:
    import datetime as dt

    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    answer = _qualify(http, "car-maker-portal", "infotainment-connectivity")
    after = dt.datetime.now(dt.timezone.utc)
    submitted = dt.datetime.fromisoformat(answer["productOfferingQualificationDate"].replace("Z", "+00:00"))
    assert before <= submitted <= after
    assert answer["effectiveQualificationDate"] >= answer["productOfferingQualificationDate"]
    refused = http.post(POQ, json={"productOfferingQualificationDate": "2020-01-01T00:00:00Z",
                                   "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "x"}}]})
    assert refused.status_code == 400  # the server's to set, not the client's


def test_fields_selects_nested_attributes_of_every_item(http: Any) -> None:
    created = _qualify(http, "car-maker-portal", "infotainment-connectivity", "split-billing-option")
    one = http.get(f"{POQ}/{created['id']}", params={"fields": "productOfferingQualificationItem.state"}).json()
    assert one == {"id": created["id"], "href": created["href"], "@type": "ProductOfferingQualification",
                   "productOfferingQualificationItem": [{"id": "0", "state": "done"}, {"id": "1", "state": "done"}]}
    listed = http.get(POQ, params={"fields": "qualificationResult,productOfferingQualificationItem.productOffering.id,"
                                             "productOfferingQualificationItem.qualificationItemResult"}).json()
    assert listed[0]["productOfferingQualificationItem"] == [
        {"id": "0", "productOffering": {"id": "infotainment-connectivity"}, "qualificationItemResult": "qualified"},
        {"id": "1", "productOffering": {"id": "split-billing-option"}, "qualificationItemResult": "unqualified"}]
    assert set(listed[0]) == {"id", "href", "@type", "qualificationResult", "productOfferingQualificationItem"}
    whole = http.get(f"{POQ}/{created['id']}", params={
        "fields": "productOfferingQualificationItem.state,productOfferingQualificationItem"}).json()
    assert whole["productOfferingQualificationItem"] == created["productOfferingQualificationItem"]


@pytest.mark.parametrize(("fields", "suggestion"), [
    ("productOfferingQualificationItem.stat", "productOfferingQualificationItem.state"),
    ("productOfferingQualificationItem.productOffering.nme", "productOfferingQualificationItem.productOffering.name"),
    ("productOfferingQualificationItm.state", "productOfferingQualificationItem"),
    ("productOfferingQualificationItem.state.code", None),
])
def test_a_nested_field_the_definition_does_not_have_is_a_400_naming_it(http: Any, fields: str,
                                                                        suggestion: str | None) -> None:
    created = _qualify(http, "car-maker-portal", "infotainment-connectivity")
    for path in (f"{POQ}/{created['id']}", POQ):
        response = http.get(path, params={"fields": fields})
        assert response.status_code == 400
        message = response.json()["message"]
        assert f"'{fields}' is not an attribute of ProductOfferingQualification" in message
        assert (f"did you mean '{suggestion}'" in message) if suggestion else "did you mean" not in message
