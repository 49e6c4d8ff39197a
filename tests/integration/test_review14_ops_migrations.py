"""The workers of a server (or the servers of a deployment) that start together on a new
PostgreSQL database all migrate it: they do so one after the other, under an advisory lock
(was: they created the same tables at once, all but one failed on a duplicate key, and
`bssrules serve --workers 2` on a new database stopped: "Child process failed to start")."""
from __future__ import annotations

import subprocess
import sys
import time
import uuid
from typing import Iterator

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from bssrules.store import database_url, make_engine

pytestmark = pytest.mark.postgres
STARTING_TOGETHER = 4


@pytest.fixture
def new_database(postgres_server_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own, empty: no migration has run on it."""
    server = make_url(database_url(postgres_server_url))
    name = f"bssrules_test_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# each a process of its own, as the workers of a server are: they begin at the same instant
START = """
import sys, time
from bssrules.store import make_engine
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
make_engine(sys.argv[1]).dispose()
"""


def test_workers_started_together_on_a_new_database_all_migrate_it(new_database: str) -> None:
    at = time.time() + 5  # (after every process imported bssrules)
    starts = [subprocess.Popen([sys.executable, "-c", START, new_database, str(at)], stderr=subprocess.PIPE,
                               text=True) for _ in range(STARTING_TOGETHER)]
    failures = [stderr.strip().splitlines()[-1] for stderr in (start.communicate(timeout=120)[1] for start in starts)
                if stderr.strip()]
    assert failures == [] and [start.returncode for start in starts] == [0] * STARTING_TOGETHER
    check = create_engine(new_database)
    try:
        with check.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert "catalog_entity" in inspect(check).get_table_names()
    finally:
        check.dispose()


def test_what_postgresql_says_is_one_line_without_the_sql(new_database: str) -> None:
    from sqlalchemy.exc import DBAPIError

    from bssrules.store.db import one_line

    engine = create_engine(new_database)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1\nFROM no_such_table"))
    except DBAPIError as exc:
        said = one_line(exc)
    finally:
        engine.dispose()
    assert said == 'relation "no_such_table" does not exist'  # (not its LINE 2: … and caret)
