"""Edges of TMF635 usage a partner review found (issue 12), on both tiers: an empty id is a
400, not a fresh id (a re-sent record was charged twice); a usage naming two different
productIds is rejected malformed (the last one was charged, unsaid); a batch sent again whole
answers 200, as a single usage sent again does; aggregatedUsage refuses an end not after its
start; a batch whose second part failed answers 503 partlyStored with what it stored."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.api import create_app
from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.services import usage as usage_service
from bssrules.services.records import PartlyStored
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
API = "/tmf-api/usageManagement/v4"
USAGE, AGGREGATED = f"{API}/usage", f"{API}/aggregatedUsage"


@pytest.fixture
def http(engine: Engine) -> Iterator[TestClient]:
    """The roaming example; Ana (ba-ana) with the lines line-1 and line-2."""
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "roaming"), "roaming")
    with TestClient(create_app(engine=engine)) as client:
        assert client.post("/tmf-api/party/v4/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}
                           ).status_code == 201
        assert client.post("/tmf-api/accountManagement/v4/billingAccount", json={
            "id": "ba-ana", "name": "Ana", "relatedParty": [
                {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}).status_code == 201
        for line in ("line-1", "line-2"):
            assert client.post("/tmf-api/productInventory/v4/product", json={
                "id": line, "status": "active", "startDate": "2026-06-01T00:00:00Z",
                "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
                "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}).status_code == 201
        yield client


def _sms(usage_id: str | None, *lines: str) -> dict[str, Any]:
    body = {"usageDate": "2026-06-03T10:00:00Z", "usageType": "sms", "usageCharacteristic": [
        *({"name": "productId", "value": line} for line in lines), {"name": "service", "value": "sms"},
        {"name": "volume", "value": 1}, {"name": "unit", "value": "message"}]}
    return body if usage_id is None else {"id": usage_id, **body}


def _stored(http: TestClient) -> list[dict[str, Any]]:
    return json.loads(http.get(USAGE).text, parse_float=Decimal)


def test_an_empty_id_is_refused_and_nothing_is_stored(http: TestClient) -> None:
    refused = http.post(USAGE, json=_sms("", "line-1"))
    assert refused.status_code == 400 and "id must be a non-empty string" in refused.json()["message"]
    in_batch = http.post(USAGE, json=[_sms("a", "line-1"), _sms("", "line-1")])
    assert in_batch.status_code == 400 and "[1].id must be" in in_batch.json()["message"]
    assert _stored(http) == []


def test_a_usage_naming_two_subscriptions_is_rejected_malformed(http: TestClient) -> None:
    answer = http.post(USAGE, json=_sms("two", "line-1", "line-2"))
    assert answer.status_code == 201 and answer.json()["status"] == "rejected"
    [reason] = answer.json()["rejectionReason"]
    assert reason["code"] == "malformed" and "'productId' is given twice" in reason["label"]
    assert http.post(USAGE, json=_sms("same", "line-1", "line-1")).json()["status"] == "rated"  # the same twice: one


def test_a_batch_sent_again_whole_answers_200_with_the_stored_usages(http: TestClient) -> None:
    batch = [_sms("b1", "line-1"), _sms("b2", "line-2")]
    first = http.post(USAGE, json=batch)
    assert first.status_code == 201
    again = http.post(USAGE, json=batch)
    assert again.status_code == 200 and again.json() == first.json()
    assert http.post(USAGE, json=[*batch, _sms("b3", "line-1")]).status_code == 201  # one of them new


def test_aggregated_usage_refuses_an_end_not_after_its_start(http: TestClient) -> None:
    refused = http.get(AGGREGATED, params={"product": "line-1", "start": "2026-07-01", "end": "2026-06-01"})
    assert refused.status_code == 400 and "end (2026-06-01) must come after start" in refused.json()["message"]


def test_a_batch_whose_second_part_failed_answers_503_with_what_it_stored(
        http: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*_: Any) -> Any:
        raise PartlyStored("the batch was written in two parts and the second failed (lost): …", [(0, "x-0")])

    monkeypatch.setattr(usage_service, "create_usage_texts", failing)
    answer = http.post(USAGE, json=[_sms(None, "line-1"), _sms("b", "line-2")])
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "partlyStored" and answer.json()["stored"] == [{"index": 0, "id": "x-0"}]
