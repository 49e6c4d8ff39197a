"""A record id given twice in one bulk run is rated once: the first record of the id, in file
order, whatever the chunks and partitions; every later one is rejected ``duplicateId`` and
changes no balance nor total (as ``POST /usage`` rates an id once)."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bssrules.pricing.bulk_ids import SeenIds, mark_repeated_within
from bssrules.pricing.bulk_io import rate_file
from bssrules.rules.project import load_project

ROAMING = Path(__file__).resolve().parents[2] / "examples" / "roaming"
SUBSCRIBERS = ('id,partyId,classification,activeOfferings,payers,splitBilling\n'
               'alice,party-alice,,mobile-data-plan,"{""payer"": ""BA-ALICE""}",\n'
               'bob,party-bob,,"[""mobile-data-plan""]","{""payer"": ""BA-BOB""}",\n')
HEADER = "id,subscriber,service,start,volume,unit\n"


def _rate(tmp_path: Path, usage: str, chunk_size: int = 200_000) -> tuple[pl.DataFrame, list[str]]:
    (tmp_path / "usage.csv").write_text(HEADER + usage, encoding="utf-8")
    (tmp_path / "subscribers.csv").write_text(SUBSCRIBERS, encoding="utf-8")
    output, state = tmp_path / f"rated-{chunk_size}.csv", tmp_path / f"state-{chunk_size}"
    rate_file(load_project(ROAMING).rules, tmp_path / "usage.csv", tmp_path / "subscribers.csv", output,
              state_out=state, chunk_size=chunk_size)
    rated = pl.read_csv(output, infer_schema=False)
    return rated, (state / "accumulators.jsonl").read_text(encoding="utf-8").splitlines()


def test_the_same_record_twice_is_charged_once_and_the_second_is_rejected_as_a_duplicate(tmp_path: Path) -> None:
    rated, _ = _rate(tmp_path, "d1,alice,sms,2026-06-01T10:05:00+02:00,1,message\n" * 2)
    assert sorted(zip(rated["status"], rated["amount"], rated["reasonCode"].fill_null(""))) == \
        [("rated", "0.10", ""), ("rejected", "0", "duplicateId")]
    label = rated.filter(pl.col("status") == "rejected")["reasonLabel"][0]
    assert "'d1'" in label and "earlier in the file" in label


@pytest.mark.parametrize("chunk_size", [200_000, 1, 2])
def test_the_first_in_file_order_is_rated_whatever_the_partitions(tmp_path: Path, chunk_size: int) -> None:
    # the second d1 is earlier in time and has another subscriber (another partition): still
    # the first in the file is the one rated
    usage = ("d1,bob,data,2026-06-02T10:00:00Z,40,MB\n"
             "x1,alice,sms,2026-06-01T10:00:00Z,1,message\n"
             "d1,alice,sms,2026-06-01T09:00:00Z,1,message\n"
             "x2,bob,data,2026-06-02T11:00:00Z,10,MB\n"
             "d1,bob,data,2026-06-02T12:00:00Z,40,MB\n")
    rated, _ = _rate(tmp_path, usage, chunk_size)
    outcome = {(r["id"], r["subscriber"], r["start"][:13]): (r["status"], r["reasonCode"])
               for r in rated.iter_rows(named=True)}
    assert outcome == {("d1", "bob", "2026-06-02T10"): ("rated", None),
                       ("x1", "alice", "2026-06-01T10"): ("rated", None),
                       ("d1", "alice", "2026-06-01T09"): ("rejected", "duplicateId"),
                       ("x2", "bob", "2026-06-02T11"): ("rated", None),
                       ("d1", "bob", "2026-06-02T12"): ("rejected", "duplicateId")}


def test_the_results_do_not_depend_on_the_chunk_size(tmp_path: Path) -> None:
    usage = "".join(f"r{i % 7},{'alice' if i % 3 else 'bob'},sms,2026-06-01T10:{i:02d}:00Z,1,message\n"
                    for i in range(30))
    whole, _ = _rate(tmp_path, usage, 200_000)
    for size in (1, 4, 11):
        cut, _ = _rate(tmp_path, usage, size)
        assert cut.sort("id", "start").equals(whole.sort("id", "start"))
    firsts = {f"r{i}": f"2026-06-01T10:{i:02d}" for i in range(7)}
    for row in whole.iter_rows(named=True):
        assert (row["reasonCode"] == "duplicateId") == (row["start"][:16] != firsts[row["id"]])


def test_a_malformed_record_keeps_its_reason_and_its_id_still_counts() -> None:
    seen = SeenIds()
    first = pl.DataFrame({"id": ["a", "b", None], "malformed": [None, None, "the record has no id"]})
    second = pl.DataFrame({"id": ["a", "c", None, "c", "b"], "malformed": ["bad start", None, "no id", None, None]})
    assert seen.mark(first)["malformed"].to_list() == [None, None, "the record has no id"]
    marked = seen.mark(second)["malformed"].to_list()
    assert marked[0] == "bad start" and marked[1] is None and marked[2] == "no id"
    assert marked[3].startswith("duplicateId: ") and marked[4].startswith("duplicateId: ")


def test_the_seen_ids_hold_across_many_batches() -> None:
    seen = SeenIds()
    for batch in range(40):  # runs merged many times over
        ids = pl.Series([f"id-{batch * 100 + i}" for i in range(100)])
        assert not seen.repeated(ids).any()
    again = pl.Series(["id-0", "id-3999", "id-4000", "id-1234", "new"])
    assert seen.repeated(again).tolist() == [True, True, False, True, False]


def test_a_cluster_partition_rejects_the_ids_it_holds_twice_in_its_order() -> None:
    frame = pl.DataFrame({"id": ["a", "b", "a", None, None], "malformed": [None, None, None, "x", "y"]})
    marked = mark_repeated_within(frame)["malformed"].to_list()
    assert marked[:2] == [None, None] and marked[2].startswith("duplicateId: ") and marked[3:] == ["x", "y"]
