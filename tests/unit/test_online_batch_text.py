"""The text a stored usage is written as (and answered with) is joined from fragments on the
hot path; it is, character for character, the text ``jsontext.dumps(document,
sort_keys=True)`` writes of the document, whatever the body and the rating result."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules import jsontext
from bssrules.pricing.usage import Charge, Event, RatedUsage, UsageRecord
from bssrules.services import usage

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
RECORD = UsageRecord("u1", "sub-1", "ppv-movie", dt.datetime(2026, 6, 1, 3, tzinfo=UTC), Decimal(1))
BODY = {"usageDate": "2026-06-01T03:00:00Z", "usageType": "ppv-movie",
        "usageCharacteristic": [{"name": "productId", "value": "sub-1"}]}
RATED = dict(rule_set="ppv-normal", rule="movie", currency="EUR", rated_volume=Decimal(1))

RESULTS = {
    "prepaid": RatedUsage(RECORD, "rated", **RATED, amount=Decimal("4.99"), prepaid=Decimal("4.99"),
                          buckets=(("bucket-1", Decimal("4.99")),)),
    "billed": RatedUsage(RECORD, "rated", **RATED, amount=Decimal("4.99"),
                         charges=(Charge("payer", "ba-1", Decimal("4.99")),)),
    "split, part prepaid": RatedUsage(RECORD, "rated", **RATED, amount=Decimal("10.00"), prepaid=Decimal("2.50"),
                                      charges=(Charge("payer", "ba-1", Decimal("3.75")),
                                               Charge("employer", "ba-\"2\"", Decimal("3.75"))),
                                      buckets=(("b", Decimal("2.50")), ("allowance:x:2026-06", Decimal(3)))),
    "free": RatedUsage(RECORD, "rated", **RATED, provisioning_id="prov-é"),
    "no currency": RatedUsage(RECORD, "rated", rule_set="r", rule="x", rated_volume=Decimal("1E+3")),
    "rejected": RatedUsage(RECORD, "rejected", ({"code": "insufficientBalance", "label": "no money"},),
                           rule_set="ppv-normal", rule="movie"),
    "rejected, no rule": RatedUsage(RECORD, "rejected", ({"code": "unknownSubscriber", "label": "who?"},)),
    "events": RatedUsage(RECORD, "rated", **RATED, amount=Decimal(5),
                         charges=(Charge("payer", "ba-1", Decimal(5)),),
                         events=(Event("thresholdReached", "r/a", "t", "notify", "sub-1", "2026-06", Decimal(5), "u1"),)),
    "refused": RatedUsage(RECORD, "rated", ({"code": "capReached", "label": "cap"},), **RATED, amount=Decimal(1),
                          charges=(Charge("payer", "ba-1", Decimal(1)),), refused_volume=Decimal("0.5")),
}
BODIES = {
    "plain": BODY,
    "the client's own rating fields": {**BODY, "id": "x", "href": "h", "@type": "Usage", "status": "received",
                                       "ratedProductUsage": [1], "ratedBy": {"a": 1}, "rejectionReason": ["kept"],
                                       "event": [{"kept": True}]},
    "decimals, text to escape, nesting": {**BODY, "description": "line\n\"quoted\" \\ é \u2028 😀",
                                          "usageCharacteristic": [{"name": "volume", "value": Decimal("2.50")},
                                                                  {"name": "n", "value": 10 ** 30},
                                                                  {"name": "deep", "value": {"z": [None, False],
                                                                                             "A": {}}}]},
}


def expected(body: dict[str, Any], result: RatedUsage) -> str:
    return jsontext.dumps(usage._rated_document(body, result, NOW), sort_keys=True)


@pytest.mark.parametrize("result", RESULTS.values(), ids=RESULTS.keys())
@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_the_stored_text_is_the_sorted_json_of_the_document(body: dict[str, Any], result: RatedUsage) -> None:
    stored = usage._stored_document(body, result, NOW)
    assert stored.json == expected(body, result)
    assert stored == usage._rated_document(body, result, NOW)


def test_the_templates_write_the_common_results_themselves() -> None:
    for name in ("prepaid", "billed", "split, part prepaid", "free", "no currency"):
        assert usage._rated_text(BODY, RESULTS[name], NOW) == expected(BODY, RESULTS[name]), name
    for name in ("rejected", "events", "refused"):  # encoded whole
        assert usage._rated_text(BODY, RESULTS[name], NOW) is None, name


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(extra=st.dictionaries(st.text(max_size=12), json_values, max_size=6),
       result=st.sampled_from(sorted(RESULTS)))
def test_any_body_gives_the_same_text(extra: dict[str, Any], result: str) -> None:
    body = {**BODY, **{k: v for k, v in extra.items() if not any("\ud800" <= c <= "\udfff" for c in k)}}
    assert usage._stored_document(body, RESULTS[result], NOW).json == expected(body, RESULTS[result])


@pytest.mark.parametrize("usage_id", ["u1", "é/ \"x\"", "a?b#c", "😀"])
def test_the_answer_is_the_rendered_usage_with_its_text(usage_id: str) -> None:
    from bssrules.services.records import StoredUsage

    document = usage._stored_document(BODY, RESULTS["prepaid"], NOW)
    stored = StoredUsage(usage_id, "sub-1", "rated", NOW, None, document)
    answer = usage._answer(stored)
    assert answer == usage.render_usage(stored) and list(answer) == list(usage.render_usage(stored))
    assert jsontext.loads(answer.json) == jsontext.loads(jsontext.dumps(usage.render_usage(stored)))
