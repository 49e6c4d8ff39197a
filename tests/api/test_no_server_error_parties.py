"""A partner naming a party it cannot see — another partner's, or one that does not exist — is
told the same thing both times: no individual or organization with this id is found or
visible to it (it used to read "neither an individual nor an organization", as if the party
existed in no form). Qualification, configuration check and order read the party alike."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.services.partners import make_key
from bssrules.store import UnitOfWork

# one key for the session: the app made with it is kept (tests/conftest.py), and each test's
# empty database gets the administrator again when the app starts
ADMIN_KEY = make_key()

ROOT = Path(__file__).resolve().parents[2]
PARTNER = "/tmf-api/partnerManagement/v4/partner"
ALL = ["list", "retrieve", "create", "patch", "delete"]
BUNDLE = {"name": "sales", "api": [{"name": api, "operations": ALL} for api in ("TMF632", "TMF679", "TMF622",
                                                                                  "TMF760")]}
ITEM = {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-data-plan"}}
REQUESTS = {
    "qualification": ("/tmf-api/productOfferingQualification/v4/productOfferingQualification",
                      lambda party: {"relatedParty": [party], "productOfferingQualificationItem": [
                          {"id": "1", "productOffering": {"id": "mobile-data-plan"}}]}),
    "order": ("/tmf-api/productOrderingManagement/v4/productOrder",
              lambda party: {"relatedParty": [party], "productOrderItem": [ITEM]}),
    "configuration check": ("/tmf-api/productConfigurationManagement/v5/checkProductConfiguration",
                            lambda party: {"relatedParty": [party], "cartItem": [ITEM]}),
}


@pytest.fixture
def partners(engine: Engine, app_for: Callable[..., Any]) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """The app with authentication on; partners a and b (each a key), and a's customer ana."""
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "roaming"), "roaming")
    admin = ADMIN_KEY
    with app_for(engine, auth=True, admin_key=admin) as app, TestClient(app) as client:
        keys = {}
        for name in ("a", "b"):
            created = client.post(PARTNER, json={"id": name, "name": name.upper(), "apiBundle": BUNDLE},
                                  headers={"Authorization": f"Bearer {admin}"})
            assert created.status_code == 201, created.text
            keys[name] = {"Authorization": f"Bearer {created.json()['apiKey']}"}
        made = client.post("/tmf-api/party/v4/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"},
                           headers=keys["a"])
        assert made.status_code == 201, made.text
        yield client, keys


@pytest.mark.parametrize("request_kind", list(REQUESTS))
def test_a_party_of_another_partner_and_a_party_that_does_not_exist_get_the_same_answer(
        partners: tuple[TestClient, dict[str, dict[str, str]]], request_kind: str) -> None:
    client, keys = partners
    path, body = REQUESTS[request_kind]
    answers: list[Any] = []
    for party_id in ("ana", "nobody"):
        party = {"id": party_id, "role": "customer", "@referredType": "Individual"}
        response = client.post(path, json=body(party), headers=keys["b"])
        assert response.status_code == 422, response.text  # a reference to nothing, as elsewhere in the API
        answers.append(response.json()["message"].replace(party_id, "<id>"))
    assert answers[0] == answers[1] == "relatedParty.id: no individual or organization '<id>' is found or visible to you"
    own = client.post(path, json=body({"id": "ana", "role": "customer", "@referredType": "Individual"}),
                      headers=keys["a"])
    assert own.status_code < 400 or "relatedParty" not in own.json()["message"], own.text
