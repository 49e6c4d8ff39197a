"""The app kept between tests (tests/conftest.py, ``app_for``) is given to each test as built:
what a test changed on it is put back, and a setting read when the app is built gives an app
of its own. Without this, the speed-up would make tests depend on the ones before them."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine

PROBE = "/tmf-api/productCatalogManagement/v4/productOffering/probe-of-the-fixture"


def test_a_route_state_or_middleware_left_by_a_test_is_gone_for_the_next(
        sqlite_engine: Engine, app_for: Callable[..., Any]) -> None:
    async def probe() -> dict[str, str]:
        return {"id": "probe"}

    with app_for(sqlite_engine) as app, TestClient(app) as client:
        routes = len(app.router.routes)
        app.router.routes.insert(0, APIRoute(PROBE, probe, methods=["GET"]))
        app.state.left_behind = True
        assert client.get(PROBE).status_code == 200
        assert app.middleware_stack is not None
    with app_for(sqlite_engine) as again, TestClient(again) as client:
        assert again is app  # kept, not built again
        assert len(again.router.routes) == routes and client.get(PROBE).status_code == 404
        assert not hasattr(again.state, "left_behind")
        assert again.state.runtime_cache is not None  # the lifespan made the state anew


def test_a_setting_read_when_the_app_is_built_gives_an_app_of_its_own(
        sqlite_engine: Engine, app_for: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSSRULES_AUTH", "off")
    with app_for(sqlite_engine) as open_app:
        assert open_app.state.auth_required is False
    monkeypatch.setenv("BSSRULES_AUTH", "on")
    with app_for(sqlite_engine) as closed_app, TestClient(closed_app) as client:
        assert closed_app is not open_app and closed_app.state.auth_required is True
        assert client.get("/tmf-api/productCatalogManagement/v4/productOffering").status_code == 401
    with app_for(sqlite_engine, auth=False) as explicit:
        assert explicit is not closed_app and explicit.state.auth_required is False


@pytest.mark.parametrize("turn", [1, 2])  # the second, on the same worker, sees the database emptied
def test_each_test_starts_on_an_empty_database(engine: Engine, app_for: Callable[..., Any], turn: int) -> None:
    with app_for(engine) as app, TestClient(app) as client:
        categories = "/tmf-api/productCatalogManagement/v4/category"
        assert client.get(categories).json() == []
        created = client.post(categories, json={"id": "left-by-a-test", "name": "Left"})
        assert created.status_code == 201, created.text


def test_the_api_keys_a_test_left_checked_are_forgotten_for_the_next(
        sqlite_engine: Engine, app_for: Callable[..., Any]) -> None:
    """create_app (not the lifespan) makes the store of the keys POST /usage has checked: a kept
    app gives each test an empty one, so no test rates with a key checked in an earlier one."""
    from bssrules.services.known_keys import KeptPrincipal

    with app_for(sqlite_engine, auth=True) as app:
        app.state.known_keys.put(("key-id", "secret-hash"), KeptPrincipal.__new__(KeptPrincipal))
        assert len(app.state.known_keys) == 1
    with app_for(sqlite_engine, auth=True) as again:
        assert again is app and len(again.state.known_keys) == 0
