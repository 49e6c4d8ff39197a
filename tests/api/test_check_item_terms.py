"""checkProductConfiguration holds a cart's items to their terms as an order placed now
would (commitments.term_violations): an offering sold with a choice of terms needs one in
`itemTerm`, an unknown one is named with a did-you-mean, a term outside its validFor is
refused — at the item's place in the cart. Was: the check answered valid and the order of
the same items was refused 422."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.api import create_app
from bssrules.rules.project import load_project_texts
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork
from tests.api.test_commitments import CUSTOMER, PARTY, TERMS_CATALOG

CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"


@pytest.fixture
def http(engine: Engine) -> Iterator[TestClient]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project_texts({"catalog.yaml": TERMS_CATALOG}), "terms")
    with TestClient(create_app(engine=engine)) as client:
        assert client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}
                           ).status_code == 201
        yield client


def _check(http: TestClient, **item: Any) -> list[tuple[str, str, str]]:
    answer = http.post(CHECK, json={"relatedParty": CUSTOMER, "requestedDate": "2026-01-01", "cartItem": [
        {"id": "tv", "productOffering": {"id": "po-fibre-free"}},
        {"id": "1", "productOffering": {"id": "po-fibre-choice"}, **item}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["valid"] == (answer.json()["violation"] == [])
    return [(v["code"], v["path"], v["message"]) for v in answer.json()["violation"]]


def _ordered(http: TestClient, **item: Any) -> int:
    return http.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-01-01", "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "po-fibre-choice"}, **item}]}
    ).status_code


def test_an_item_sold_with_a_choice_of_terms_needs_one_as_in_an_order(http: TestClient) -> None:
    [(code, path, message)] = _check(http)
    assert (code, path) == ("termRequired", "$.cartItem[1].itemTerm") and "12 months, 24 months" in message
    assert _ordered(http) == 422


def test_a_misspelt_term_is_named_with_the_one_meant(http: TestClient) -> None:
    [(code, path, message)] = _check(http, itemTerm=[{"name": "24 month"}])
    assert (code, path) == ("unknownTerm", "$.cartItem[1].itemTerm[0].name") and "did you mean '24 months'?" in message


def test_a_term_offered_is_valid_as_in_an_order(http: TestClient) -> None:
    assert _check(http, itemTerm=[{"name": "24 months"}]) == []
