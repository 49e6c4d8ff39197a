"""A bill run naming billing accounts that do not exist answers 422 ``unknownReference``
naming every one of them at once, each with the closest known id, and bills nothing: an id
in a body that names nothing is not a missing URL (404), and a typo must not cost a second
attempt per account. A run naming known accounts bills them."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
BILLS = "/tmf-api/customerBillManagement/v4"


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    with app_for(engine) as app, TestClient(app) as client:
        for who in ("ana", "ben"):
            _ok(client.post(f"{PARTY}/individual", json={"id": who, "givenName": who.title(), "familyName": "S"}))
            _ok(client.post(f"{ACCOUNT}/billingAccount", json={"id": f"ba-{who}", "name": who, "relatedParty": [
                {"id": who, "name": who, "role": "owner", "@referredType": "Individual"}]}))
        yield client


def test_every_unknown_account_is_named_with_its_closest_id(http: TestClient) -> None:
    response = http.post(f"{BILLS}/billRun", json={"period": "2026-06", "billingAccount": [
        {"id": "ba-ana"}, {"id": "ba-anna"}, {"id": "ba-bem"}, {"id": "zzz"}]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "unknownReference"
    message = body["reason"] + " " + body.get("message", "")
    assert "'ba-anna' (did you mean 'ba-ana'?)" in message
    assert "'ba-bem' (did you mean 'ba-ben'?)" in message
    assert "'zzz'" in message and "'zzz' (did you mean" not in message
    assert "'ba-ana'," not in message  # the known one is not named as unknown
    assert _ok(http.get(f"{BILLS}/customerBill"), 200) == []


def test_known_accounts_run(http: TestClient) -> None:
    run = _ok(http.post(f"{BILLS}/billRun", json={"period": "2026-06", "billingAccount": [{"id": "ba-ana"}]}))
    assert run["billsMade"] == []  # nothing due: no bill, and no error
