"""``bssrules rate`` as a rating analyst meets it on a first day (a review from
docs/bulk-rating.md alone): texts that pyarrow's CSV reader took for missing values (a
country ``NA``, an id ``NA``, a unit ``N/A``, a volume ``NaN``) are read as written; a JSON
lines record with an object or a list for a value is rejected ``malformed``, not the file
refused with polars' words; a Parquet column of lists or structs is refused naming the file
and the column; a file separated by ``;`` is said to be one (not "did you mean
'activeOfferings'?"); a file that is not UTF-8, or not Parquet, is named."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from tests.unit.test_rate_command import folder, kernels, rate  # noqa: F401 (fixtures)


def rows(path: Path) -> dict[str, dict[str, Any]]:
    frame = pl.read_csv(path, infer_schema=False)
    return {row["id"]: row for row in frame.iter_rows(named=True)}


def no_traceback(result: Any) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


# ----------------------------------------------------------- texts taken for missing values


def test_texts_that_look_like_missing_values_are_read_as_written(folder: Path) -> None:  # noqa: F811
    # "NA" is Namibia's country code, and a mediation's id or a subscriber may be "NA" or "null":
    # pyarrow's CSV reader took them (and N/A, NaN, NULL, #N/A …) for missing values
    (folder / "usage.csv").write_text(
        "id,subscriber,service,start,volume,unit,roaming,country\n"
        "NA,ann,data,2026-06-01T10:00:00Z,10,MB,true,NA\n"
        "u2,null,data,2026-06-01T10:00:00Z,10,MB,false,\n"
        "u3,ann,data,2026-06-01T11:00:00Z,NaN,MB,false,\n"
        "u4,ann,data,2026-06-01T12:00:00Z,10,N/A,false,\n", encoding="utf-8")
    (folder / "subscribers.csv").write_text(
        'id,activeOfferings,payers\n'
        'ann,data-plan,"{""payer"": ""BA-ANN""}"\n'
        'null,data-plan,"{""payer"": ""BA-NULL""}"\n', encoding="utf-8")
    result = rate(folder)
    no_traceback(result)
    assert result.exit_code == 0, result.output
    rated = rows(folder / "rated.csv")
    assert rated["NA"]["status"] == "rated" and rated["NA"]["country"] == "NA"
    assert rated["u2"]["status"] == "rated" and rated["u2"]["subscriber"] == "null"
    assert rated["u3"]["reasonLabel"] == "the volume must be a number of at least 0, got NaN"
    assert rated["u4"]["unit"] == "N/A" and rated["u4"]["reasonCode"] == "unitMismatch"


def test_an_empty_cell_is_still_no_value(folder: Path) -> None:  # noqa: F811
    (folder / "usage.csv").write_text(
        "id,subscriber,service,start,volume,unit,country\n"
        'u1,ann,data,2026-06-01T10:00:00Z,10,,""\n'
        "u2,ann,data,2026-06-01T10:00:00Z,,MB,\n", encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 0, result.output
    rated = rows(folder / "rated.csv")
    assert rated["u1"]["status"] == "rated" and rated["u1"]["unit"] is None and rated["u1"]["country"] is None
    assert rated["u2"]["reasonLabel"] == "the record has no volume"


# ------------------------------------------------------- nested values in JSON lines, Parquet


@pytest.mark.parametrize("lines", ["some", "all"])
def test_a_json_lines_record_with_an_object_or_a_list_for_a_value_is_malformed(folder: Path, lines: str) -> None:  # noqa: F811
    good = '{"id": "u1", "subscriber": "ann", "service": "data", "start": "2026-06-01T10:00:00Z", "volume": 10, "unit": "MB"}\n'
    odd = ('{"id": "u2", "subscriber": "ann", "service": "data", "start": "2026-06-01T11:00:00Z", '
           '"volume": {"value": 10}, "unit": "MB"}\n'
           '{"id": "u3", "subscriber": "ann", "service": "data", "start": "2026-06-01T12:00:00Z", '
           '"volume": 10, "unit": "MB", "country": ["ES"]}\n')
    (folder / "usage.jsonl").write_text(odd if lines == "all" else good + odd, encoding="utf-8")
    result = rate(folder, usage="usage.jsonl")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    rated = rows(folder / "rated.csv")
    assert rated["u2"]["reasonCode"] == "malformed"
    assert rated["u2"]["reasonLabel"] == 'the usage volume must be a text or a number, got {"value": 10}'
    assert rated["u3"]["reasonLabel"] == 'the usage country must be a text or a number, got ["ES"]'
    if lines == "some":
        assert rated["u1"]["status"] == "rated"


@pytest.mark.parametrize("column, values, kind", [
    ("volume", [[1], [2]], "a list"),
    ("country", [{"code": "ES"}, {"code": "FR"}], "a struct"),
])
def test_a_parquet_column_of_lists_or_structs_is_refused_naming_the_file_and_column(
        folder: Path, column: str, values: list[Any], kind: str) -> None:  # noqa: F811
    frame = pl.DataFrame({"id": ["u1", "u2"], "subscriber": ["ann", "ann"], "service": ["data", "data"],
                          "start": [dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)] * 2, "volume": [1, 2],
                          "unit": ["MB", "MB"]}).with_columns(pl.Series(column, values))
    frame.write_parquet(folder / "usage.parquet")
    result = rate(folder, usage="usage.parquet")
    no_traceback(result)
    assert result.exit_code == 1
    assert f"not rated: {folder / 'usage.parquet'}: column '{column}' is {kind}" in result.output
    assert "This error occurred" not in result.output
    assert not (folder / "rated.csv").exists()


# ------------------------------------------------------------------ spreadsheets' CSV files


@pytest.mark.parametrize("which", ["usage", "subscribers"])
def test_a_file_separated_by_semicolons_is_said_to_be_one(folder: Path, which: str) -> None:  # noqa: F811
    path = folder / f"{which}.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1
    assert f"not rated: {path}: the columns are separated by ';'" in result.output
    assert "did you mean" not in result.output
    assert not (folder / "rated.csv").exists()


def test_a_spreadsheet_s_csv_with_a_bom_crlf_and_empty_lines_at_the_end_rates(folder: Path) -> None:  # noqa: F811
    text = (folder / "usage.csv").read_text(encoding="utf-8")
    (folder / "usage.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode() + b"\r\n\r\n")
    result = rate(folder)
    assert result.exit_code == 0, result.output
    assert "4 records in: 3 rated, 1 rejected" in result.output


@pytest.mark.parametrize("where", ["header", "row"])
def test_a_csv_file_that_is_not_utf8_is_named_with_its_line(folder: Path, where: str) -> None:  # noqa: F811
    text = (folder / "usage.csv").read_text(encoding="utf-8")
    if where == "header":
        text = text.replace("service", "servicé", 1)
        line = 1
    else:
        text = text.replace("u3,ben,data,", "u3,ben,données,")
        line = 4
    (folder / "usage.csv").write_bytes(text.encode("latin-1"))
    result = rate(folder)
    no_traceback(result)
    assert result.exit_code == 1
    assert f"not rated: {folder / 'usage.csv'}: line {line} is not UTF-8 text" in result.output
    assert not (folder / "rated.csv").exists()


@pytest.mark.parametrize("which", ["usage", "subscribers"])
def test_a_parquet_file_that_is_not_one_is_named(folder: Path, which: str) -> None:  # noqa: F811
    (folder / f"{which}.parquet").write_text("id,subscriber\n", encoding="utf-8")
    result = rate(folder, **{which: f"{which}.parquet"})
    no_traceback(result)
    assert result.exit_code == 1
    assert f"not rated: {folder / f'{which}.parquet'}: cannot be read as parquet" in result.output
    assert not (folder / "rated.csv").exists()


def test_an_empty_column_of_a_spreadsheet_is_said_to_have_no_name(folder: Path) -> None:  # noqa: F811
    lines = (folder / "usage.csv").read_text(encoding="utf-8").splitlines()
    (folder / "usage.csv").write_text("\n".join(line + ",," for line in lines) + "\n", encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 1
    assert f"not rated: {folder / 'usage.csv'}: column 7 has no name (an empty column of a spreadsheet? delete it); " \
           f"column 8 has no name" in result.output
    assert "given twice" not in result.output and "unknown column ''" not in result.output


@pytest.mark.parametrize("which", ["usage", "subscribers"])
def test_an_empty_csv_file_is_said_to_be_empty(folder: Path, which: str) -> None:  # noqa: F811
    (folder / f"{which}.csv").write_bytes(b"\r\n")
    result = rate(folder)
    assert result.exit_code == 1
    assert f"not rated: {folder / f'{which}.csv'}: the file is empty (not even a header line) — a " in result.output
    assert "no column" not in result.output
    assert not (folder / "rated.csv").exists()


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_json_lines_without_a_line_are_no_record_as_a_csv_file_of_its_header(folder: Path, text: str) -> None:  # noqa: F811
    (folder / "usage.jsonl").write_text(text, encoding="utf-8")
    result = rate(folder, usage="usage.jsonl")
    assert result.exit_code == 0, result.output
    assert "0 records in: 0 rated, 0 rejected" in result.output
    assert pl.read_csv(folder / "rated.csv").height == 0


@pytest.mark.parametrize("column, values, problem", [
    ("partyId", [["p1"], ["p2"], ["p3"]], "column 'partyId' is a list (List(String))"),
    ("activeOfferings", [{"a": "data-plan"}] * 3, "column 'activeOfferings' is a struct (Struct({'a': String}))"),
])
def test_a_parquet_subscribers_column_of_lists_or_structs_is_refused_naming_it(
        folder: Path, column: str, values: list[Any], problem: str) -> None:  # noqa: F811
    frame = pl.DataFrame({"id": ["ann", "ben", "cid"], "payer.payer": ["BA-1", "BA-2", "BA-3"]})
    frame.with_columns(pl.Series(column, values)).write_parquet(folder / "subscribers.parquet")
    result = rate(folder, subscribers="subscribers.parquet")
    no_traceback(result)
    assert result.exit_code == 1
    assert f"not rated: {folder / 'subscribers.parquet'}: {problem} — " in result.output
    assert not (folder / "rated.csv").exists()


def test_a_parquet_subscribers_list_of_offerings_still_rates(folder: Path) -> None:  # noqa: F811
    pl.DataFrame({"id": ["ann", "ben", "cid"], "activeOfferings": [["data-plan"], ["data-plan"], []],
                  "payer.payer": ["BA-1", "BA-2", "BA-3"]}).write_parquet(folder / "subscribers.parquet")
    result = rate(folder, subscribers="subscribers.parquet")
    assert result.exit_code == 0, result.output
    assert "4 records in: 3 rated, 1 rejected" in result.output


# ------------------------------------------------------------ a run that fails half-way


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("before", ["none", "an earlier output"])
def test_a_run_failing_half_way_leaves_no_half_written_output(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                                               suffix: str, before: str) -> None:  # noqa: F811
    from bssrules.pricing.bulk_write import RatedWriter

    output = folder / f"rated{suffix}"
    if before != "none":
        output.write_bytes(b"yesterday's rated file")
    write = RatedWriter.write
    calls = []

    def disk_full_at_the_second_chunk(self: RatedWriter, frame: pl.DataFrame) -> None:
        calls.append(frame.height)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        write(self, frame)

    monkeypatch.setattr(RatedWriter, "write", disk_full_at_the_second_chunk)
    result = rate(folder, "--chunk-size", "1", output=output.name)
    no_traceback(result)
    assert result.exit_code == 1
    assert "not rated: [Errno 28] No space left on device" in result.output
    assert len(calls) == 2  # the first chunk was written
    if before == "none":
        assert not output.exists()
    else:
        assert output.read_bytes() == b"yesterday's rated file"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["project", "usage.csv", "subscribers.csv", *([output.name] if before != "none" else [])])


def test_an_unexpected_error_is_said_in_one_line_not_a_traceback(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import bssrules.pricing.bulk_io as bulk_io

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("subscriber")

    monkeypatch.setattr(bulk_io, "rate_file", broken)
    result = rate(folder)
    no_traceback(result)
    assert result.exit_code == 1
    assert "not rated: an unexpected error (KeyError: 'subscriber')" in result.output
    assert not (folder / "rated.csv").exists()


def test_an_output_that_is_a_folder_is_refused_before_anything_is_read(folder: Path) -> None:  # noqa: F811
    (folder / "rated.csv").mkdir()
    result = rate(folder)
    assert result.exit_code == 2
    assert f"--output {folder / 'rated.csv'} is a folder" in result.output and "Errno" not in result.output
    assert list((folder / "rated.csv").iterdir()) == []


def test_a_parquet_decimal_volume_is_never_shown_cut_and_is_said_as_written(folder: Path) -> None:  # noqa: F811
    from decimal import Decimal

    volumes = [Decimal("1.1234567890123"), Decimal("-1"), Decimal("2000000000000"), Decimal("10.5")]
    pl.DataFrame({"id": ["d1", "d2", "d3", "d4"], "subscriber": ["ann"] * 4, "service": ["data"] * 4,
                  "start": [dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)] * 4, "volume": volumes,
                  "unit": ["MB"] * 4}, schema_overrides={"volume": pl.Decimal(30, 13)}
                 ).write_parquet(folder / "usage.parquet")
    result = rate(folder, usage="usage.parquet")
    assert result.exit_code == 0, result.output
    rated = rows(folder / "rated.csv")
    assert rated["d1"]["volume"] is None  # not 1.123456789012, a number the record does not hold
    assert rated["d1"]["reasonLabel"] == "the volume has more than 12 decimals"
    assert rated["d2"]["reasonLabel"] == "the volume must be a number of at least 0, got -1"
    assert rated["d3"]["reasonLabel"] == \
        "the volume 2000000000000 is beyond what one record can hold (at most 1,000,000,000,000)"
    assert (rated["d4"]["volume"], rated["d4"]["status"]) == ("10.5", "rated")


@pytest.mark.parametrize("values, problem", [
    ('"remaining": "5", "precedence": 1.5', "'precedence' must be an integer, got 1.5"),  # (was Decimal('1.5'))
    ('"remaining": "5", "precedence": "high"', "'precedence' must be an integer, got \"high\""),
    ('"remaining": "lots"', "'remaining': expected a number, got 'lots'"),  # (the key was not named)
])
def test_a_bucket_value_that_is_no_number_names_its_key_and_shows_it_as_written(folder: Path, values: str,
                                                                                  problem: str) -> None:  # noqa: F811
    (folder / "buckets.jsonl").write_text('{"id": "b1", "subscriber": "ann", "unit": "MB", ' + values + '}\n',
                                          encoding="utf-8")
    result = rate(folder, "--buckets", str(folder / "buckets.jsonl"))
    assert result.exit_code == 1
    assert f"not rated: {folder / 'buckets.jsonl'}:1: {problem}" in result.output
    assert not (folder / "rated.csv").exists()


# ----------------------------------------------- a file rated a month at a time (a rollover)

ALLOWANCES = Path(__file__).resolve().parents[2] / "examples" / "allowances"


@pytest.mark.parametrize("name, text", [
    ("usage.csv", "id,subscriber,service,start,volume,unit\n"
                  "m1,line-1,data,2026-06-20T10:00:00Z,1000,MB\n"
                  "m2,line-1,data,2026-07-21T10:00:00Z,1000,MB,one field too many\n"
                  "m3,line-2,data,2026-07-21T10:00:00Z,5,MB\n"),
    ("usage.jsonl", '{"id": "m1", "subscriber": "line-1", "service": "data", "start": "2026-06-20T10:00:00Z", '
                    '"volume": 1000, "unit": "MB"}\n'
                    '[1]\n'
                    '{"id": "m3", "subscriber": "line-2", "service": "data", "start": "2026-07-21T10:00:00Z", '
                    '"volume": 5, "unit": "MB"}\n'),
])
def test_a_row_that_can_be_no_record_in_a_file_rated_a_month_at_a_time_is_rejected(tmp_path: Path, name: str,
                                                                                     text: str) -> None:
    # the rows as read go to a Parquet file per month: the read problem went with them, and was
    # then refused as "unknown column 'malformed'" in a temporary file's name
    (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "subscribers.jsonl").write_text(
        '{"id": "line-1", "offering": "plan-3gb", "payers": {"payer": "BA-1"}}\n'
        '{"id": "line-2", "offering": "plan-3gb", "payers": {"payer": "BA-2"}}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["rate", str(ALLOWANCES), "--input", str(tmp_path / name),
                                      "--subscribers", str(tmp_path / "subscribers.jsonl"),
                                      "--output", str(tmp_path / "rated.csv")])
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert "3 records in: 2 rated, 1 rejected" in result.output and "rejected malformed: 1" in result.output
    labels = [r["reasonLabel"] for r in rows(tmp_path / "rated.csv").values() if r["status"] == "rejected"]
    assert labels in (["the row has 7 fields where the header has 6"], ["a line that is not a JSON object: [1]"])


@pytest.mark.parametrize("name, text, line", [
    ("subscribers.csv", 'id,activeOfferings,payers\nann,data-plan,"{""payer"": ""BA-ANN""}"\n'
                        ',data-plan,"{""payer"": ""BA-X""}"\n\n', 3),
    ("subscribers.jsonl", '{"id": "ann", "activeOfferings": ["data-plan"], "payers": {"payer": "BA-ANN"}}\n'
                          '{"id": null, "activeOfferings": ["data-plan"], "payers": {"payer": "BA-X"}}\n', 2),
])
def test_a_subscriber_without_an_id_is_an_error_at_its_line(folder: Path, name: str, text: str,  # noqa: F811
                                                            line: int) -> None:
    # it was dropped unsaid: a row of the file that no usage could name, its payer forgotten
    (folder / name).write_text(text, encoding="utf-8")
    result = rate(folder, subscribers=name)
    assert result.exit_code == 1
    assert f"line {line}: a subscriber without an id: no usage can name it" in result.output
    assert not (folder / "rated.csv").exists()


def test_blank_lines_of_a_subscribers_csv_file_are_no_subscriber(folder: Path) -> None:  # noqa: F811
    text = (folder / "subscribers.csv").read_text(encoding="utf-8")
    (folder / "subscribers.csv").write_text(text.replace("\n", "\r\n") + "\r\n\r\n", encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["buckets.jsonl", "accumulators.jsonl"])
def test_an_output_that_is_a_state_file_to_be_written_is_refused(folder: Path, name: str) -> None:  # noqa: F811
    # the rated file and the new state overwrote one another, unsaid
    result = rate(folder, "--state-out", str(folder / "state"), output=f"state/{name}")
    assert result.exit_code == 2
    assert f"--output {folder / 'state' / name} is the {name} that --state-out {folder / 'state'} receives" \
        in result.output
    assert not (folder / "state").exists()
