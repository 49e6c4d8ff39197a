"""The workers of one server start together, each making sure the admin key opens the admin
partner: the one that loses the race for the row runs again and finds it, and the server
starts (was: that worker's start failed — KeyTaken, 'a partner with id admin already exists'
— and uvicorn stopped the server; seen once in four starts of the benchmark with 2 workers)."""
from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.api.app import create_app
from bssrules.services import partners
from bssrules.store import UnitOfWork

KEY = "bss_abcdef123456_" + "k" * 43


def _start_together(engine: Engine, count: int) -> list[BaseException | None]:
    """``count`` apps on one database started at the same moment; what each start raised."""
    start, outcomes = threading.Barrier(count), [None] * count

    def run(slot: int) -> None:
        app = create_app(engine=engine, auth=True, admin_key=KEY)
        start.wait()
        try:
            with TestClient(app):
                pass
        except BaseException as exc:  # noqa: BLE001 - the start's failure is the outcome
            outcomes[slot] = exc

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes  # type: ignore[return-value]


def test_workers_started_together_all_start_and_the_key_is_kept_once(engine: Engine,
                                                                      monkeypatch: Any) -> None:
    monkeypatch.setenv("BSSRULES_DELIVERY", "off")
    for _ in range(5):  # (a race: several rounds, each on an empty database)
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM resource_attribute WHERE kind = 'partner'")
            connection.exec_driver_sql("DELETE FROM resource WHERE kind = 'partner'")
        assert _start_together(engine, 4) == [None] * 4
        with UnitOfWork(engine) as uow:
            admin = uow.resources.get("partner", "admin")
        assert admin is not None and [k["id"] for k in admin.document["key"]] == ["abcdef123456"]


def test_the_key_given_again_is_not_added_twice(engine: Engine) -> None:
    factory = lambda: UnitOfWork(engine)  # noqa: E731
    partners.ensure_admin_at_start(factory, KEY)
    partners.ensure_admin_at_start(factory, KEY)
    with UnitOfWork(engine) as uow:
        admin = uow.resources.get("partner", "admin")
    assert admin is not None and len(admin.document["key"]) == 1


OTHER = "bss_fedcba654321_" + "z" * 43


def test_a_new_start_key_replaces_the_one_the_server_was_started_with_before(engine: Engine) -> None:
    """Started with K1, then with K2 (K1 leaked): K1 no longer opens the API — it did, and only
    a revoke through the API closed it. A key the administrator added through the API stays."""
    factory = lambda: UnitOfWork(engine)  # noqa: E731
    partners.ensure_admin_at_start(factory, KEY)
    with UnitOfWork(engine) as uow:
        added = partners.new_key(uow, "admin")
    partners.ensure_admin_at_start(factory, OTHER)
    with UnitOfWork(engine) as uow:
        admin = uow.resources.get("partner", "admin")
        assert admin is not None
        kept = [k["id"] for k in admin.document["key"]]
        assert kept == [added.split("_")[1], "fedcba654321"]
        assert partners.authenticate(uow, OTHER) is not None
        assert partners.authenticate(uow, added) is not None
        assert partners.authenticate(uow, KEY) is None
