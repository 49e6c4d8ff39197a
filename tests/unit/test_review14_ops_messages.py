"""What the commands of the database say when they refuse is one line however long (logs and
grep read it: was wrapped at 80 columns when stderr is no terminal), printed as written (an id
with brackets is no markup), and an empty ``--source`` is refused (was: taken as no source,
the entities owned by the folder's path: a later load under the intended name pruned none)."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssrules.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ppv"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"BSSRULES_DATABASE_URL": ""})


def test_a_long_refusal_of_redeliver_stays_one_line(tmp_path: Path) -> None:
    hub = "hub-of-the-content-provider-for-the-connected-car-programme-in-the-region"
    result = run("redeliver", "--hub", hub, "--database-url", f"sqlite:///{tmp_path / 'bss.db'}")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: no EventSubscription with id '{hub}'"]


def test_a_long_refusal_of_bill_and_deliver_stays_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bss.db'}"
    period = "the month of June of the year two thousand and twenty-six, please"
    billed = run("bill", period, "--database-url", url)
    assert billed.exit_code == 2
    assert billed.stderr.splitlines() == [f"error: a billing period is a month written YYYY-MM, got '{period}'"]
    delivered = run("deliver", "--once", "--retention", "seventy-two hours and a little more", "--database-url", url)
    assert delivered.exit_code == 2
    assert len(delivered.stderr.splitlines()) == 1 and "'seventy-two hours and a little more'" in delivered.stderr


def test_an_unknown_schema_is_named_as_written() -> None:
    result = run("schema", "[red]rules")
    assert result.exit_code == 2
    assert result.stderr.strip() == "unknown schema '[red]rules'; available: catalog, rules (did you mean 'rules'?)"


def test_an_empty_source_is_refused_and_nothing_is_loaded(tmp_path: Path) -> None:
    database = tmp_path / "bss.db"
    result = run("load", str(EXAMPLE), "--source", "", "--database-url", f"sqlite:///{database}")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("--source is empty: give the name this load owns its entities under")
    assert not database.exists() or sqlite3.connect(database).execute("SELECT count(*) FROM catalog_entity").fetchone() == (0,)


def broken_database(tmp_path: Path, table: str) -> str:
    """A migrated database whose ``table`` is gone: every statement on it fails, as on a
    database that failed over or a disk that went away."""
    from bssrules.store import make_engine

    url = f"sqlite:///{tmp_path / 'bss.db'}"
    make_engine(url).dispose()
    with sqlite3.connect(tmp_path / "bss.db") as connection:
        connection.execute("PRAGMA foreign_keys=OFF")
        connection.execute(f"DROP TABLE {table}")
    return url


def test_deliver_once_on_a_failing_database_says_it_in_one_line(tmp_path: Path) -> None:
    result = run("deliver", "--once", "--database-url", broken_database(tmp_path, "delivery"))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: the database failed (no such table: delivery); run it again once "
                                          "the database is back"]


def test_the_dispatcher_outlives_a_failing_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        raise KeyboardInterrupt  # (the operator stops it after its first wait)

    monkeypatch.setattr(time, "sleep", wait)
    result = run("deliver", "--database-url", broken_database(tmp_path, "delivery"))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["warning: the database failed (no such table: delivery); trying again in 5 s"]
    assert waits == [5]


def test_redeliver_on_a_failing_database_says_it_in_one_line(tmp_path: Path) -> None:
    result = run("redeliver", "--hub", "h1", "--database-url", broken_database(tmp_path, "resource"))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0].startswith("error: the database failed (no such table")
    assert len(result.stderr.splitlines()) == 1
