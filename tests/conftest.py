"""Shared fixtures: database engines for the SQLite and PostgreSQL tiers, the API client.

The PostgreSQL tier runs when BSSRULES_TEST_POSTGRES_URL is set (``.ci/run`` sets it): the
session creates a database of its own there and drops it at the end. With
BSSRULES_REQUIRE_POSTGRES=1 an unreachable server fails the run instead of skipping.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bssrules.store.db import database_url, make_engine
from bssrules.store.tables import metadata

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# The suites of the single-party APIs call them as the operator, without keys; the partner
# suites (tests/api/test_partners_auth.py, the connected-car scenario) turn auth on explicitly.
os.environ.setdefault("BSSRULES_AUTH", "off")
# Delivery threads are started by the notification tests themselves (or driven pass by pass).
os.environ.setdefault("BSSRULES_DELIVERY", "off")
POSTGRES_URL = os.environ.get("BSSRULES_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("BSSRULES_REQUIRE_POSTGRES") == "1"


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"PostgreSQL tier: ON ({make_url(database_url(POSTGRES_URL)).render_as_string(hide_password=True)})"
    return "PostgreSQL tier: SKIPPED (set BSSRULES_TEST_POSTGRES_URL to run it; .ci/run does)"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session (dropped at the end)."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tier skipped: BSSRULES_TEST_POSTGRES_URL is not set")
    admin_url = make_url(database_url(POSTGRES_URL))
    name = f"bssrules_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (BSSRULES_REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def _postgres_engine(postgres_server_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_server_url)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: a SQLite file, then (when enabled) PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        yield engine
        engine.dispose()
    else:
        engine = request.getfixturevalue("_postgres_engine")
        _empty(engine)
        yield engine
        _empty(engine)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database only (for tests that do not depend on the database kind)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine):  # type: ignore[no-untyped-def]
    """An HTTP client on the app, over each database tier."""
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    with TestClient(create_app(engine=engine)) as test_client:
        yield test_client
