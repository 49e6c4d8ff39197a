"""The online round trips inline their values as SQL literals (no adapter set up per call);
on PostgreSQL every text, however it is spelt, reaches the database as it was, and a usage
whose id holds quotes, backslashes or an array's punctuation is found again when resent."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bssrules.services import usage
from bssrules.services.rating_context import ContextCache
from bssrules.services.runtime import RuntimeCache
from bssrules.store import UnitOfWork
from bssrules.store.online import _inlined
from tests.integration.test_online_rating import _movie, _ppv

TRICKY = ["plain", "", "it's", "back\\slash", "\\", "\\\\\"", 'dou"ble', "{braces}", "a,b", "NULL", "null", " spaced ",
          "new\nline", "tab\t", "é😀", "''", "$$", "%(subs)s", "%s", "x'); DROP TABLE usage_record; --"]


def _raw(engine: Engine) -> Any:
    connection = engine.raw_connection()
    return connection, connection.driver_connection


@pytest.mark.postgres
def test_texts_and_arrays_reach_postgresql_as_they_were(_postgres_engine: Engine) -> None:
    connection, raw = _raw(_postgres_engine)
    try:
        instants = [dt.datetime(2026, 6, 1, 3, 4, 5, 123456, tzinfo=dt.timezone.utc), None]
        query = _inlined(raw, "SELECT %(a)s::text[], %(t)s::text, %(n)s::text, %(i)s::timestamptz[], %(e)s::text[]",
                         {"a": [*TRICKY, None], "t": "it's \\ \"x\"", "n": None, "i": instants, "e": []})
        assert raw.execute(query).fetchone() == ([*TRICKY, None], "it's \\ \"x\"", None, instants, [])
    finally:
        connection.rollback()
        connection.close()


@pytest.mark.postgres
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                              max_size=12), max_size=6))
def test_any_texts_reach_postgresql_as_they_were(_postgres_engine: Engine, texts: list[str]) -> None:
    connection, raw = _raw(_postgres_engine)
    try:
        one = texts[0] if texts else "x"
        assert raw.execute(_inlined(raw, "SELECT %(a)s::text[], %(t)s::text", {"a": texts, "t": one})
                           ).fetchone() == (texts, one)
    finally:
        connection.rollback()
        connection.close()


def test_a_usage_with_an_id_of_any_spelling_is_found_again_when_resent(engine: Engine) -> None:
    _ppv(engine)
    runtimes, contexts = RuntimeCache(), ContextCache()
    ids = [f"u-{n}-{text}" for n, text in enumerate(TRICKY) if "\n" not in text and "\t" not in text]
    with UnitOfWork(engine) as uow:
        first = usage.create_usages(uow, runtimes, contexts, [_movie("sub-0", id=i) for i in ids])
    assert [created for _, created in first] == [True] * len(ids)
    assert [u["id"] for u, _ in first] == ids
    with UnitOfWork(engine) as uow:
        again = usage.create_usages(uow, runtimes, contexts, [_movie("sub-0", id=i) for i in ids])
    assert [created for _, created in again] == [False] * len(ids)  # found: nothing rated twice
    assert [u["ratedBy"] for u, _ in again] == [u["ratedBy"] for u, _ in first]
