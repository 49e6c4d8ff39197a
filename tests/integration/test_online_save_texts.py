"""The save of online rating stores the texts the worker made character for character
(migration 0013: the function parses its write once, as ``jsonb``, and takes those texts as
JSON strings — an embedded object would come out with its keys reordered), and still takes
an object embedded as a worker of the previous version sends it."""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bssrules.services import usage
from bssrules.services.rating_context import ContextCache
from bssrules.services.runtime import RuntimeCache
from bssrules.store import UnitOfWork
from tests.integration.test_online_rating import _movie, _ppv

ODD = ["it's", "back\\slash", 'dou"ble', "{\"a\": [1, 2]}", "é😀", "new\nline", "  ", "\u2028"]


def _stored(engine: Engine, usage_id: str) -> str:
    with engine.connect() as connection:
        found: str = connection.execute(text("SELECT document FROM usage_record WHERE id = :id"),
                                        {"id": usage_id}).scalar_one()
        return found


def test_a_usage_is_stored_as_the_very_text_it_is_answered_with(engine: Engine) -> None:
    _ppv(engine)
    bodies: list[dict[str, Any]] = [
        {**_movie("sub-0", id=f"t-{n}"), "description": value, "zz": {"b": value, "a": [value, 1.50, None]}}
        for n, value in enumerate(ODD)]
    with UnitOfWork(engine) as uow:
        answers = usage.create_usages(uow, RuntimeCache(), ContextCache(), bodies)
    for (answer, created), body in zip(answers, bodies):
        assert created and answer["status"] == "rated"
        stored = _stored(engine, body["id"])
        # the answer is the stored text with id, href and @type added
        assert getattr(answer, "json").startswith(stored[:-1] + ", \"id\": ")
        assert json.loads(stored)["description"] == body["description"]


@pytest.mark.postgres
def test_a_document_embedded_as_an_object_is_still_stored(_postgres_engine: Engine) -> None:
    """What a worker of the version before migration 0013 sends (a rolling restart)."""
    write = {"now": "2026-06-01T20:00:00+00:00", "r": [], "b": [], "a": [], "n": [], "c": [],
             "u": [["sub-x", "old-worker", "rejected", None, {"status": "rejected", "b": "it's", "a": [1, 2]}]]}
    with _postgres_engine.begin() as connection:
        assert connection.execute(text("SELECT bssrules_online_save(:p)"), {"p": json.dumps(write)}).scalar_one() == 1
        stored = connection.execute(text("SELECT document FROM usage_record WHERE id = 'old-worker'")).scalar_one()
        connection.execute(text("DELETE FROM usage_record WHERE id = 'old-worker'"))
    assert json.loads(stored) == {"status": "rejected", "b": "it's", "a": [1, 2]}
