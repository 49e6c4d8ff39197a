"""A database that cannot be used — a URL that is no database URL, a driver that does not
exist, a server that is down, a SQLite file in a folder that is not there, a pool size that is
no number, a schema migrated by a newer bssrules — is said in one line that names it and says
what to do, and the command exits 2 having done nothing (was: a page of SQLAlchemy traceback
and exit 1, the same code as a catalog with errors)."""
from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.store import make_engine

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ppv"
CLOSED_PORT_URL = "postgresql://operator:s3cret-pw@127.0.0.1:1/bss"  # port 1: nothing listens there


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"BSSRULES_DATABASE_URL": "", **(env or {})})


def said_in_one_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("url, expected", [
    ("foo://bar", "'foo://bar' cannot be used"),
    ("not a url", "'not a url' cannot be used"),
])
def test_a_url_that_is_no_database_url_is_named_with_the_forms_expected(url: str, expected: str) -> None:
    result = run("load", str(EXAMPLE), "--database-url", url)
    assert result.exit_code == 2
    line = said_in_one_line(result)
    assert expected in line
    assert "sqlite:///FILE or postgresql://USER@HOST:PORT/DATABASE" in line


def test_a_server_that_is_down_is_named_without_its_password(tmp_path: Path) -> None:
    result = run("load", str(EXAMPLE), "--database-url", CLOSED_PORT_URL)
    assert result.exit_code == 2
    line = said_in_one_line(result)
    assert line.startswith("error: cannot reach the database 'postgresql+psycopg://operator:***@127.0.0.1:1/bss'")
    assert "check that the server runs" in line
    assert "s3cret-pw" not in result.output


def test_the_url_of_the_environment_is_read_as_the_option_is() -> None:
    result = run("bill", "2026-06", env={"BSSRULES_DATABASE_URL": "foo://bar"})
    assert result.exit_code == 2
    assert "'foo://bar' cannot be used" in said_in_one_line(result)


@pytest.mark.parametrize("command", [["bill", "2026-06"], ["deliver", "--once"], ["redeliver", "--hub", "h1"]])
def test_every_command_of_the_database_says_it_so(command: list[str]) -> None:
    result = run(*command, "--database-url", CLOSED_PORT_URL)
    assert result.exit_code == 2
    assert "cannot reach the database" in said_in_one_line(result)


def test_a_sqlite_file_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    result = run("load", str(EXAMPLE), "--database-url", f"sqlite:///{missing / 'bss.db'}")
    assert result.exit_code == 2
    line = said_in_one_line(result)
    assert f"the folder '{missing}' does not exist; create it" in line
    assert not missing.exists()


def test_a_pool_size_that_is_no_number_is_named() -> None:
    result = run("bill", "2026-06", "--database-url", CLOSED_PORT_URL, env={"BSSRULES_POOL_SIZE": "ten"})
    assert result.exit_code == 2
    assert "BSSRULES_POOL_SIZE must be a whole number of connections, 1 or more (default 10); got 'ten'" \
        in said_in_one_line(result)


def test_a_schema_of_a_newer_bssrules_is_said_and_left_as_it_is(tmp_path: Path) -> None:
    database = tmp_path / "bss.db"
    make_engine(f"sqlite:///{database}").dispose()
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    result = run("load", str(EXAMPLE), "--database-url", f"sqlite:///{database}")
    assert result.exit_code == 2
    line = said_in_one_line(result)
    assert "has a schema this bssrules does not know" in line and "0099_from_the_future" in line
    assert "run that version, or give another database" in line
    with sqlite3.connect(database) as connection:  # nothing loaded, the version kept
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("0099_from_the_future",)]
        assert connection.execute("SELECT count(*) FROM catalog_entity").fetchone() == (0,)


def test_make_engine_raises_one_error_the_callers_can_catch(tmp_path: Path) -> None:
    from bssrules.store.db import DatabaseUnavailable

    with pytest.raises(DatabaseUnavailable, match="cannot open the SQLite database"):
        make_engine(f"sqlite:///{tmp_path / 'missing' / 'bss.db'}")


def refuse_writes(database: Path, table: str, message: str) -> None:
    """The database refuses every new row of ``table`` (as a full disk or a lock would)."""
    with sqlite3.connect(database) as connection:
        connection.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END")


def test_a_load_the_database_fails_half_way_is_said_and_rolled_back(tmp_path: Path) -> None:
    database = tmp_path / "bss.db"
    make_engine(f"sqlite:///{database}").dispose()
    refuse_writes(database, "rule_set", "disk I/O error")  # (written after the catalog)
    result = run("load", str(EXAMPLE), "--database-url", f"sqlite:///{database}")
    assert result.exit_code == 1
    line = said_in_one_line(result)
    assert line.startswith("not loaded: the database failed (disk I/O error); the load was rolled back: run it again")
    assert "INSERT" not in result.output
    with sqlite3.connect(database) as connection:  # nothing of it kept: not the catalog written before
        assert connection.execute("SELECT count(*) FROM catalog_entity").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM rule_set").fetchone() == (0,)


def test_a_bill_run_the_database_fails_is_said_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "bss.db"
    make_engine(f"sqlite:///{database}").dispose()
    with sqlite3.connect(database) as connection:  # the bill run's first write: its lock
        connection.execute("CREATE TRIGGER refuse BEFORE UPDATE ON counter BEGIN SELECT RAISE(ABORT, 'database or "
                           "disk is full'); END")
    result = run("bill", "2026-06", "--database-url", f"sqlite:///{database}")
    assert result.exit_code == 2
    assert said_in_one_line(result) == ("error: the database failed (database or disk is full); the bill run was "
                                        "rolled back: run the month again once the database is back (it bills "
                                        "nothing twice)")


def test_a_server_that_never_answers_is_given_up_on_after_a_while() -> None:
    # a wedged host: the connection is accepted (the listen backlog), and nothing is ever said
    with socket.socket() as wedged:
        wedged.bind(("127.0.0.1", 0))
        wedged.listen()
        url = f"postgresql://postgres@127.0.0.1:{wedged.getsockname()[1]}/bss"
        began = time.monotonic()
        command = [sys.executable, "-m", "bssrules.cli", "load", str(EXAMPLE), "--database-url", url]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("bssrules load waited for a server that never answers for a minute and more")
    assert done.returncode == 2
    assert "(connection timeout expired); check that the server runs" in done.stderr
    assert time.monotonic() - began < 40


def test_a_database_of_another_application_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    database = tmp_path / "crm.db"
    with sqlite3.connect(database) as connection:  # a table of the same name, not bssrules'
        connection.execute("CREATE TABLE catalog_entity (sku TEXT PRIMARY KEY)")
    result = run("load", str(EXAMPLE), "--database-url", f"sqlite:///{database}")
    assert result.exit_code == 2
    line = said_in_one_line(result)
    assert "could not be migrated (table catalog_entity already exists)" in line
    assert line.endswith("give bssrules a database of its own (not one with another application's tables), "
                         "whose user may create tables")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == [("catalog_entity",),
                                                                                  ("sqlite_autoindex_catalog_entity_1",)]
