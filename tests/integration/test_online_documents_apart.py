"""Migration 0016: the save takes the usages' documents apart from its rows, and the read
answers a bucket's document only when rating needs it (PostgreSQL)."""
from __future__ import annotations

import importlib
import json
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from bssrules.services import usage
from bssrules.services.rating_context import ContextCache
from bssrules.services.runtime import RuntimeCache
from bssrules.store import UnitOfWork
from bssrules.store.online import _save_document
from tests.integration.test_online_batch_pass_over import engine  # noqa: F401 - the fixture
from tests.integration.test_online_rating import _movie

pytestmark = pytest.mark.postgres

MIGRATION = importlib.import_module("bssrules.store.migrations.versions.0016_online_documents_apart")
WRITE = {"now": "2026-06-01T20:00:00+00:00", "r": [], "b": [], "a": [], "n": [], "c": []}


def _read_buckets(connection: Any, subs: list[str]) -> list[Any]:
    found = connection.execute(text(
        "SELECT bssrules_online_read(CAST(:subs AS text[]), CAST(:ids AS text[]), CAST(:a AS text[]), "
        "CAST(:a AS text[]), CAST(:a AS text[]), NULL, CAST(:since AS timestamptz[]), false)"),
        {"subs": subs, "ids": [], "a": [], "since": [None] * len(subs)}).scalar_one()
    return sorted(json.loads(found)[2], key=lambda b: b[1])


def test_the_documents_sent_apart_are_stored_as_they_are_and_paired_in_order(engine: Engine) -> None:  # noqa: F811
    documents = ['{"a": "it\'s"}', '{"b": "back\\\\slash \\"quoted\\""}', '{"c": "é😀\\u001e"}']
    rows = {**WRITE, "u": [["sub-0", f"apart-{n}", "rated", None, d] for n, d in enumerate(documents)]}
    write, apart = _save_document(rows)
    assert apart == "\x1e".join(documents) and "apart-0" in write and "it's" not in write
    with engine.begin() as connection:
        assert connection.execute(text("SELECT bssrules_online_save(:p, :d)"), {"p": write, "d": apart}
                                  ).scalar_one() == 3
        stored = dict(connection.execute(text(
            "SELECT id, document FROM usage_record WHERE id LIKE 'apart-%'")).all())
        connection.execute(text("DELETE FROM usage_record WHERE id LIKE 'apart-%'"))
    assert stored == {f"apart-{n}": d for n, d in enumerate(documents)}


def test_a_document_holding_the_separator_goes_inside_the_write(engine: Engine) -> None:  # noqa: F811
    rows = {**WRITE, "u": [["sub-0", "inside-0", "rated", None, '{"a": 1}'],
                           ["sub-0", "inside-1", "rated", None, '{"a": "\x1e"}']]}  # (not a text we write)
    write, apart = _save_document(rows)
    assert apart is None
    with engine.begin() as connection:
        assert connection.execute(text("SELECT bssrules_online_save(:p, NULL)"), {"p": write}).scalar_one() == 2
        stored = dict(connection.execute(text("SELECT id, document FROM usage_record WHERE id LIKE 'inside-%'")).all())
        connection.execute(text("DELETE FROM usage_record WHERE id LIKE 'inside-%'"))
    assert stored == {"inside-0": '{"a": 1}', "inside-1": '{"a": "\x1e"}'}


def test_documents_that_do_not_pair_with_the_usages_write_nothing(engine: Engine) -> None:  # noqa: F811
    write, _ = _save_document({**WRITE, "u": [["sub-0", "pair-0", "rated", None, "{}"],
                                              ["sub-0", "pair-1", "rated", None, "{}"]]})
    with engine.connect() as connection:
        with pytest.raises(Exception) as refused:
            connection.execute(text("SELECT bssrules_online_save(:p, :d)"), {"p": write, "d": "{}"})
        assert isinstance(refused.value.orig, psycopg.errors.InvalidParameterValue)  # type: ignore[attr-defined]
        assert "2 usages, 1 documents" in str(refused.value)
        connection.rollback()
        assert connection.execute(text("SELECT count(*) FROM usage_record WHERE id LIKE 'pair-%'")).scalar_one() == 0


def test_the_read_answers_the_document_of_a_bucket_only_when_rating_reads_it(engine: Engine) -> None:  # noqa: F811
    """A bucket serving several usage types lists them in its document (its usage_type is
    null): rating must still see them — a money bucket for voice alone, first by precedence,
    does not pay for a movie."""
    voice = {"id": "voice-only", "usageTypes": ["voice"], "remainingValue": {"amount": 50, "units": "EUR"}}
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO bucket (subscription, id, unit, remaining, scale, floor, floor_scale, precedence, usage_type, "
            "valid_from, valid_to, status, version, created, last_update, partner_id, document) VALUES ('sub-0', "
            "'voice-only', 'EUR', 5000, 2, NULL, 0, 1, NULL, NULL, NULL, 'active', 1, now(), now(), NULL, :doc)"),
            {"doc": json.dumps(voice)})
        connection.execute(text("UPDATE subscription SET revision = revision + 1 WHERE id = 'sub-0'"))
    with engine.connect() as connection:
        buckets = _read_buckets(connection, ["sub-0", "sub-1"])
        connection.rollback()
    assert [(b[1], b[16]) for b in buckets] == [("bucket-0", {}), ("bucket-1", {}), ("voice-only", voice)]
    with UnitOfWork(engine) as uow:
        (answer, created), = usage.create_usages(uow, RuntimeCache(), ContextCache(), [_movie("sub-0", id="m-1")])
    assert created and answer["status"] == "rated"
    assert [b["id"] for b in answer["ratedBy"]["bucket"]] == ["bucket-0"]
    with engine.connect() as connection:
        left = connection.execute(text("SELECT remaining, scale FROM bucket WHERE id = 'voice-only'")).one()
    assert Decimal(left.remaining).scaleb(-left.scale) == 50


def test_the_migration_keeps_the_plan_settings_and_the_save_of_before(engine: Engine) -> None:  # noqa: F811
    with engine.connect() as connection:
        configs = dict(connection.execute(text(
            "SELECT pronargs, proconfig FROM pg_proc WHERE proname = 'bssrules_online_save'")).all())
        read = connection.execute(text(
            "SELECT proconfig FROM pg_proc WHERE proname = 'bssrules_online_read' AND pronargs = 8")).scalar_one()
    assert set(configs) == {1, 2}  # the one-argument save stays, for workers of the previous version
    for config in (configs[1], configs[2], read):
        for name, value in MIGRATION._PREVIOUS_SAVE.SETTINGS.items():
            assert f"{name}={value}" in config, config
