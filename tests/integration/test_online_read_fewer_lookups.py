"""Migration 0015: the online read finds each subscription once, and answers what the read of
migration 0014 answered — for subscriptions locked, passed over (another transaction holds
them) and unknown, with and without ``skip`` (PostgreSQL)."""
from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.integration.test_online_batch_pass_over import engine  # noqa: F401 - the fixture

pytestmark = pytest.mark.postgres

BEFORE = importlib.import_module("bssrules.store.migrations.versions.0014_online_read_skip_locked")
NOW = importlib.import_module("bssrules.store.migrations.versions.0015_online_read_fewer_lookups")
SIGNATURE = "(text[], text[], text[], text[], text[], text, timestamptz[], boolean)"


def _call(connection: Any, function: str, subs: list[str], skip: bool) -> Any:
    found = connection.execute(text(
        f"SELECT {function}(CAST(:subs AS text[]), CAST(:ids AS text[]), CAST(:a_sub AS text[]), "
        "CAST(:a_acc AS text[]), CAST(:a_period AS text[]), CAST(:partner AS text), CAST(:since AS timestamptz[]), "
        ":skip)"), {"subs": subs, "ids": ["no-such-usage"], "a_sub": [subs[0]], "a_acc": ["ppv-normal/none"],
                     "a_period": ["2026-06"], "partner": None, "since": [None] * len(subs), "skip": skip}).scalar_one()
    # (each part's rows in a set order: the buckets' aggregate names none; the buckets'
    # documents aside: since migration 0016 the read answers one only when rating reads it)
    parts = json.loads(found)
    parts[2] = [bucket[:16] for bucket in parts[2]]
    return [sorted(part, key=json.dumps) if isinstance(part, list) else part for part in parts]


def test_the_read_answers_as_the_read_before_it(engine: Engine) -> None:  # noqa: F811
    with engine.begin() as connection:  # the read of migration 0014, beside the new one
        connection.exec_driver_sql(BEFORE.READ.replace("bssrules_online_read(", "bssrules_online_read_0014(", 1)
                                   .replace("%", "%%"))  # (psycopg reads % as a placeholder)
    subs = sorted(["sub-0", "sub-1", "sub-3", "unknown-subscription"])
    try:
        with engine.connect() as holder, engine.connect() as reader:
            holder.execute(text("SELECT id FROM subscription WHERE id = 'sub-1' FOR UPDATE"))  # held meanwhile
            answers = {}
            for function in ("bssrules_online_read", "bssrules_online_read_0014"):
                answers[function] = _call(reader, function, subs, skip=True)
                reader.rollback()
            locked, _, buckets, _, _, _, passed = answers["bssrules_online_read"]
            assert [row[0] for row in locked] == ["sub-0", "sub-3"] and passed == ["sub-1"]
            assert sorted(b[0] for b in buckets) == ["sub-0", "sub-3"]  # nothing read for the one passed over
            assert answers["bssrules_online_read"] == answers["bssrules_online_read_0014"]
            holder.rollback()
            for function in ("bssrules_online_read", "bssrules_online_read_0014"):  # waiting: none passed over
                answers[function] = _call(reader, function, subs, skip=False)
                reader.rollback()
            assert answers["bssrules_online_read"] == answers["bssrules_online_read_0014"]
            assert [row[0] for row in answers["bssrules_online_read"][0]] == ["sub-0", "sub-1", "sub-3"]
            every = sorted(f"sub-{i}" for i in range(5))
            assert _call(reader, "bssrules_online_read", every, skip=True) == \
                _call(reader, "bssrules_online_read_0014", every, skip=True)  # all locked: passed is not looked for
            reader.rollback()
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS bssrules_online_read_0014{SIGNATURE}")


def test_the_replaced_read_keeps_the_plan_settings(engine: Engine) -> None:  # noqa: F811
    """CREATE OR REPLACE drops what ALTER FUNCTION set: the migration sets it again."""
    with engine.connect() as connection:
        config = connection.execute(text(
            "SELECT proconfig FROM pg_proc WHERE proname = 'bssrules_online_read' AND pronargs = 8")).scalar_one()
    for name, value in BEFORE._PLANS.SETTINGS.items():
        assert f"{name}={value}" in config, config
    assert "subs_" not in NOW.READ and "NOT x.sub = ANY(passed)" in NOW.READ
