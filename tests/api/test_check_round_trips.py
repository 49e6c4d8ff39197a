"""A configuration check reads the catalog revision its worker's runtime is keyed by along
with the party it reads anyway (issue 13, item 2): no statement of its own, and a catalog
changed by another worker is still seen by the next check. On both tiers."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import event

from bssrules.api import create_app
from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
BODY = {"cartItem": [{"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "ipad-mini-std"},
                      "product": {"productCharacteristic": [{"name": "memorySize", "value": "32GB"}]}}],
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
        "channel": {"id": "shop"}, "requestedDate": "2026-09-01"}


def _load(engine: Any, folder: Path, source: str) -> None:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(folder), source)


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    _load(engine, ROOT / "examples" / "devices", "devices")
    with TestClient(create_app(engine=engine)) as client:
        response = client.post("/tmf-api/party/v4/individual", json={"id": "ana", "givenName": "Ana",
                                                                      "familyName": "Silva"})
        assert response.status_code == 201
        yield client


def _statements(engine: Any, client: Any, body: dict[str, Any]) -> tuple[Any, list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.post(CHECK, json=body)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return response, seen


def _alone(statement: str) -> bool:
    """A statement that reads the catalog revision and nothing else."""
    return statement.startswith("SELECT counter.value FROM counter")


def test_a_check_for_a_party_reads_the_catalog_revision_with_the_party(engine: Any, http: Any) -> None:
    http.post(CHECK, json=BODY)  # the first check compiles the rules (it reads the revision for that)
    response, statements = _statements(engine, http, BODY)
    assert response.status_code == 200, response.text
    assert not [s for s in statements if _alone(s)], statements
    assert any("catalog_revision" in s and "FROM resource" in s for s in statements), statements


def test_a_check_without_a_party_still_reads_the_revision(engine: Any, http: Any) -> None:
    body = {key: value for key, value in BODY.items() if key != "relatedParty"}
    http.post(CHECK, json=body)
    response, statements = _statements(engine, http, body)
    assert response.status_code == 200, response.text
    assert [s for s in statements if _alone(s)], statements


def test_a_catalog_changed_by_another_worker_is_seen_by_the_next_check(engine: Any, http: Any,
                                                                       tmp_path: Path) -> None:
    before = http.post(CHECK, json=BODY).json()
    assert "notSellable" not in {v["code"] for v in before["violation"]}, before
    # Another worker (a load here) withdraws the offering: the revision moves on.
    import shutil

    folder = tmp_path / "devices"
    shutil.copytree(ROOT / "examples" / "devices", folder)
    offerings = folder / "catalog" / "offerings.yaml"
    text = offerings.read_text(encoding="utf-8")
    marker = "  - id: ipad-mini-std\n    name: iPad mini 16 GB\n"
    assert marker in text
    offerings.write_text(text.replace(marker, marker + "    lifecycleStatus: Retired\n"), encoding="utf-8")
    _load(engine, folder, "devices")
    after = http.post(CHECK, json=BODY).json()
    assert "notSellable" in {v["code"] for v in after["violation"]}, after


def test_a_check_reads_its_party_products_customer_and_payers_in_one_statement(engine: Any, http: Any) -> None:
    """The party, its customer record, its products and each payer's billing account, and the
    catalog revision: one statement for the whole check (it was five)."""
    for path, document in (("/tmf-api/party/v4/organization", {"id": "acme", "tradingName": "Acme"}),
                           ("/tmf-api/customerManagement/v4/customer",
                            {"id": "c-ana", "name": "Ana", "engagedParty": {"id": "ana", "@referredType": "Individual"}}),
                           ("/tmf-api/accountManagement/v4/billingAccount",
                            {"id": "ba-acme", "name": "Acme pays", "relatedParty": [{"id": "acme", "name": "Acme", "role": "owner", "@referredType": "Organization"}]}),
                           ("/tmf-api/productInventory/v4/product",
                            {"id": "p-1", "status": "active", "productOffering": {"id": "ipad-mini-std"},
                             "relatedParty": [{"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]})):
        assert http.post(path, json=document).status_code == 201, path
    body = {**BODY, "relatedParty": [*BODY["relatedParty"], {"id": "acme", "role": "payer"}]}
    http.post(CHECK, json=body)
    response, statements = _statements(engine, http, body)
    assert response.status_code == 200, response.text
    assert len(statements) == 1, statements
    assert "catalog_revision" in statements[0]


def test_on_sqlite_a_check_is_decided_on_the_event_loop_once_its_runtime_is_built(
        engine: Any, http: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite a check needs no thread: the event loop runs it, unless the runtime of the
    revision it reads is still to be built (seconds: the thread pool builds it, the loop serving
    others meanwhile). On PostgreSQL the thread pool waits on the network. Same answers."""
    from bssrules.api import deps

    handed: list[str] = []
    real = deps.run_in_threadpool

    async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(getattr(args[1], "__name__", "use case") if len(args) > 1 else "?")
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(deps, "run_in_threadpool", counted)
    first = http.post(CHECK, json=BODY)  # the runtime is built now (first check of this app)
    on_sqlite = engine.dialect.name == "sqlite"
    assert len(handed) == 1
    handed.clear()
    again = http.post(CHECK, json=BODY)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert len(handed) == (0 if on_sqlite else 1)
    bad = http.post(CHECK, json={**BODY, "relatedParty": [{"id": "nobody", "role": "customer"}]})
    assert bad.status_code == 422 and bad.json()["@type"] == "Error"  # errors as before, from the loop too
