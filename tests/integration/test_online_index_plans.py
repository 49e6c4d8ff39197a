"""Online rating's two PostgreSQL functions find what a usage names by index lookups, never
by reading a whole table (migration 0013; issue 12).

Their statements are planned once per connection for arrays of unknown length; on tables of
a few thousand rows PostgreSQL read the whole subscription and bucket tables for a call that
names one subscription (about 5,000 rows per usage on the benchmark). The counts come from
``pg_stat_xact_user_tables`` (this connection's scans not yet counted in the totals), before
and after the two calls."""
from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from bssrules.services.records import BalanceChange, StoredAccumulator, StoredUsage, UsageWrite
from bssrules.store.db import downgrade, upgrade
from bssrules.store.online import OnlineRepository
from tests.integration.test_allowance_round_trips import USAGE, _data, http  # noqa: F401 - the fixture

MIGRATION = importlib.import_module("bssrules.store.migrations.versions.0013_online_functions_index_plans")
TABLES = ("subscription", "bucket", "accumulator", "usage_record", "rated_charge", "counter", "resource")


def _scans(connection: Connection) -> dict[str, tuple[int, int]]:
    """(sequential scans, index scans) per hot table, in this transaction so far."""
    rows = connection.execute(text("SELECT relname, seq_scan, coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables "
                                   "WHERE relname = ANY(:tables)"), {"tables": list(TABLES)})
    return {name: (int(seq), int(index)) for name, seq, index in rows}


@pytest.mark.postgres  # the plans of PostgreSQL's functions: the engine fixture on PostgreSQL only
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_a_usage_read_and_saved_reads_no_table_whole(http: TestClient, engine: Engine) -> None:  # noqa: F811
    assert engine.dialect.name == "postgresql"
    for n in range(3):  # a bucket, the subscription's row and stored usages to find (or not)
        assert http.post(USAGE, json=_data(f"u-{n}", "with-plan", "2026-03-0{}T10:00:00Z".format(n + 1))
                         ).status_code == 201
    now = dt.datetime(2026, 3, 5, 10, tzinfo=dt.timezone.utc)
    with engine.connect() as connection:
        before = _scans(connection)
        online = OnlineRepository(connection)
        state = online.read(["u-9", "u-1"], ["with-plan"], [("with-plan", "plan/volume", "2026-03")], None,
                            {"with-plan": now})
        assert set(state.usages) == {"u-1"} and state.buckets
        bucket = state.buckets[0]
        usage = StoredUsage("u-9", "with-plan", "rated", now, None, {"status": "rated"})
        online.save([UsageWrite(usage, balances=(BalanceChange("with-plan", bucket.id, bucket.remaining,
                                                               bucket.remaining - 1),),
                                accumulators=((None, StoredAccumulator("with-plan", "plan/volume", "2026-03",
                                                                       Decimal(1), Decimal(0), ())),),
                                revision=state.revisions["with-plan"])], now, commit=False)
        after = _scans(connection)
        connection.rollback()
    scans = {name: (seq - before.get(name, (0, 0))[0], index - before.get(name, (0, 0))[1])
             for name, (seq, index) in after.items()}
    assert {name: seq for name, (seq, _) in scans.items() if seq} == {}
    assert all(scans[name][1] > 0 for name in ("subscription", "bucket", "accumulator", "usage_record"))


@pytest.mark.postgres  # the plans of PostgreSQL's functions: the engine fixture on PostgreSQL only
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_the_settings_hold_for_the_two_functions_only_and_the_downgrade_resets_them(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"

    def settings() -> dict[str, list[str] | None]:
        with engine.connect() as connection:
            return {name: config for name, config in connection.execute(text(
                "SELECT proname, proconfig FROM pg_proc WHERE proname LIKE 'bssrules_online_%'"))}

    wanted = sorted(f"{name}={value}" for name, value in MIGRATION.SETTINGS.items())
    found = settings()
    assert {name: sorted(c for c in config or [] if c.startswith("enable_")) for name, config in found.items()} == {
        "bssrules_online_read": wanted, "bssrules_online_save": wanted}
    with engine.connect() as connection:  # outside the functions, the planner is as configured
        assert connection.execute(text("SHOW enable_seqscan")).scalar_one() == "on"
    try:
        downgrade(engine, "0012")
        assert all(not any(c.startswith("enable_") for c in config or []) for config in settings().values())
    finally:
        upgrade(engine)
    assert settings() == found
