"""``bssrules rate`` tried by a catalog manager from docs/bulk-rating.md alone: a Parquet
subscribers file whose ``payers`` is a map (documented; polars 2 reads it as a Map that was cast
to text: "cannot cast `map[str, str]` to `str`", no file named); JSON lines state and subscriber
files saved with a byte order mark (refused: "not JSON: Expecting value"); a Parquet or CSV
file given as ``--buckets`` (a Parquet one: "'utf-8' codec can't decode byte 0xb5", no file
named); a subscribers CSV row of the wrong length (polars' words, no line); one JSON lines key
under its old and new name on two lines (polars' "column 'partyId' is duplicate", no file);
"a accumulator totals file"; a SIGTERM (a scheduler's time limit) left the half-written output
and the spill folders behind."""
from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from tests.unit.test_rate_command import folder, kernels, rate  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]


def _amounts(path: Path) -> dict[str, str]:
    frame = pl.read_csv(path, infer_schema=False)
    return dict(zip(frame["id"].to_list(), frame["amount"].to_list()))


def test_a_parquet_map_of_payers_is_read_as_the_docs_say(folder: Path) -> None:  # noqa: F811
    payers = pa.array([[("payer", "BA-ANN")], [("payer", "BA-BEN")], [("payer", "BA-CID")]],
                      type=pa.map_(pa.string(), pa.string()))
    pq.write_table(pa.table({"id": ["ann", "ben", "cid"], "activeOfferings": ["data-plan", "data-plan", "extra"],
                             "payers": payers}), folder / "subscribers.parquet")
    result = rate(folder, subscribers="subscribers.parquet")
    assert result.exit_code == 0, result.output
    charges = pl.read_csv(folder / "rated.csv", infer_schema=False).filter(pl.col("id") == "u3")["charges"][0]
    assert json.loads(charges) == [{"payer": "payer", "billingAccount": "BA-BEN", "amount": "0.10"}]


def test_a_blank_account_in_a_parquet_map_is_said_by_row(folder: Path) -> None:  # noqa: F811
    payers = pa.array([[("payer", "BA-ANN")], [("payer", " ")]], type=pa.map_(pa.string(), pa.string()))
    pq.write_table(pa.table({"id": ["ann", "ben"], "payers": payers}), folder / "subscribers.parquet")
    result = rate(folder, subscribers="subscribers.parquet")
    assert result.exit_code == 1
    assert "row 2: subscriber 'ben': the billing account of payer role 'payer'" in result.output


def _with_bom(path: Path) -> None:
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes().replace(b"\n", b"\r\n"))


def test_json_lines_files_with_a_byte_order_mark_are_read(folder: Path) -> None:  # noqa: F811
    (folder / "subscribers.jsonl").write_text(
        '{"id": "ann", "activeOfferings": ["data-plan"], "payers": {"payer": "BA-ANN"}}\n'
        '{"id": "ben", "activeOfferings": ["data-plan"], "payers": {"payer": "BA-BEN"}}\n', encoding="utf-8")
    (folder / "buckets.jsonl").write_text(
        '{"id": "ann-mb", "subscriber": "ann", "unit": "MB", "remaining": "100"}\n', encoding="utf-8")
    (folder / "totals.jsonl").write_text(
        '{"accumulator": "mobile/month-data", "subscriber": "ben", "period": "2026-06", "volume": "995"}\n',
        encoding="utf-8")
    options = ("--buckets", str(folder / "buckets.jsonl"), "--accumulators", str(folder / "totals.jsonl"))
    plain = rate(folder, *options, subscribers="subscribers.jsonl", output="plain.csv")
    assert plain.exit_code == 0, plain.output
    for name in ("subscribers.jsonl", "buckets.jsonl", "totals.jsonl"):
        _with_bom(folder / name)
    marked = rate(folder, *options, subscribers="subscribers.jsonl", output="marked.csv")
    assert marked.exit_code == 0, marked.output
    assert _amounts(folder / "marked.csv") == _amounts(folder / "plain.csv")
    assert _amounts(folder / "marked.csv")["u1"] == "5.00"  # 600 MB, 100 of them from the bucket


def test_a_parquet_file_given_as_buckets_is_said_to_be_one(folder: Path) -> None:  # noqa: F811
    pl.DataFrame({"id": ["b"], "subscriber": ["ann"], "unit": ["MB"], "remaining": ["1"]}).write_parquet(
        folder / "buckets.parquet")
    result = rate(folder, "--buckets", str(folder / "buckets.parquet"))
    assert result.exit_code == 1
    assert "buckets.parquet: a Parquet file, and the file is read as JSON lines" in result.output
    assert "codec" not in result.output
    assert not (folder / "rated.csv").exists()


