"""The state files of ``bssrules rate`` checked before anything is rated, as the API checks a
bucket and as the column checks check a file (review D1, D6): every problem of a file at once,
by line; the run stops with exit 1 ("not rated") and writes no output."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.errors import InvalidInput
from bssrules.pricing.bulk_io import rate_file
from bssrules.pricing.bulk_read import StateNames, read_accumulators, read_buckets, read_subscribers, state_names
from bssrules.rules.project import load_project

ROAMING = Path(__file__).resolve().parents[2] / "examples" / "roaming"
SUBSCRIBERS = ('id,partyId,classification,activeOfferings,payers,splitBilling\n'
               'alice,party-alice,,mobile-data-plan,"{""payer"": ""BA-ALICE""}",\n'
               'bob,party-bob,,mobile-data-plan,"{""payer"": ""BA-BOB""}",\n')
USAGE = ("id,subscriber,service,start,volume,unit,roaming\n"
         "u5,bob,data,2026-06-20T10:00:00+02:00,100,MB,true\n"
         "u6,bob,data,2026-06-20T11:00:00+02:00,10,MB,true\n")
TOTAL = {"accumulator": "mobile-usage/roaming-budget", "subscriber": "bob", "period": "2026-06", "amount": "45.00"}


def _lines(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _error(read: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        read()  # type: ignore[operator]
    return str(caught.value)


@pytest.fixture(scope="module")
def names() -> StateNames:
    return state_names(load_project(ROAMING).rules)


# ------------------------------------------------------------------ D1: accumulator totals


@pytest.mark.parametrize("period", ["2026-6", "June", "2026-13", "2026-06-31", "2026-06-20"])
def test_a_total_of_no_period_its_accumulator_keys_is_refused_with_its_line(tmp_path: Path, names: StateNames,
                                                                          period: str) -> None:
    path = _lines(tmp_path / "a.jsonl", [TOTAL, {**TOTAL, "period": period}])
    message = _error(lambda: read_accumulators(path, names))
    assert "a.jsonl: " in message and f"line 2: period '{period}' is not" in message and "YYYY-MM" in message
    assert "line 1" not in message


def test_a_bad_period_is_refused_without_the_rule_book_too(tmp_path: Path) -> None:
    path = _lines(tmp_path / "a.jsonl", [{**TOTAL, "period": "2026-6"}, {**TOTAL, "period": "June", "volume": 1.5}])
    message = _error(lambda: read_accumulators(path))  # the line-by-line reader (a float), both lines said
    assert "line 1: period '2026-6'" in message and "line 2: period 'June'" in message


def test_a_mistyped_accumulator_is_refused_with_did_you_mean_and_an_unknown_one_goes_through(
        tmp_path: Path, names: StateNames) -> None:
    typo = _lines(tmp_path / "typo.jsonl", [{**TOTAL, "accumulator": "mobile-usage/roaming-budgt"}])
    message = _error(lambda: read_accumulators(typo, names))
    assert "line 1: no accumulator 'mobile-usage/roaming-budgt' (did you mean 'mobile-usage/roaming-budget'?)" \
        in message
    other = _lines(tmp_path / "other.jsonl", [{**TOTAL, "accumulator": "retired-set/old-cap"}, TOTAL])
    assert read_accumulators(other, names)["accumulator"].to_list() == ["retired-set/old-cap",
                                                                       "mobile-usage/roaming-budget"]


def test_the_review_run_stops_before_rating_instead_of_bypassing_the_cap(tmp_path: Path) -> None:
    (tmp_path / "usage.csv").write_text(USAGE, encoding="utf-8")
    (tmp_path / "subscribers.csv").write_text(SUBSCRIBERS, encoding="utf-8")
    _lines(tmp_path / "a-per.jsonl", [{**TOTAL, "period": "2026-6"}])
    result = CliRunner().invoke(app, ["rate", str(ROAMING), "-i", str(tmp_path / "usage.csv"),
                                      "-s", str(tmp_path / "subscribers.csv"),
                                      "--accumulators", str(tmp_path / "a-per.jsonl"),
                                      "-o", str(tmp_path / "o.csv"), "--state-out", str(tmp_path / "st")])
    assert result.exit_code == 1, result.output
    assert "period '2026-6' is not" in result.output
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "st").exists()


def test_good_totals_still_rate_as_before(tmp_path: Path) -> None:
    (tmp_path / "usage.csv").write_text(USAGE, encoding="utf-8")
    (tmp_path / "subscribers.csv").write_text(SUBSCRIBERS, encoding="utf-8")
    summary = rate_file(load_project(ROAMING).rules, tmp_path / "usage.csv", tmp_path / "subscribers.csv",
                        tmp_path / "o.csv", accumulators=_lines(tmp_path / "a.jsonl", [TOTAL]))
    assert summary.rated == 1 and dict(summary.rejected) == {"roamingBudgetReached": 1}  # u6 blocked: 45 + u5 passes the 50 EUR budget


# ------------------------------------------------------------------ D6: subscribers


def test_a_subscriber_given_twice_is_refused_naming_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(SUBSCRIBERS + 'alice,party-alice,,mobile-data-plan,"{""payer"": ""BA-2""}",\n', encoding="utf-8")
    message = _error(lambda: read_subscribers(path))
    assert "line 4: the subscriber 'alice' is given twice (first at line 2)" in message


@pytest.mark.parametrize("account", ["", 5, "  "])
def test_a_payer_account_empty_or_not_a_text_is_refused(tmp_path: Path, account: object) -> None:
    path = _lines(tmp_path / "s.jsonl", [{"id": "alice", "payers": {"payer": "BA-1"}},
                                         {"id": "bob", "payers": {"payer": account}}])
    message = _error(lambda: read_subscribers(path))
    assert f"line 2: subscriber 'bob': the billing account of payer role 'payer' must be a non-empty text, got " \
           f"{json.dumps(account)}" in message


def test_the_problems_of_a_subscribers_file_are_said_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text('id,payers\nalice,"{""payer"": """"}"\nalice,"{""payer"": 5}"\n', encoding="utf-8")
    message = _error(lambda: read_subscribers(path))
    assert "line 3: the subscriber 'alice' is given twice" in message
    assert "line 2: subscriber 'alice'" in message and "line 3: subscriber 'alice'" in message


