"""checkProductConfiguration and queryProductConfiguration refuse an attribute that is a
misspelling of one they read (``chanel``): 400 with the name meant. Left alone, the check
answered for a basket sold through no channel — the channel's violation silently missing.
An attribute that is close to none they read (a TMF extension) is still left alone."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "/tmf-api/productConfigurationManagement/v5"
ITEMS = [{"id": "1", "action": "add", "productOffering": {"id": "classic-phone"}}]


@pytest.fixture
def world(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    with TestClient(create_app(engine=engine)) as client:
        yield client


@pytest.mark.parametrize("operation", ["checkProductConfiguration", "queryProductConfiguration"])
@pytest.mark.parametrize("field,meant", [("chanel", "channel"), ("requestedDte", "requestedDate"),
                                         ("relatedparty", "relatedParty")])
def test_a_misspelt_attribute_is_a_400_with_the_name_meant(world: Any, operation: str, field: str,
                                                           meant: str) -> None:
    response = world.post(f"{CONFIG}/{operation}", json={"cartItem": ITEMS, field: {"id": "web"}})
    assert response.status_code == 400, response.text
    assert f"(did you mean '{meant}'?)" in response.json()["message"]


@pytest.mark.parametrize("operation", ["checkProductConfiguration", "queryProductConfiguration"])
def test_an_extension_attribute_is_left_alone(world: Any, operation: str) -> None:
    response = world.post(f"{CONFIG}/{operation}", json={"cartItem": ITEMS, "instantSync": True,
                                                          "@baseType": "x"})
    assert response.status_code == 200, response.text
