"""The same id posted by many clients at once, on PostgreSQL (where transactions really run
side by side): exactly one is stored, the others are answered as a resend would be — never a
500 (a duplicate key) nor a 409 for a usage.

* usage: one 201, the others 200 with the stored usage; one rating, one charge (or one take
  from the bucket), whether the usage is rated (its subscription is locked while it is rated)
  or rejected (nothing is locked: the insert itself finds the id taken), posted alone or in
  batches;
* a qualification: one 201, the others 409 naming the id.
"""
from __future__ import annotations

import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.api import create_app
from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork
from bssrules.store.tables import metadata

ROOT = Path(__file__).resolve().parents[2]
USAGE_API = "/tmf-api/usageManagement/v4"
USAGE = f"{USAGE_API}/usage"
BUCKET = "/tmf-api/prepayBalanceManagement/v4/bucket"
QUALIFICATION = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
CLIENTS = 8

# FastAPI builds the parameters of an app's routes (at create_app, and again at the first
# request that walks them) with pydantic's warnings silenced by warnings.catch_warnings(),
# which is process-wide, not per thread: done in several threads at once, it lets them out
# ("UnsupportedFieldAttributeWarning: The 'alias' attribute with value 'id' …", the `id` path
# parameter, whose alias FastAPI sets to its name). So the clients' apps are built, and their
# routes walked once, in this thread before the clients start; any such warning fails.
pytestmark = [pytest.mark.postgres,
              pytest.mark.filterwarnings("error::pydantic.warnings.UnsupportedFieldAttributeWarning")]


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def engine(_postgres_engine: Engine) -> Iterator[Engine]:
    """The roaming example on PostgreSQL; Ana (ba-ana) with the lines line-1 and line-2."""
    _empty(_postgres_engine)
    with UnitOfWork(_postgres_engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "roaming"), "roaming")
    with TestClient(create_app(engine=_postgres_engine)) as client:
        _ok(client.post("/tmf-api/party/v4/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}))
        _ok(client.post("/tmf-api/accountManagement/v4/billingAccount", json={
            "id": "ba-ana", "name": "Ana", "relatedParty": [
                {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}))
        for line in ("line-1", "line-2"):
            _ok(client.post("/tmf-api/productInventory/v4/product", json={
                "id": line, "status": "active", "startDate": "2026-06-01T00:00:00Z",
                "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
                "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}))
    try:
        yield _postgres_engine
    finally:
        _empty(_postgres_engine)


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


def _sms(usage_id: str, line: str = "line-1", messages: int = 3) -> dict[str, Any]:
    return {"id": usage_id, "usageDate": "2026-06-03T10:00:00Z", "usageType": "sms", "usageCharacteristic": [
        {"name": "productId", "value": line}, {"name": "service", "value": "sms"},
        {"name": "volume", "value": messages}, {"name": "unit", "value": "message"}]}


def _at_once(engine: Engine, request: Callable[[TestClient, int], Any]) -> list[Any]:
    """``request(client, n)`` from CLIENTS clients released together; their responses."""
    barrier, answers, failures = threading.Barrier(CLIENTS), [None] * CLIENTS, []
    apps = [create_app(engine=engine) for _ in range(CLIENTS)]  # not in the threads (see pytestmark)
    for app in apps:
        with TestClient(app) as client:
            assert client.get("/no-such-path").status_code == 404  # every route walked, and built, once

    def run(n: int) -> None:
        try:
            with TestClient(apps[n], raise_server_exceptions=False) as own:
                barrier.wait(timeout=30)
                answers[n] = request(own, n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(f"client {n}: {exc!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    return answers


def _totals(engine: Engine, line: str) -> list[tuple[Decimal, int]]:
    with TestClient(create_app(engine=engine)) as client:
        total = _ok(client.get(f"{USAGE_API}/aggregatedUsage", params={"product": line}), 200)["total"]
    return [(t["value"], t["count"]) for t in total]


@pytest.mark.parametrize("line", ["line-1", "no-such-line"], ids=["rated", "rejected"])
def test_the_same_usage_posted_by_many_clients_at_once_is_stored_and_charged_once(engine: Engine, line: str) -> None:
    answers = _at_once(engine, lambda client, _: client.post(USAGE, json=_sms("same", line)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * (CLIENTS - 1) + [201], [a.text[:300] for a in answers]
    bodies = [a.json() for a in answers]
    assert all(b == bodies[0] for b in bodies), "every client is answered the one stored usage"
    assert bodies[0]["status"] == ("rated" if line == "line-1" else "rejected")
    assert {a.headers["location"] for a in answers} == {f"{USAGE}/same"}
    with TestClient(create_app(engine=engine)) as client:
        assert [u["id"] for u in _ok(client.get(USAGE), 200)] == ["same"]
    if line == "line-1":
        assert _totals(engine, line) == [(Decimal("0.30"), 1)]


def test_the_same_usages_in_concurrent_batches_are_stored_and_charged_once(engine: Engine) -> None:
    def batch(client: TestClient, n: int) -> Any:  # every batch shares two usages and has one of its own
        return client.post(USAGE, json=[_sms("shared-1"), _sms(f"own-{n}", "line-2", 1), _sms("shared-2", "line-2")])

    answers = _at_once(engine, batch)
    assert [a.status_code for a in answers] == [201] * CLIENTS, [a.text[:300] for a in answers]
    with TestClient(create_app(engine=engine)) as client:
        stored = sorted(u["id"] for u in _ok(client.get(USAGE), 200))
    assert stored == sorted(["shared-1", "shared-2", *(f"own-{n}" for n in range(CLIENTS))])
    assert _totals(engine, "line-1") == [(Decimal("0.30"), 1)]
    assert _totals(engine, "line-2") == [(Decimal("0.30") + Decimal("0.10") * CLIENTS, 1 + CLIENTS)]


def test_the_same_usage_at_once_takes_from_a_bucket_once(engine: Engine) -> None:
    with TestClient(create_app(engine=engine)) as client:
        _ok(client.post(BUCKET, json={"id": "sms-pack", "usageType": "sms", "product": [{"id": "line-1"}],
                                      "remainingValue": {"amount": 100, "units": "message"}}))
    answers = _at_once(engine, lambda client, _: client.post(USAGE, json=_sms("from-bucket", messages=7)))
    assert sorted(a.status_code for a in answers) == [200] * (CLIENTS - 1) + [201]
    with TestClient(create_app(engine=engine)) as client:
        assert _ok(client.get(f"{BUCKET}/sms-pack"), 200)["remainingValue"]["amount"] == 93


def test_the_same_qualification_id_posted_at_once_is_created_once_and_refused_409_to_the_others(
        engine: Engine) -> None:
    body = {"id": "q-same", "productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": "mobile-data-plan"}}]}
    answers = _at_once(engine, lambda client, _: client.post(QUALIFICATION, json=body))
    assert sorted(a.status_code for a in answers) == [201] + [409] * (CLIENTS - 1), [a.text[:300] for a in answers]
    assert all("'q-same' already exists" in a.json()["message"] for a in answers if a.status_code == 409)