def test_a_csv_file_given_as_accumulators_is_said_to_be_one(folder: Path) -> None:  # noqa: F811
    (folder / "totals.csv").write_text("accumulator,subscriber,period\nmobile/month-data,ann,2026-06\n",
                                       encoding="utf-8")
    result = rate(folder, "--accumulators", str(folder / "totals.csv"))
    assert result.exit_code == 1
    assert "totals.csv:1: not JSON" in result.output and "looks like a CSV file" in result.output


def test_a_json_lines_state_file_not_utf8_names_file_and_line(folder: Path) -> None:  # noqa: F811
    (folder / "buckets.jsonl").write_bytes(
        b'{"id": "a", "subscriber": "ann", "unit": "MB", "remaining": "1"}\n'
        b'{"id": "b", "subscriber": "ann", "unit": "MB", "remaining": "1", "services": ["donn\xe9es"]}\n')
    result = rate(folder, "--buckets", str(folder / "buckets.jsonl"))
    assert result.exit_code == 1
    assert "buckets.jsonl:2: not UTF-8 text (byte 0xe9" in result.output


def test_a_subscribers_row_of_the_wrong_length_is_said_by_line(folder: Path) -> None:  # noqa: F811
    (folder / "subscribers.csv").write_text('id,payers\nann,"{""payer"": ""BA-ANN""}"\nben,{"payer": "BA-1", '
                                            '"employer": "BA-2"}\n', encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1
    assert "subscribers.csv: cannot be read as csv: line 3 has 3 fields where the header has 2" in result.output


def test_a_json_lines_key_under_both_names_is_said_with_the_file(folder: Path) -> None:  # noqa: F811
    (folder / "subscribers.jsonl").write_text('{"id": "ann", "party_id": "p-ann"}\n{"id": "ben", "partyId": "p-ben"}\n',
                                              encoding="utf-8")
    result = rate(folder, subscribers="subscribers.jsonl")
    assert result.exit_code == 1
    assert "subscribers.jsonl: the key 'partyId' (as 'party_id' too) is given under both names" in result.output


def test_an_accumulator_totals_file_is_named_with_its_article(folder: Path) -> None:  # noqa: F811
    (folder / "totals.jsonl").write_text('{"accumulator": "mobile/month-data", "subscriber": "ann", '
                                         '"period": "2026-06", "amont": "1"}\n', encoding="utf-8")
    result = rate(folder, "--accumulators", str(folder / "totals.jsonl"))
    assert result.exit_code == 1
    assert "an accumulator totals file has the columns" in result.output


STOPPED = """
import os, signal, sys
from pathlib import Path
from bssrules.pricing import bulk_io
from bssrules.cli import app

def rate_file(rules, usage, subscribers, output, **options):
    Path(output).write_text("half a file", encoding="utf-8")
    os.kill(os.getpid(), signal.SIGTERM)  # as a scheduler stops a job past its time
    raise AssertionError("not stopped")

bulk_io.rate_file = rate_file
sys.argv = ["bssrules", "rate", "project", "--input", "usage.csv", "--subscribers", "subscribers.csv",
            "--output", "rated.csv", "--no-progress"]
app()
"""


def test_a_sigterm_leaves_no_half_written_file_and_the_old_output(folder: Path) -> None:  # noqa: F811
    (folder / "rated.csv").write_text("last month's", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(STOPPED)], cwd=folder, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 143, (done.returncode, done.stderr)
    assert "not rated: stopped (SIGTERM); rated.csv was not written" in done.stderr
    assert "Traceback" not in done.stderr
    assert (folder / "rated.csv").read_text(encoding="utf-8") == "last month's"
    assert not [p.name for p in folder.iterdir() if "partial" in p.name]


def test_every_problem_of_a_totals_file_comes_in_one_error(folder: Path) -> None:  # noqa: F811
    (folder / "totals.jsonl").write_text(
        '{"accumulator": "mobile/month-data", "subscriber": "ann", "period": "2026-6"}\n'
        '{"accumulator": "mobile/month-dat", "subscriber": "ben", "period": "2026-06"}\n', encoding="utf-8")
    result = rate(folder, "--accumulators", str(folder / "totals.jsonl"))
    assert result.exit_code == 1
    assert "line 1: period '2026-6'" in result.output  # (the first one only, before)
    assert "line 2: no accumulator 'mobile/month-dat' (did you mean 'mobile/month-data'?)" in result.output


def test_every_problem_of_a_buckets_file_comes_in_one_error(folder: Path) -> None:  # noqa: F811
    (folder / "buckets.jsonl").write_text(
        '{"id": "a", "subscriber": "ann", "unit": "MBB", "remaining": "1"}\n'
        '{"id": "a", "subscriber": "ann", "unit": "MB", "remaining": "1"}\n', encoding="utf-8")
    result = rate(folder, "--buckets", str(folder / "buckets.jsonl"))
    assert result.exit_code == 1
    assert "line 2: the bucket 'a' is given twice (first at line 1)" in result.output
    assert "line 1: unit 'MBB' is no unit a bucket can serve" in result.output


def test_a_usage_file_keeps_its_article(folder: Path) -> None:  # noqa: F811
    (folder / "usage.csv").write_text("id,subscriber,service,start,volum\n", encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1 and "— a usage file has the columns" in result.output


def test_a_json_number_volume_of_many_digits_is_read_as_written(folder: Path) -> None:  # noqa: F811
    (folder / "usage.jsonl").write_text(
        '{"id": "j1", "subscriber": "ben", "service": "data", "start": "2026-06-02T10:00:00Z", '
        '"volume": 1000000.123456789012, "unit": "B"}\n'
        '{"id": "j2", "subscriber": "ben", "service": "data", "start": "2026-06-02T11:00:00Z", '
        '"volume": 0.5, "unit": "MB"}\n', encoding="utf-8")
    result = rate(folder, usage="usage.jsonl")
    assert result.exit_code == 0, result.output
    rated = pl.read_csv(folder / "rated.csv", infer_schema=False)
    assert dict(zip(rated["id"], rated["volume"])) == {"j1": "1000000.123456789012", "j2": "0.5"}  # was 1000000.1234567891



def test_a_start_refused_for_its_spaces_is_shown_with_them(folder: Path) -> None:  # noqa: F811
    (folder / "usage.csv").write_text("id,subscriber,service,start,volume,unit\n"
                                      "s1,ben,data, 2026-06-02T10:00:00Z ,10,MB\n", encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 0, result.output
    rated = pl.read_csv(folder / "rated.csv", infer_schema=False)
    assert rated["reasonLabel"].to_list() == ["the usage start must be a date-time, got ' 2026-06-02T10:00:00Z '"]


def test_a_run_that_fails_after_its_state_leaves_the_state_before_it(folder: Path, monkeypatch) -> None:  # noqa: F811
    from bssrules.pricing import bulk_io

    (folder / "state").mkdir()
    (folder / "state" / "buckets.jsonl").write_text(
        '{"id": "ann-mb", "subscriber": "ann", "unit": "MB", "remaining": "100"}\n', encoding="utf-8")
    (folder / "state" / "accumulators.jsonl").write_text("", encoding="utf-8")
    before = {p.name: p.read_text(encoding="utf-8") for p in (folder / "state").iterdir()}
    real = bulk_io.rate_file

    def full_disk(*args, **options):  # type: ignore[no-untyped-def]
        real(*args, **options)  # the state written, then the disk fills
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bulk_io, "rate_file", full_disk)
    options = ("--buckets", str(folder / "state" / "buckets.jsonl"),
               "--accumulators", str(folder / "state" / "accumulators.jsonl"), "--state-out", str(folder / "state"))
    result = rate(folder, *options)
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert not (folder / "rated.csv").exists()
    # the balances before the run: rated again, ann's bucket is not taken twice
    assert {p.name: p.read_text(encoding="utf-8") for p in (folder / "state").iterdir()} == before
    monkeypatch.setattr(bulk_io, "rate_file", real)
    again = rate(folder, *options)
    assert again.exit_code == 0, again.output
    assert _amounts(folder / "rated.csv")["u1"] == "5.00"  # 600 MB, 100 of them from the bucket
    assert sorted(p.name for p in (folder / "state").iterdir()) == ["accumulators.jsonl", "buckets.jsonl"]
    assert '"remaining":"0"' in (folder / "state" / "buckets.jsonl").read_text(encoding="utf-8")


def test_a_state_out_file_that_is_a_folder_is_refused_before_rating(folder: Path) -> None:  # noqa: F811
    (folder / "state" / "accumulators.jsonl").mkdir(parents=True)
    result = rate(folder, "--state-out", str(folder / "state"))
    assert result.exit_code == 2
    assert "accumulators.jsonl is a folder" in result.output
    assert not (folder / "rated.csv").exists()


def test_a_subscribers_file_that_names_no_record_s_subscriber_is_warned_of(folder: Path) -> None:  # noqa: F811
    (folder / "other.csv").write_text('id,payers\n+4912345,"{""payer"": ""BA-1""}"\n', encoding="utf-8")
    result = rate(folder, subscribers="other.csv")
    assert result.exit_code == 0, result.output  # rated: every record rejected, as the docs say
    assert "rejected unknownSubscriber: 4" in result.output
    assert "warning: no record's subscriber is an id of" in result.output
    fine = rate(folder)
    assert fine.exit_code == 0 and "warning" not in fine.output


def test_the_lines_of_a_buckets_file_that_cannot_be_read_come_in_one_error(folder: Path) -> None:  # noqa: F811
    (folder / "buckets.jsonl").write_text(
        '{"id": "a", "subscriber": "ann", "unit": "MB", "remaining": "x"}\n'
        '{"id": "b", "subscriber": "ann", "unit": "MB", "remaining": "1", "validTo": "2026-07-01"}\n'
        '{"id": "c", "subscriber": "ann", "unit": "MB"}\n', encoding="utf-8")
    result = rate(folder, "--buckets", str(folder / "buckets.jsonl"))
    assert result.exit_code == 1
    for said in ("buckets.jsonl:1: 'remaining'", "buckets.jsonl:2: '2026-07-01' has no time zone",
                 "buckets.jsonl:3: a bucket needs 'remaining'"):
        assert said in result.output  # (the first one only, before)


def test_the_lines_of_a_totals_file_that_cannot_be_read_come_in_one_error(folder: Path) -> None:  # noqa: F811
    (folder / "totals.jsonl").write_text(
        '{"accumulator": "mobile/month-data", "subscriber": "ann", "period": "2026-06", "volume": "x"}\n'
        '{"accumulator": "mobile/month-data", "period": "2026-06"}\n', encoding="utf-8")
    result = rate(folder, "--accumulators", str(folder / "totals.jsonl"))
    assert result.exit_code == 1
    assert "totals.jsonl:1: 'volume': expected a number, got 'x'" in result.output
    assert "totals.jsonl:2: an accumulator total needs 'subscriber'" in result.output


def test_a_total_of_more_decimals_than_held_is_refused_as_a_bucket_s_is(folder: Path) -> None:  # noqa: F811
    (folder / "totals.jsonl").write_text('{"accumulator": "mobile/month-data", "subscriber": "ann", '
                                         '"period": "2026-06", "volume": "100.1234567890123"}\n', encoding="utf-8")
    result = rate(folder, "--accumulators", str(folder / "totals.jsonl"), "--state-out", str(folder / "state"))
    assert result.exit_code == 1  # was rated, the total cut to 100.123456789012 unsaid
    assert "totals.jsonl:1: 'volume': '100.1234567890123' has more than 12 decimals" in result.output


def test_a_payer_role_given_two_accounts_is_refused(folder: Path) -> None:  # noqa: F811
    (folder / "subscribers.csv").write_text('id,activeOfferings,payers,payer.payer\n'
                                            'ann,data-plan,"{""payer"": ""BA-1""}",BA-2\n'
                                            'ben,data-plan,"{""payer"": ""BA-3""}",\n', encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1  # was rated, every charge of ann's billed to BA-2 unsaid
    assert "line 2: subscriber 'ann': payer role 'payer' is given 2 billing accounts ('BA-1', 'BA-2')" in result.output
    assert "'ben'" not in result.output
    assert not (folder / "rated.csv").exists()


def test_what_a_killed_run_left_is_removed_by_the_next_and_a_running_one_keeps_its_own(folder: Path) -> None:  # noqa: F811
    """A run killed outright (SIGKILL, the out-of-memory killer) cannot clean up: its half-written
    output and state stayed for ever, beside the real files. The next run removes those of a
    process that is gone, and leaves those of a run still going."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid: no longer a running process
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state = folder / "state"
        state.mkdir()
        left = [folder / f".rated.{dead.pid}.partial.csv", state / f".partial.{dead.pid}"]
        kept = [folder / f".rated.{alive.pid}.partial.csv", state / f".partial.{alive.pid}",
                folder / f".other.{dead.pid}.partial.csv"]
        for path in left + kept:
            if path.name.endswith(".csv"):
                path.write_text("half,written\n", encoding="utf-8")
            else:
                path.mkdir()
                (path / "buckets.jsonl").write_text("{}\n", encoding="utf-8")
        result = rate(folder, "--state-out", str(state))
        assert result.exit_code == 0, result.output
        assert [p for p in left if p.exists()] == []
        assert [p for p in kept if not p.exists()] == []
        assert (folder / "rated.csv").exists() and (state / "buckets.jsonl").exists()
    finally:
        alive.kill()
        alive.wait()
