"""Included allowances cost online rating no statement in the common case (issue 15, item 1).

A usage of a product whose allowance bucket of the month is there already sends the
database exactly the statements a usage of a product without allowances sends; the
month's first usage, which makes the bucket, adds one INSERT on SQLite and nothing on
PostgreSQL (the bucket rides in the save's one call). Counted at the driver, on both tiers."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from bssrules.api import create_app
from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
USAGE = "/tmf-api/usageManagement/v4/usage"
INVENTORY = "/tmf-api/productInventory/v4/product"


@pytest.fixture
def http(engine: Engine) -> Iterator[TestClient]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "allowances"), "allowances")
    with TestClient(create_app(engine=engine)) as client:
        owner = {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}
        for path, body in (("/tmf-api/party/v4/individual", {"id": "ana", "givenName": "Ana", "familyName": "S"}),
                           ("/tmf-api/accountManagement/v4/billingAccount",
                            {"id": "ba-1", "name": "Ana", "relatedParty": [owner]})):
            assert client.post(path, json=body).status_code == 201
        for product, offering in (("with-plan", "plan-3gb"), ("without", "no-allowance")):
            made = client.post(INVENTORY, json={"id": product, "status": "active", "startDate": "2026-01-01",
                                                "productOffering": {"id": offering},
                                                "billingAccount": {"id": "ba-1"}})
            assert made.status_code == 201, made.text
        yield client


class _Counter:
    """Statements sent to the database while counting: SQLAlchemy's on SQLite, every
    execute of psycopg's cursors on PostgreSQL (online rating sends its calls on the raw
    connection)."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self.on = False
        if engine.dialect.name == "postgresql":
            import psycopg

            for cls in (psycopg.Cursor, psycopg.ClientCursor):
                for name in ("execute", "executemany"):
                    original = getattr(cls, name)
                    monkeypatch.setattr(cls, name, self._wrap(original))
        else:
            event.listen(engine, "before_cursor_execute", self._listened)
        self._engine = engine

    def stop(self) -> None:
        """Stop listening (the worker's SQLite engine serves later tests: a listener left on it
        turns off what only runs unlistened, store.resources._driver_rows)."""
        if event.contains(self._engine, "before_cursor_execute", self._listened):
            event.remove(self._engine, "before_cursor_execute", self._listened)

    def _listened(self, *_: Any) -> None:
        self._tick()

    def _tick(self) -> None:
        if self.on:
            self.count += 1

    def _wrap(self, original: Any) -> Any:
        def counted(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            self._tick()
            return original(cursor, *args, **kwargs)
        return counted

    def of(self, client: TestClient, body: dict[str, Any]) -> int:
        self.count, self.on = 0, True
        try:
            answer = client.post(USAGE, json=body)
        finally:
            self.on = False
        assert answer.status_code == 201, answer.text
        assert json.loads(answer.text, parse_float=Decimal)["status"] == "rated"
        return self.count


def _data(id: str, product: str, date: str) -> dict[str, Any]:
    return {"id": id, "usageDate": date, "usageType": "data", "usageCharacteristic": [
        {"name": "productId", "value": product}, {"name": "service", "value": "data"},
        {"name": "volume", "value": 10}, {"name": "unit", "value": "MB"}]}


def test_a_product_with_its_bucket_of_the_month_costs_the_statements_of_one_without(
        http: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    counter = _Counter(engine, monkeypatch)
    request.addfinalizer(counter.stop)
    for product in ("with-plan", "without"):  # contexts cached, June's bucket made
        counter.of(http, _data(f"{product}-warm", product, "2026-06-02T10:00:00Z"))
    plain = counter.of(http, _data("without-1", "without", "2026-06-03T10:00:00Z"))
    assert plain > 0
    assert counter.of(http, _data("with-plan-1", "with-plan", "2026-06-03T10:00:00Z")) == plain
    assert counter.of(http, _data("without-2", "without", "2026-07-03T10:00:00Z")) == plain
    first_of_july = counter.of(http, _data("with-plan-2", "with-plan", "2026-07-03T10:00:00Z"))
    assert first_of_july == plain + (0 if engine.dialect.name == "postgresql" else 1)
    buckets = http.get("/tmf-api/prepayBalanceManagement/v4/bucket", params={"product.id": "with-plan"}).json()
    assert sorted(b["allowance"]["period"] for b in buckets) == ["2026-06", "2026-07"]
