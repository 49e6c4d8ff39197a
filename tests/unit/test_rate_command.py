"""``bssrules rate`` as people use it: column names checked before anything is rated (with a
"did you mean"), lists in CSV cells, the old names still read, the state files, the summary,
the progress bar on a terminal only, and the first-run compilation announced."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numba
import polars as pl
import pytest
from rich.console import Console
from typer.testing import CliRunner

import bssrules.cli as cli
from bssrules.cli import app
from bssrules.pricing import bulk_io
from bssrules.pricing.bulk_read import read_buckets, read_subscribers
from bssrules.pricing.bulk_warm import warm_up, watch_compilation

RULES = """\
ruleSets:
  - id: mobile
    kind: usage
    prerequisites:
      - id: plan
        when: {inventory.activeOfferings: {contains: data-plan}}
        reason: {code: noDataPlan, label: Data needs the data plan}
    accumulators:
      - id: month-data
        measure: volume
        period: month
        when: {usage.service: data}
        thresholds:
          - id: cap
            at: 1000
            action: block
            crossing: rateUpToCap
            reason: {code: dataCap, label: 1000 MB a month}
    rules:
      - id: data
        when: {usage.service: data}
        rate: {amount: 0.01, currency: EUR, per: MB}
"""
USAGE = ("id,subscriber,service,start,volume,unit\n"
         "u1,ann,data,2026-06-01T10:00:00+02:00,600,MB\n"
         "u2,ann,data,2026-06-02T10:00:00+02:00,600,MB\n"
         "u3,ben,data,2026-06-02T10:00:00Z,10,MB\n"
         "u4,cid,data,2026-06-02T11:00:00Z,10,MB\n")
SUBSCRIBERS = ('id,activeOfferings,payers\n'
               'ann,"[""data-plan"", ""extra""]","{""payer"": ""BA-ANN""}"\n'
               'ben,extra;data-plan,"{""payer"": ""BA-BEN""}"\n'
               'cid,extra,"{""payer"": ""BA-CID""}"\n')


@pytest.fixture(scope="module", autouse=True)
def kernels() -> None:
    warm_up()  # compiled (or loaded) before the tests that look for the compilation notice


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "usage.csv").write_text(USAGE, encoding="utf-8")
    (tmp_path / "subscribers.csv").write_text(SUBSCRIBERS, encoding="utf-8")
    return tmp_path


def rate(folder: Path, *options: str, usage: str = "usage.csv", subscribers: str = "subscribers.csv",
         output: str = "rated.csv") -> Any:
    return CliRunner().invoke(app, ["rate", str(folder / "project"), "--input", str(folder / usage),
                                    "--subscribers", str(folder / subscribers), "--output", str(folder / output),
                                    *options])


def statuses(path: Path) -> dict[str, tuple[str, str | None]]:
    frame = pl.read_csv(path, infer_schema=False)
    return {row["id"]: (row["status"], row["reasonCode"]) for row in frame.iter_rows(named=True)}


def test_lists_in_csv_cells_as_json_or_semicolons_and_the_summary_counts_records_rated_in_part(folder: Path) -> None:
    result = rate(folder)
    assert result.exit_code == 0, result.output
    assert statuses(folder / "rated.csv") == {"u1": ("rated", None), "u2": ("rated", "dataCap"),
                                              "u3": ("rated", None), "u4": ("rejected", "noDataPlan")}
    assert "4 records in: 3 rated, 1 rejected" in result.output
    assert "  rated in part: 1 (up to a rateUpToCap threshold, the rest refused)" in result.output.splitlines()


@pytest.mark.parametrize("header, problem", [
    ("id,subscriber_id,service,start,volume,unit",
     "unknown column 'subscriber_id' (did you mean 'subscriber'?); no column 'subscriber'"),
    ("id,subscriber,service,strat,volume,unit", "unknown column 'strat' (did you mean 'start'?); no column 'start'"),
    ("id,subscriber,service,start,volume,unit,Unit", "unknown column 'Unit' (did you mean 'unit'?)"),
    ("id,subscriber,service,start,unit", "no column 'volume'"),
    ("id,subscriber,service,start,volume,unit,unit", "the column 'unit' is given twice"),
])
def test_a_wrong_usage_column_stops_the_run_before_anything_is_rated(folder: Path, header: str, problem: str) -> None:
    lines = USAGE.splitlines()
    body = [",".join(line.split(",")[:len(header.split(","))]) for line in lines[1:]]
    (folder / "usage.csv").write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1
    assert f"not rated: {folder / 'usage.csv'}: {problem} — a usage file has the columns id, subscriber, service, " \
           f"start, volume (required), unit, type, roaming, country" in result.output
    assert not (folder / "rated.csv").exists()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_a_wrong_usage_column_is_found_in_json_lines_and_parquet_too(folder: Path, suffix: str) -> None:
    frame = pl.read_csv(folder / "usage.csv", infer_schema=False).rename({"volume": "volumes"})
    if suffix == ".jsonl":
        frame.write_ndjson(folder / "usage.jsonl")
    else:
        frame.write_parquet(folder / "usage.parquet")
    result = rate(folder, usage=f"usage{suffix}", output="rated.parquet")
    assert result.exit_code == 1
    assert "unknown column 'volumes' (did you mean 'volume'?); no column 'volume'" in result.output
    assert not (folder / "rated.parquet").exists()


def test_a_wrong_subscribers_column_names_the_file_and_suggests_the_name(folder: Path) -> None:
    (folder / "subscribers.csv").write_text(SUBSCRIBERS.replace("activeOfferings", "activeOffering"), encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1
    assert f"{folder / 'subscribers.csv'}: unknown column 'activeOffering' (did you mean 'activeOfferings'?)" \
        in result.output
    assert not (folder / "rated.csv").exists()


def test_the_old_snake_case_names_are_still_read_and_not_twice(folder: Path) -> None:
    (folder / "old.csv").write_text(SUBSCRIBERS.replace("activeOfferings", "active_offerings"), encoding="utf-8")
    assert read_subscribers(folder / "old.csv").equals(read_subscribers(folder / "subscribers.csv"))
    (folder / "both.csv").write_text("id,activeOfferings,active_offerings\nann,a,b\n", encoding="utf-8")
    result = rate(folder, subscribers="both.csv")
    assert result.exit_code == 1
    assert "the column 'activeOfferings' is given twice (as 'active_offerings')" in result.output


@pytest.mark.parametrize("cell, problem", [
    ('"[data-plan]"', "not JSON"),
    ('"[1, 2]"', "a JSON list must hold texts (offering ids)"),
])
def test_a_cell_that_opens_a_json_list_must_be_one(folder: Path, cell: str, problem: str) -> None:
    (folder / "subscribers.csv").write_text(f"id,activeOfferings\nann,extra\nben,{cell}\n", encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1
    assert f"{folder / 'subscribers.csv'}, line 3 (subscriber 'ben'): column 'activeOfferings': {problem}" \
        in result.output


def test_payers_that_are_not_a_json_object_are_an_error_naming_the_file(folder: Path) -> None:
    (folder / "subscribers.csv").write_text('id,payers\nann,"[""BA-1""]"\n', encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1
    assert f"{folder / 'subscribers.csv'}: column 'payers', subscriber 'ann': payers must be a JSON object" \
        in result.output


def test_buckets_are_read_and_written_with_camel_case_keys(folder: Path) -> None:
    (folder / "buckets.jsonl").write_text(json.dumps({"id": "b", "subscriber": "ann", "unit": "MB", "remaining": "50",
                                                      "validTo": "2026-07-01T00:00:00+02:00"}) + "\n",
                                          encoding="utf-8")
    result = rate(folder, "--buckets", str(folder / "buckets.jsonl"), "--state-out", str(folder / "state"))
    assert result.exit_code == 0, result.output
    written = json.loads((folder / "state" / "buckets.jsonl").read_text(encoding="utf-8"))
    assert written["validTo"] == "2026-06-30T22:00:00+00:00" and written["remaining"] == "0"
    assert "valid_to" not in written
    assert read_buckets(folder / "state" / "buckets.jsonl")["valid_to"].to_list() != [None]


def test_an_unknown_bucket_key_is_an_error_at_its_line(folder: Path) -> None:
    (folder / "buckets.jsonl").write_text('{"id": "b", "subscriber": "ann", "unit": "MB", "remaining": 5}\n'
                                          '{"id": "c", "subscriber": "ann", "unit": "MB", "remaining": 5, '
                                          '"validUntil": "2026-07-01T00:00:00Z"}\n', encoding="utf-8")
    result = rate(folder, "--buckets", str(folder / "buckets.jsonl"))
    assert result.exit_code == 1
    assert f"{folder / 'buckets.jsonl'}:2: unknown column 'validUntil' (did you mean 'validTo'?)" in result.output


# ------------------------------------------------------------------- progress, compilation


def test_the_progress_bar_shows_on_a_terminal_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    piped = rate(folder)
    assert piped.exit_code == 0 and "records/s" in piped.output
    assert "rating" not in piped.output and "━" not in piped.output
    terminal = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=terminal, force_terminal=True, width=120))
    shown = rate(folder, output="rated-again.csv")
    assert shown.exit_code == 0
    shown_text = terminal.getvalue()
    assert "reading" in shown_text and "rating" in shown_text and "4 of 4 records" in shown_text
    quiet = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=quiet, force_terminal=True, width=120))
    assert rate(folder, "--no-progress", output="rated-quiet.csv").exit_code == 0
    assert "rating" not in quiet.getvalue()


def test_a_compilation_during_the_run_is_announced_once_with_its_time(folder: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    plain = rate(folder)
    assert plain.exit_code == 0  # the kernels come from the cache (warmed by the fixture): nothing said
    assert "compiling the rating kernels" not in plain.output and "compiled the rating kernels" not in plain.output
    real = bulk_io.rate_file

    def compiling_rate_file(*arguments: Any, **keywords: Any) -> Any:
        for step in (1, 2):  # two fresh functions: two compilations, one notice
            numba.njit(lambda x, s=step: x + s)(1)
        return real(*arguments, **keywords)

    monkeypatch.setattr(bulk_io, "rate_file", compiling_rate_file)
    result = rate(folder, output="rated-compiled.csv")
    assert result.exit_code == 0, result.output
    assert result.output.count("compiling the rating kernels") == 1
    assert "`bssrules rate --warm-up` does it ahead of time" in result.output
    assert "compiled the rating kernels in " in result.output


def test_the_watch_sees_a_compilation_and_not_a_function_already_compiled() -> None:
    function = numba.njit(lambda x: x * 3)
    started: list[bool] = []
    with watch_compilation(lambda: started.append(True)) as first:
        function(2)
    with watch_compilation(lambda: started.append(True)) as second:
        function(5)
    assert first.compiled and first.seconds > 0 and started == [True]
    assert not second.compiled and second.seconds == 0


def test_warm_up_compiles_or_loads_the_kernels_and_needs_no_files() -> None:
    result = CliRunner().invoke(app, ["rate", "--warm-up"])
    assert result.exit_code == 0, result.output
    assert "rating kernels already compiled (loaded from the cache in " in result.output  # warmed by the fixture


@pytest.mark.parametrize("arguments, message", [
    (["rate"], "missing: FOLDER, --input, --subscribers, --output"),
    (["rate", "p", "-i", "u.csv", "-s", "s.csv", "-o", "out", "--workers", "2", "--scheduler", "tcp://h:8786"],
     "give --workers (a local cluster) or --scheduler (an existing one), not both"),
])
def test_the_command_line_is_checked(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2 and message in result.output




def test_subscribers_in_json_lines_take_lists_or_text_and_refuse_other_payers(folder: Path) -> None:
    lines = [{"id": "ann", "activeOfferings": ["data-plan"], "payers": {"payer": "BA-ANN"}},
             {"id": "ben", "activeOfferings": "extra;data-plan", "payers": {"payer": "BA-BEN"}, "partyId": 7},
             {"id": "cid", "payers": {"payer": "BA-CID"}}]
    (folder / "subscribers.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert rate(folder, subscribers="subscribers.jsonl").exit_code == 0
    assert statuses(folder / "rated.csv")["u3"] == ("rated", None)
    (folder / "bad.jsonl").write_text(json.dumps({"id": "ann", "payers": ["BA-ANN"]}) + "\n", encoding="utf-8")
    result = rate(folder, subscribers="bad.jsonl")
    assert result.exit_code == 1
    assert f"{folder / 'bad.jsonl'}:1: 'payers' must be a JSON object role -> billing account" in result.output


def test_a_subscribers_file_that_cannot_be_read_is_named(folder: Path) -> None:
    (folder / "subscribers.csv").write_text("id,payers\nann,a,b\n", encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1
    assert f"not rated: {folder / 'subscribers.csv'}: cannot be read as csv:" in result.output


def test_a_parquet_dataset_folder_is_rated_as_its_files_together(folder: Path) -> None:
    usage = pl.read_csv(folder / "usage.csv", infer_schema=False)
    (folder / "dataset" / "day=2").mkdir(parents=True)
    usage[:2].write_parquet(folder / "dataset" / "part-0.parquet")
    usage[2:].write_parquet(folder / "dataset" / "day=2" / "part-1.parquet")
    (folder / "dataset" / "_SUCCESS").write_text("", encoding="utf-8")
    assert rate(folder, usage="dataset", output="from-folder.csv").exit_code == 0
    assert rate(folder).exit_code == 0
    assert statuses(folder / "from-folder.csv") == statuses(folder / "rated.csv")
    (folder / "empty").mkdir()
    result = rate(folder, usage="empty", output="none.csv")
    assert result.exit_code == 1 and "holds no .parquet file" in result.output


def test_the_default_chunk_size_is_the_library_s_and_stays_within_a_gigabyte() -> None:
    import typer.main

    import inspect

    from bssrules.pricing.bulk_io import DEFAULT_CHUNK_SIZE, rate_file

    command = typer.main.get_command(app)
    rate_command = command.commands["rate"]  # type: ignore[attr-defined]
    default = next(p.default for p in rate_command.params if p.name == "chunk_size")
    # none given: the library's, 200,000 records for short texts (500,000 measured 1.3-1.5 GB peak
    # RSS), fewer for long ids (default_chunk_size)
    assert default is None and DEFAULT_CHUNK_SIZE == 200_000
    assert inspect.signature(rate_file).parameters["chunk_size"].default is None
