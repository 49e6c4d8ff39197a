"""A project of the roaming example's catalog and the given usage rules, served with one
subscription: Ana (individual), her billing account ba-ana, and her active product line-1
(mobile-data-plan, started 2026-06-01). For the online tests of one rule set: a plain
module, imported by name like tests/unit/configurator/basket_catalogs.py."""
from __future__ import annotations

import json
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from bssrules.rules.project import load_project_texts
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
USAGE = "/tmf-api/usageManagement/v4/usage"
PARTY, ACCOUNT, INVENTORY = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4", "/tmf-api/productInventory/v4/product"


def ok(response: Any, status: int = 201) -> Any:
    """The answer's JSON (exact decimals), once its status is the one expected."""
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


@contextmanager
def one_line(engine: Any, rules: str, source: str) -> Iterator[Any]:
    """A test client of the app over ``engine``, the project loaded as ``source``, line-1 made."""
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    catalog = (ROOT / "examples" / "roaming" / "catalog" / "catalog.yaml").read_text(encoding="utf-8")
    project = load_project_texts({"catalog/catalog.yaml": catalog, "rules/rules.yaml": rules})
    with UnitOfWork(engine) as uow:
        services.load_project(uow, project, source)
    with TestClient(create_app(engine=engine)) as client:
        ok(client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "X"}))
        ok(client.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-ana", "name": "ba-ana", "relatedParty": [
            {"id": "ana", "name": "ana", "role": "owner", "@referredType": "Individual"}]}))
        ok(client.post(INVENTORY, json={
            "id": "line-1", "status": "active", "startDate": "2026-06-01T00:00:00Z",
            "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
            "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}))
        yield client