# ------------------------------------------------------------------ D6: buckets

BUCKET = {"id": "alice-data", "subscriber": "alice", "unit": "GB", "remaining": "1",
          "validTo": "2026-07-01T00:00:00+02:00"}


def test_a_bucket_given_twice_is_refused_naming_both_lines(tmp_path: Path) -> None:
    path = _lines(tmp_path / "b.jsonl", [BUCKET, {**BUCKET, "id": "x"}, {**BUCKET, "remaining": "2"}])
    assert "line 3: the bucket 'alice-data' is given twice (first at line 1)" in _error(lambda: read_buckets(path))


def test_a_unit_the_api_refuses_is_refused_with_did_you_mean(tmp_path: Path, names: StateNames) -> None:
    path = _lines(tmp_path / "b.jsonl", [{**BUCKET, "unit": "GBB"}, {**BUCKET, "id": "m", "unit": "message"},
                                        {**BUCKET, "id": "e", "unit": "EUR"}])
    message = _error(lambda: read_buckets(path, names))
    assert "line 1: unit 'GBB' is no unit a bucket can serve" in message and "(did you mean 'GB'?)" in message
    assert "line 2" not in message and "line 3" not in message  # a rated unit, a currency


@pytest.mark.parametrize("bucket, said", [
    ({**BUCKET, "remaining": "-1"}, "remaining -1 GB is below 0"),
    ({**BUCKET, "unit": "EUR", "remaining": "-1"}, "remaining -1 EUR is below the bucket's floor (0)"),
    ({**BUCKET, "unit": "EUR", "remaining": "-3", "floor": "-2"}, "remaining -3 EUR is below the bucket's floor (-2)"),
])
def test_a_remaining_below_the_floor_is_refused(tmp_path: Path, bucket: dict[str, object], said: str) -> None:
    path = _lines(tmp_path / "b.jsonl", [bucket])
    assert f"line 1: {said}" in _error(lambda: read_buckets(path))


def test_a_money_bucket_with_no_floor_may_be_owed(tmp_path: Path) -> None:
    path = _lines(tmp_path / "b.jsonl", [{**BUCKET, "unit": "EUR", "remaining": "-3", "floor": None}])
    assert str(read_buckets(path)["remaining"][0]) == "-3.000000000000"


@pytest.mark.parametrize("key", ["validTo", "validFrom"])
@pytest.mark.parametrize("value", ["2026-07-01", "2026-07-01T00:00:00"])
def test_a_validity_bound_without_its_offset_is_refused(tmp_path: Path, key: str, value: str) -> None:
    path = _lines(tmp_path / "b.jsonl", [{**BUCKET, key: value}])
    message = _error(lambda: read_buckets(path))
    assert f"b.jsonl:1: '{value}' has no time zone" in message
