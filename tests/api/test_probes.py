"""The liveness and readiness probes: open without a key, outside the TMF APIs; ``/ready``
answers 503 with the TMF error body when the database does not answer (an orchestrator then
sends the worker no requests), and 200 again when it does."""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from bssrules import __version__
from bssrules.api.app import create_app


@pytest.fixture
def keyed(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BSSRULES_DELIVERY", "off")
    return create_app(engine=engine, auth=True)


def test_the_probes_answer_without_a_key(keyed: Any) -> None:
    with TestClient(keyed) as client:
        assert client.get("/health").json() == {"status": "up", "version": __version__}
        assert client.get("/ready").json() == {"status": "ready", "version": __version__}
        # (the TMF APIs still need one)
        assert client.get("/tmf-api/productCatalogManagement/v4/productOffering").status_code == 401


def test_ready_says_503_while_the_database_does_not_answer(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSSRULES_DELIVERY", "off")
    app = create_app(engine=engine, auth=False)
    with TestClient(app) as client:
        assert client.get("/ready").status_code == 200
        app.state.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/nothing")  # (a port nobody serves)
        response = client.get("/ready")
        assert response.status_code == 503, response.text
        body = response.json()
        assert (body["code"], body["status"], body["reason"]) == ("databaseUnavailable", "503", "Service Unavailable")
        assert body["message"].startswith("the database does not answer: ") and "\n" not in body["message"]
        assert client.get("/health").status_code == 200  # the process is up all the same
        app.state.engine = engine  # the database back
        assert client.get("/ready").status_code == 200
