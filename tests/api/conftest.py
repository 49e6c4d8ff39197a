"""API test fixtures: a client whose every response is contract-checked, the example catalogs,
the allowances example with its customer.

``client`` here wraps the ``client`` of tests/conftest.py (one per database tier): an httpx
response hook checks each response against the TMF620 contract of its method, path and
status (tests/api/tmf_contract.py) before the test sees it, so no test can forget the check.
The contracts applied are recorded on ``client.contract_checks``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.services import catalog as services
from bssrules.catalog.catalog import Catalog
from bssrules.catalog.loader import load_catalog
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork

try:  # tests/api as a package, or (pytest's default) as a rootdir-less folder on sys.path
    from .tmf_contract import Contract, check_response
except ImportError:
    from tmf_contract import Contract, check_response  # type: ignore[no-redef]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_SOURCES = ("connected_car", "devices")
ANA = {"id": "ana", "givenName": "Ana", "familyName": "S"}
ANA_ACCOUNT = {"id": "ba-ana", "name": "Ana", "relatedParty": [
    {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}


@pytest.fixture
def client(client: Any) -> Any:
    """The app's TestClient (each tier) with the TMF620 contract checked on every response."""
    checks: list[tuple[str, str, int, Contract]] = []

    def contract_hook(response: httpx.Response) -> None:
        __tracebackhide__ = True
        contract = check_response(response)
        checks.append((response.request.method, response.request.url.path, response.status_code, contract))

    client.event_hooks = {**client.event_hooks,
                          "response": [*client.event_hooks.get("response", []), contract_hook]}
    client.contract_checks = checks
    return client


@pytest.fixture(scope="session")
def example_catalogs() -> dict[str, Catalog]:
    """The example folders parsed once per session (entities are immutable)."""
    return {source: load_catalog(EXAMPLES / source / "catalog") for source in EXAMPLE_SOURCES}


@pytest.fixture
def examples(engine: Engine, example_catalogs: dict[str, Catalog]) -> Catalog:
    """Both example catalogs loaded into the test database (each under its folder name as
    source); returns everything loaded, as read from the YAML (independently of the store)."""
    merged = Catalog()
    for source, catalog in example_catalogs.items():
        with UnitOfWork(engine) as uow:
            report = services.load_catalog(uow, catalog, source)
        assert len(report.created) == len(catalog), f"example {source} did not load into an empty database"
        for entity in catalog:
            assert merged.get(entity.kind, entity.id) is None, f"examples share {entity.kind} '{entity.id}'"
            merged.add(entity)
    return merged


@pytest.fixture
def allowances_client(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    """examples/allowances loaded (plan-3gb: 12.00 EUR a month including 3 GB, then 0.01 EUR/MB;
    no rule set names it), the individual Ana (``ana``) and her billing account ``ba-ana``: a
    client of the app on it (each tier; its responses not contract-checked, unlike ``client``)."""
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(EXAMPLES / "allowances"), "allowances")
    with app_for(engine) as app, TestClient(app) as http:
        for path, body in (("/tmf-api/party/v4/individual", ANA),
                           ("/tmf-api/accountManagement/v4/billingAccount", ANA_ACCOUNT)):
            response = http.post(path, json=body)
            assert response.status_code == 201, response.text
        yield http
