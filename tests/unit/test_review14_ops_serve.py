"""``bssrules serve`` finds what would stop its workers' start before it starts them, and says
it in one line, exit 2: a setting of the environment that is wrong, a port already taken, a
database that cannot be used, an administrator's key of the wrong shape (was: each worker
printed a page of traceback and uvicorn exited 3 — or, for BSSRULES_MAX_BODY_BYTES, the
server started and answered 500 to every request, and for BSSRULES_RATING_LEADERS=0 every
usage waited for ever). It migrates the database once, before the workers start."""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from bssrules.cli import app

KEY = "bss_abcdef123456_" + "k" * 43
SETTINGS = ["BSSRULES_DATABASE_URL", "BSSRULES_ADMIN_KEY", "BSSRULES_AUTH", "BSSRULES_GC", "BSSRULES_ORDER_MAX_BACKDATE",
            "BSSRULES_RATING_LEADERS", "BSSRULES_MAX_BODY_BYTES", "BSSRULES_POOL_SIZE"]


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The servers uvicorn was asked to run (none is run)."""
    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: runs.append(options))
    for name in SETTINGS:  # (set first: what serve sets for its workers is undone after the test)
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return runs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(database: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["serve", "--port", str(free_port()), "--database-url", f"sqlite:///{database}",
                                    *args], env=env)


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("name, value, expected", [
    ("BSSRULES_RATING_LEADERS", "0", "BSSRULES_RATING_LEADERS must be a whole number of batches of usages a "
                                     "worker rates at once, 1 or more (default 1); got '0'"),
    ("BSSRULES_RATING_LEADERS", "two", "got 'two'"),
    ("BSSRULES_MAX_BODY_BYTES", "4MB", "BSSRULES_MAX_BODY_BYTES must be a whole number of bytes of a request body"),
    ("BSSRULES_GC", "often", "BSSRULES_GC='often': expected 'default' or three positive integers"),
    ("BSSRULES_ORDER_MAX_BACKDATE", "a week", "BSSRULES_ORDER_MAX_BACKDATE: 'a week' is not a duration"),
    ("BSSRULES_ADMIN_KEY", "let-me-in", "BSSRULES_ADMIN_KEY must look like bss_"),
])
def test_a_wrong_setting_is_said_before_any_worker_starts(started: list[dict[str, Any]], tmp_path: Path,
                                                          name: str, value: str, expected: str) -> None:
    result = serve(tmp_path / "bss.db", env={name: value})
    assert result.exit_code == 2
    assert expected in one_line(result)
    assert started == []


def test_a_port_taken_is_said_before_the_database_is_touched(started: list[dict[str, Any]], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port), "--database-url",
                                          f"sqlite:///{tmp_path / 'bss.db'}"])
    assert result.exit_code == 2
    assert one_line(result) == (f"error: port {port} on 127.0.0.1 is already in use (another server?): stop it, "
                                f"or give another --port")
    assert started == [] and not (tmp_path / "bss.db").exists()


def test_a_database_that_cannot_be_used_is_said(started: list[dict[str, Any]], tmp_path: Path) -> None:
    result = serve(tmp_path / "missing" / "bss.db")
    assert result.exit_code == 2
    assert "cannot open the SQLite database" in one_line(result)
    assert started == []


def test_the_database_is_migrated_and_the_key_stored_once_before_the_workers(started: list[dict[str, Any]],
                                                                           tmp_path: Path) -> None:
    database = tmp_path / "bss.db"
    result = serve(database, "--workers", "2", env={"BSSRULES_ADMIN_KEY": KEY})
    assert result.exit_code == 0, result.output
    assert len(started) == 1 and started[0]["workers"] == 2
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        kinds = connection.execute("SELECT count(*) FROM resource WHERE id = 'admin'").fetchone()
    assert kinds == (1,)
    assert os.environ["BSSRULES_DATABASE_URL"] == f"sqlite:///{database}"  # what the workers open


def test_a_decision_cache_setting_that_is_no_number_is_said_too(tmp_path: Path) -> None:
    # read when the workers import the rules: in a process of its own, as a server's
    command = [sys.executable, "-m", "bssrules.cli", "serve", "--port", str(free_port()),
               "--database-url", f"sqlite:///{tmp_path / 'bss.db'}"]
    env = {**os.environ, "BSSRULES_DECISION_CACHE": "lots"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: BSSRULES_DECISION_CACHE must be a whole number of decisions (0: no cache), "
                                   "got 'lots'")


NO_ADMINISTRATOR = ("warning: the database has no administrator yet: every call will be refused (401) and nobody "
                    "can register a partner; start the server with BSSRULES_ADMIN_KEY=$(bssrules admin-key) once")


def test_a_database_without_administrator_served_without_a_key_is_warned_of(started: list[dict[str, Any]],
                                                                            tmp_path: Path) -> None:
    database = tmp_path / "bss.db"
    first = serve(database)
    assert first.exit_code == 0 and len(started) == 1  # (it serves: the partners, if any, may call)
    assert first.stderr.strip() == NO_ADMINISTRATOR
    assert serve(database, env={"BSSRULES_ADMIN_KEY": KEY}).stderr.strip() == ""
    assert serve(database).stderr.strip() == ""  # the administrator is in the database now


def test_no_administrator_is_no_warning_when_keys_are_off(started: list[dict[str, Any]], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSSRULES_AUTH", "off")
    assert serve(tmp_path / "bss.db").stderr.strip() == ""


def test_a_database_that_fails_as_the_key_is_stored_is_said(started: list[dict[str, Any]], tmp_path: Path) -> None:
    from bssrules.store import make_engine

    database = tmp_path / "bss.db"
    make_engine(f"sqlite:///{database}").dispose()
    with sqlite3.connect(database) as connection:  # migrated, and then its partners' table lost
        connection.execute("PRAGMA foreign_keys=OFF")
        connection.execute("DROP TABLE resource")
    result = serve(database, env={"BSSRULES_ADMIN_KEY": KEY})
    assert result.exit_code == 2
    assert one_line(result) == "error: the database failed (no such table: resource); start again once it is back"
    assert started == []
