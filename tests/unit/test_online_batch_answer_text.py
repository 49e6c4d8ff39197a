"""A batch posted over HTTP is answered with its usages' JSON texts, made without their
dicts (:func:`bssrules.services.usage.create_usage_texts`): each text is, character for
character, the one the dict-making path answers with, and what is stored is the same text."""
from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules import jsontext
from bssrules.services import usage
from bssrules.services.records import StoredUsage

from tests.unit.test_online_batch_text import BODIES, NOW, RESULTS, json_values

IDS = ["u1", "é/ \"x\"", "a?b#c", "😀", "3f2c1e9a-0b7d-4c55-9a1e-2f3b4c5d6e7f", "a b", "~._-!$&'()*+,;=:@"]


def _stored(usage_id: str, body: dict[str, Any], name: str, text_only: bool) -> StoredUsage:
    document = usage._stored_document(body, RESULTS[name], NOW, frozenset({"bucket-1", "b"}), (),
                                      usage._Written(NOW), text_only)
    return StoredUsage(usage_id, "sub-1", RESULTS[name].status, NOW, None, document)


@pytest.mark.parametrize("name", sorted(RESULTS))
@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_the_text_alone_is_the_text_of_the_document(body: dict[str, Any], name: str) -> None:
    alone, whole = _stored("u1", body, name, True), _stored("u1", body, name, False)
    assert alone.document.json == whole.document.json  # type: ignore[attr-defined]
    assert alone.document.json == jsontext.dumps(whole.document, sort_keys=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize("usage_id", IDS)
@pytest.mark.parametrize("name", sorted(RESULTS))
def test_the_answer_text_is_the_answers(usage_id: str, name: str) -> None:
    for body in BODIES.values():
        alone, whole = _stored(usage_id, body, name, True), _stored(usage_id, body, name, False)
        answer = usage._answer(whole)
        text = getattr(answer, "json", None) or jsontext.dumps(answer)
        assert usage._answer_text(alone) == text
        assert jsontext.loads(text) == jsontext.loads(jsontext.dumps(usage.render_usage(whole)))


@settings(max_examples=150, deadline=None)
@given(extra=st.dictionaries(st.text(max_size=12), json_values, max_size=6), name=st.sampled_from(sorted(RESULTS)),
       usage_id=st.text(min_size=1, max_size=20))
def test_any_body_and_id_give_the_same_answer_text(extra: dict[str, Any], name: str, usage_id: str) -> None:
    body = {**BODIES["plain"], **{k: v for k, v in extra.items() if not any("\ud800" <= c <= "\udfff" for c in k)}}
    alone, whole = _stored(usage_id, body, name, True), _stored(usage_id, body, name, False)
    answer = usage._answer(whole)
    assert usage._answer_text(alone) == (getattr(answer, "json", None) or jsontext.dumps(answer))


def test_the_ids_drawn_for_a_batch_are_time_ordered_uuids_as_uuid_writes_them() -> None:
    before = time.time_ns() // 1_000_000
    drawn = list(usage._new_ids(500))
    after = time.time_ns() // 1_000_000
    assert len(set(drawn)) == 500 and list(usage._new_ids(0)) == []
    for text in drawn:
        found = uuid.UUID(text)
        assert str(found) == text and found.version == 7 and found.variant == uuid.RFC_4122
        assert before <= found.int >> 80 <= after  # the first 48 bits: the milliseconds since the epoch


def test_ids_drawn_later_sort_after_those_drawn_before() -> None:
    # what keeps a stored usage's id at the right end of the indexes it goes into
    first = list(usage._new_ids(50))
    time.sleep(0.002)
    later = list(usage._new_ids(50))
    assert max(first) < min(later)


def test_the_batch_shares_the_written_money_of_equal_amounts_only() -> None:
    written = usage._Written(NOW)
    assert str(written.money(Decimal("4"), "EUR")) == "4.00" and str(written.money(Decimal("4.00"), "EUR")) == "4.00"
    assert str(written.money(Decimal("4"), "JPY")) == "4" and str(written.money(Decimal("0.125"), "EUR")) == "0.125"
    assert written.now_text == "2026-06-01T12:30:00Z" and NOW.tzinfo is dt.timezone.utc
