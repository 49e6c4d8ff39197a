"""``bssrules rate`` of a file spanning months when an allowance rolls over (issue 15): rated a
month at a time, each month's allowance made from what the month before left — the same as
rating the months one run after the other, passing the state on."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from bssrules.cli import app

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "allowances"
HEADER = "id,subscriber,service,start,volume,unit\n"
JUNE = ("p1,line-1,data,2026-06-20T10:00:00Z,1000,MB\n"
        "p2,line-1,data,2026-06-21T10:00:00Z,1000,MB\n"
        "p3,line-2,data,2026-06-21T10:00:00Z,1000,MB\n")
JULY = ("q1,line-1,data,2026-07-02T10:00:00Z,3500,MB\n"
        "q2,line-2,data,2026-07-03T10:00:00Z,3500,MB\n"
        "q3,line-2,data,soon,1,MB\n")  # no readable start: rejected, with the last month


def _rate(*args: str) -> str:
    result = CliRunner().invoke(app, ["rate", str(PROJECT), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "subscribers.jsonl").write_text(
        '{"id": "line-1", "offering": "plan-3gb", "payers": {"payer": "BA-1"}, "startDate": "2026-06-16"}\n'
        '{"id": "line-2", "offering": "plan-3gb", "payers": {"payer": "BA-2"}}\n', encoding="utf-8")
    (tmp_path / "both.csv").write_text(HEADER + JULY + JUNE, encoding="utf-8")  # months mixed in the file
    (tmp_path / "june.csv").write_text(HEADER + JUNE, encoding="utf-8")
    (tmp_path / "july.csv").write_text(HEADER + JULY, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_a_file_of_two_months_rates_as_two_runs_passing_the_state_on(files: Path, suffix: str) -> None:
    subscribers = str(files / "subscribers.jsonl")
    out = _rate("--input", str(files / "both.csv"), "--subscribers", subscribers,
                "--output", str(files / f"both-rated{suffix}"), "--state-out", str(files / "state"))
    assert "6 records in: 5 rated, 1 rejected" in out and "total EUR: 10.00" in out, out
    _rate("--input", str(files / "june.csv"), "--subscribers", subscribers,
          "--output", str(files / f"june-rated{suffix}"), "--state-out", str(files / "june-state"))
    _rate("--input", str(files / "july.csv"), "--subscribers", subscribers,
          "--output", str(files / f"july-rated{suffix}"), "--state-out", str(files / "july-state"),
          "--buckets", str(files / "june-state" / "buckets.jsonl"),
          "--accumulators", str(files / "june-state" / "accumulators.jsonl"))

    def read(path: Path) -> pl.DataFrame:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False)
        if suffix == ".parquet":
            return pl.read_parquet(path)
        lines = path.read_text(encoding="utf-8").splitlines()  # each line as written
        return pl.DataFrame({"id": [pl.Series([line]).str.json_path_match("$.id")[0] for line in lines],
                             "amount": [pl.Series([line]).str.json_path_match("$.amount")[0] for line in lines],
                             "line": lines})

    both = read(files / f"both-rated{suffix}")
    assert both.height == 6  # one header in a CSV: every row a record
    assert both.sort("id").equals(pl.concat([read(files / f"june-rated{suffix}"), read(files / f"july-rated{suffix}")])
                                  .sort("id"))
    amounts = dict(zip(both["id"].to_list(), map(str, both["amount"].to_list())))
    # line-1: June's half month (1.5 GB) used up, 500 MB beyond; July 3 GB, nothing carried, 500 MB beyond.
    # line-2: June leaves 2 GB, 1 GB carried (the limit): July's 3.5 GB within its 4 GB
    assert [amounts[i] for i in ("p2", "q1", "q2")] == ["5.00", "5.00", "0.00"]
    for name in ("buckets.jsonl", "accumulators.jsonl"):
        assert (files / "state" / name).read_text() == (files / "july-state" / name).read_text()


def test_a_file_of_one_month_is_rated_in_one_pass(files: Path) -> None:
    out = _rate("--input", str(files / "june.csv"), "--subscribers", str(files / "subscribers.jsonl"),
                "--output", str(files / "june.csv.out.csv"))
    assert "3 records in: 3 rated, 0 rejected" in out and "total EUR: 5.00" in out
