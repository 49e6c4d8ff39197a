"""A list filtered on ``id`` finds the resources of that id (both tiers): ``GET
/product?id=s1`` and ``/individual?id=gina`` answered an empty list — 200, as if they did not
exist — because the id is kept apart from the document's attributes that filters look in.
The catalog's lists did match."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

PARTY = "/tmf-api/party/v4/individual"
INVENTORY = "/tmf-api/productInventory/v4/product"


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    with app_for(engine) as app, TestClient(app) as client:
        for party in ("gina", "hugo", "ivo"):
            _ok(client.post(PARTY, json={"id": party, "givenName": party, "familyName": "X"}))
            _ok(client.post(INVENTORY, json={"id": f"{party}-line", "status": "active", "relatedParty": [
                {"id": party, "role": "customer", "@referredType": "Individual"}]}))
        yield client


def _ids(http: TestClient, path: str, **params: str) -> list[str]:
    response = http.get(path, params=params)
    return [r["id"] for r in _ok(response, 200)]


def test_a_list_is_filtered_on_id(http: TestClient) -> None:
    assert _ids(http, PARTY, id="gina") == ["gina"]
    assert _ids(http, INVENTORY, id="gina-line,ivo-line") == ["gina-line", "ivo-line"]
    assert _ids(http, INVENTORY, id="ivo-line", status="active") == ["ivo-line"]
    assert _ids(http, INVENTORY, id="nobody") == []
    assert http.get(INVENTORY, params={"id": "gina-line"}).headers["X-Total-Count"] == "1"
