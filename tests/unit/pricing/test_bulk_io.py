"""Rating files in bulk: CSV, JSON lines and Parquet in and out, malformed rows kept and
rejected, chunking without effect on the results, and the ``bssrules rate`` command."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.pricing.bulk import rated_usages
from bssrules.pricing.bulk_io import rate_file, read_accumulators, read_buckets, read_subscribers
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import AccumulatorKey, AccumulatorTotal, Bucket, RatingState, Subscriber, UsageRecord
from bssrules.rules.project import load_project

RULES = """\
ruleSets:
  - id: mobile
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: spend
        measure: amount
        period: month
        thresholds:
          - {id: warn, at: 3, action: notify}
          - {id: cap, at: 8, action: block, reason: {code: spendCap, label: The monthly cap is reached}}
    rules:
      - id: night-data
        when: {usage.service: data, usage.start: {timeOfDay: {from: "23:00", to: "05:59"}}}
        rate: {currency: EUR, per: GB, tiers: [{upTo: 1, amount: 0.5}, {amount: 0.25}]}
      - id: data
        when: {usage.service: data}
        rate: {currency: EUR, per: GB, tiers: [{upTo: 1, amount: 2}, {upTo: 5, amount: 1.5}, {amount: 1}]}
      - id: voice
        when: {usage.service: voice}
        rate: {amount: 0.05, currency: EUR, per: min}
  - id: shared
    kind: splitBilling
    default: payer
    rules:
      - id: data-shared
        when: {charge.service: data}
        shares: [{payer: employer, weight: 2}, {payer: payer, weight: 1}]
"""

UTC = dt.timezone.utc
START = dt.datetime(2026, 6, 29, 21, 0, tzinfo=UTC)  # into July, in Paris time


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "rules.yaml").write_text(RULES, encoding="utf-8")
    return folder


SUBSCRIBERS = [
    {"id": "s1", "party_id": "p1", "classification": "GOLD", "offering": "", "active_offerings": "plan;extra",
     "payers": {"payer": "acc-1"}, "split_billing": None},
    {"id": "s2", "party_id": "p2", "classification": "", "offering": "", "active_offerings": "plan",
     "payers": {"payer": "acc-2", "employer": "corp"}, "split_billing": "shared"},
    {"id": "s3", "party_id": "p3", "classification": "", "offering": "", "active_offerings": "",
     "payers": {}, "split_billing": None},
]


def usage_rows() -> list[dict[str, Any]]:
    rows = []
    services = [("data", "GB", "0.75"), ("voice", "min", "12"), ("data", "MB", "1500"), ("data", None, "2.5"),
                ("voice", "s", "90")]
    for i in range(30):
        service, unit, volume = services[i % len(services)]
        start = START + dt.timedelta(minutes=47 * i)
        rows.append({"id": f"u{i:02d}", "subscriber": ["s1", "s2", "s3", "s1", "s2", "s9"][i % 6], "service": service,
                     "start": start.isoformat().replace("+00:00", "Z"), "volume": volume, "unit": unit})
    return rows


MALFORMED = [
    {"id": "bad-date", "subscriber": "s1", "service": "data", "start": "yesterday", "volume": "1", "unit": "GB"},
    {"id": "no-zone", "subscriber": "s1", "service": "data", "start": "2026-06-30T10:00:00", "volume": "1",
     "unit": "GB"},
    {"id": "negative", "subscriber": "s1", "service": "data", "start": "2026-06-30T10:00:00Z", "volume": "-2",
     "unit": "GB"},
    {"id": "words", "subscriber": "s1", "service": "data", "start": "2026-06-30T10:00:00Z", "volume": "lots",
     "unit": "GB"},
    {"id": "nobody", "subscriber": None, "service": "data", "start": "2026-06-30T10:00:00Z", "volume": "1",
     "unit": "GB"},
]


def write_usage(path: Path, rows: list[dict[str, Any]]) -> None:
    frame = pl.DataFrame(rows, schema={"id": pl.Utf8, "subscriber": pl.Utf8, "service": pl.Utf8, "start": pl.Utf8,
                                       "volume": pl.Utf8, "unit": pl.Utf8})
    if path.suffix == ".csv":
        frame.write_csv(path)
    elif path.suffix == ".jsonl":
        frame.write_ndjson(path)
    else:
        frame.write_parquet(path)


def write_subscribers(path: Path) -> None:
    rows = [{**s, "payers": json.dumps(s["payers"])} for s in SUBSCRIBERS]
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps({**s}) + "\n" for s in SUBSCRIBERS), encoding="utf-8")
    elif path.suffix == ".csv":
        pl.DataFrame(rows).write_csv(path)
    else:
        pl.DataFrame(rows).write_parquet(path)


BUCKETS = [
    {"id": "b-data", "subscriber": "s1", "unit": "GB", "remaining": "1.2", "precedence": 10, "services": ["data"]},
    {"id": "b-promo", "subscriber": "s1", "unit": "MB", "remaining": "300", "precedence": 1, "services": ["data"],
     "valid_to": "2026-06-30T12:00:00Z"},
    {"id": "b-wallet", "subscriber": "s3", "unit": "EUR", "remaining": "4.00"},
]


def write_buckets(path: Path) -> None:
    path.write_text("".join(json.dumps(b) + "\n" for b in BUCKETS), encoding="utf-8")


def reference(rows: list[dict[str, Any]]) -> tuple[list, RatingState]:
    """The reference rating of the well-formed rows, with the same buckets."""
    subscribers = {s["id"]: Subscriber(s["id"], s["party_id"], s["classification"] or None, None,
                                       tuple(x for x in s["active_offerings"].split(";") if x), s["payers"],
                                       s["split_billing"]) for s in SUBSCRIBERS}
    records = [UsageRecord(r["id"], r["subscriber"], r["service"],
                           dt.datetime.fromisoformat(r["start"].replace("Z", "+00:00")), Decimal(r["volume"]),
                           r["unit"]) for r in rows]
    buckets = {b["id"]: Bucket(b["id"], b["subscriber"], b["unit"], Decimal(b["remaining"]), b.get("precedence", 100),
                               tuple(b.get("services", ())), None,
                               dt.datetime.fromisoformat(b["valid_to"].replace("Z", "+00:00")) if "valid_to" in b
                               else None) for b in BUCKETS}
    book = load_project_rules()
    return rate_records(records, subscribers, book, RatingState(buckets))


_BOOK: list = []


def load_project_rules():  # type: ignore[no-untyped-def]
    if not _BOOK:
        import tempfile

        with tempfile.TemporaryDirectory() as temp:
            (Path(temp) / "rules.yaml").write_text(RULES, encoding="utf-8")
            _BOOK.append(load_project(Path(temp)).rules)
    return _BOOK[0]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_rated_file_in_each_format_holds_what_the_reference_rates(tmp_path: Path, project: Path,
                                                                    suffix: str) -> None:
    rows = usage_rows()
    write_usage(tmp_path / f"usage{suffix}", rows)
    write_subscribers(tmp_path / f"subscribers{suffix}")
    write_buckets(tmp_path / "buckets.jsonl")
    summary = rate_file(load_project(project).rules, tmp_path / f"usage{suffix}", tmp_path / f"subscribers{suffix}",
                        tmp_path / "rated.parquet", buckets=tmp_path / "buckets.jsonl", state_out=tmp_path / "state")
    expected, expected_state = reference(rows)
    got = rated_usages(pl.read_parquet(tmp_path / "rated.parquet"))
    assert got == expected
    assert summary.records == len(rows) and summary.rated == sum(r.status == "rated" for r in expected)
    assert summary.totals["EUR"] == sum((r.amount for r in expected if r.status == "rated"), Decimal(0))
    new_buckets = {row["id"]: row for row in read_buckets(tmp_path / "state" / "buckets.jsonl").iter_rows(named=True)}
    assert {k: new_buckets[k]["remaining"] for k in new_buckets} == \
        {k: b.remaining for k, b in expected_state.buckets.items()}
    totals = read_accumulators(tmp_path / "state" / "accumulators.jsonl")
    assert {AccumulatorKey(r["accumulator"], r["subscriber"], r["period"]):
            AccumulatorTotal(r["volume"], r["amount"], tuple(r["reached"])) for r in totals.iter_rows(named=True)} \
        == dict(expected_state.accumulators)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_the_output_format_follows_the_extension_and_the_three_agree(tmp_path: Path, project: Path,
                                                                     suffix: str) -> None:
    write_usage(tmp_path / "usage.csv", usage_rows())
    write_subscribers(tmp_path / "subscribers.csv")
    book = load_project(project).rules
    rate_file(book, tmp_path / "usage.csv", tmp_path / "subscribers.csv", tmp_path / "rated.parquet")
    rate_file(book, tmp_path / "usage.csv", tmp_path / "subscribers.csv", tmp_path / f"rated-too{suffix}")
    parquet = pl.read_parquet(tmp_path / "rated.parquet")
    other = pl.read_csv(tmp_path / f"rated-too{suffix}", infer_schema=False) if suffix == ".csv" else \
        pl.read_ndjson(tmp_path / f"rated-too{suffix}") if suffix == ".jsonl" else \
        pl.read_parquet(tmp_path / f"rated-too{suffix}")
    assert other["id"].to_list() == parquet["id"].to_list()
    assert other["status"].to_list() == parquet["status"].to_list()
    assert other["reasonCode"].to_list() == parquet["reasonCode"].to_list()
    amounts = [Decimal(str(a)) for a in other["amount"].to_list()]
    assert amounts == [Decimal(a) for a in parquet["amount"].to_list()]
    if suffix == ".csv":  # nested columns as JSON text, money in the currency's decimals
        charges = [json.loads(c) for c in other["charges"].to_list()]
        assert all(isinstance(c, list) for c in charges)
        assert any(len(c) == 2 for c in charges)  # shared between the employer and the subscriber
        rated_eur = other.filter(pl.col("status") == "rated")["amount"].to_list()
        assert all(len(a.split(".")[1]) == 2 for a in rated_eur)


def test_malformed_rows_are_kept_and_rejected_never_dropped(tmp_path: Path, project: Path) -> None:
    rows = usage_rows()[:6] + MALFORMED
    write_usage(tmp_path / "usage.csv", rows)
    with open(tmp_path / "usage.csv", "a", encoding="utf-8") as out:
        out.write("short-row,s1,data\n")  # too few fields
    write_subscribers(tmp_path / "subscribers.csv")
    summary = rate_file(load_project(project).rules, tmp_path / "usage.csv", tmp_path / "subscribers.csv",
                        tmp_path / "rated.jsonl")
    rated = pl.read_ndjson(tmp_path / "rated.jsonl")
    assert rated.height == len(rows) + 1 == summary.records
    by_id = {row["id"]: row for row in rated.iter_rows(named=True)}
    for record_id, label in [("bad-date", "the usage start must be a date-time, got 'yesterday'"),
                             ("no-zone", "the usage start has no time zone"),
                             ("negative", "the volume must be a number of at least 0, got -2"),
                             ("words", "the volume must be a number of at least 0, got lots"),
                             ("nobody", "the record has no subscriber"),
                             ("short-row", "the row has 3 fields where the header has 6")]:
        assert by_id[record_id]["status"] == "rejected"
        assert (by_id[record_id]["reasonCode"], by_id[record_id]["reasonLabel"]) == ("malformed", label)
    assert summary.rejected["malformed"] == 6


def test_chunking_does_not_change_the_results(tmp_path: Path, project: Path) -> None:
    write_usage(tmp_path / "usage.parquet", usage_rows() + MALFORMED)
    write_subscribers(tmp_path / "subscribers.csv")
    write_buckets(tmp_path / "buckets.jsonl")
    book = load_project(project).rules
    outcomes = []
    for chunk_size in (1_000, 7, 1):
        folder = tmp_path / f"chunks-{chunk_size}"
        summary = rate_file(book, tmp_path / "usage.parquet", tmp_path / "subscribers.csv", folder / "rated.parquet",
                            buckets=tmp_path / "buckets.jsonl", state_out=folder / "state", chunk_size=chunk_size)
        rated = pl.read_parquet(folder / "rated.parquet").sort("id")
        state = (read_buckets(folder / "state" / "buckets.jsonl").sort("id"),
                 read_accumulators(folder / "state" / "accumulators.jsonl").sort("accumulator", "subscriber", "period"))
        outcomes.append((summary.partitions, rated_usages(rated), state))
    assert [o[0] for o in outcomes] == [1, 5, 35]
    assert outcomes[0][1] == outcomes[1][1] == outcomes[2][1]
    for frames in zip(*(o[2] for o in outcomes)):
        assert frames[0].equals(frames[1]) and frames[0].equals(frames[2])


def test_subscribers_read_from_payer_columns_and_lists(tmp_path: Path) -> None:
    pl.DataFrame({"id": ["s1"], "active_offerings": ["a; b;"], "payer.payer": ["acc"], "payer.employer": [None],
                  "split_billing": [None]}).write_csv(tmp_path / "subs.csv")
    frame = read_subscribers(tmp_path / "subs.csv")
    row = frame.row(0, named=True)
    assert row["active_offerings"] == ["a", "b"]
    assert row["payers"] == [{"role": "payer", "account": "acc"}]


# --------------------------------------------------------------------------------- CLI


def test_the_rate_command_rates_a_file_and_prints_a_summary(tmp_path: Path, project: Path) -> None:
    write_usage(tmp_path / "usage.parquet", usage_rows() + MALFORMED)
    write_subscribers(tmp_path / "subscribers.csv")
    write_buckets(tmp_path / "buckets.jsonl")
    result = CliRunner().invoke(app, ["rate", str(project), "--input", str(tmp_path / "usage.parquet"),
                                      "--subscribers", str(tmp_path / "subscribers.csv"),
                                      "--output", str(tmp_path / "rated.parquet"),
                                      "--buckets", str(tmp_path / "buckets.jsonl"),
                                      "--state-out", str(tmp_path / "state"), "--chunk-size", "10"])
    assert result.exit_code == 0, result.output
    assert "35 records in:" in result.output and "records/s" in result.output
    assert "rejected malformed: 5" in result.output and "total EUR:" in result.output
    assert pl.read_parquet(tmp_path / "rated.parquet").height == 35
    assert (tmp_path / "state" / "buckets.jsonl").is_file() and (tmp_path / "state" / "accumulators.jsonl").is_file()


@pytest.mark.parametrize("change, code, message", [
    ({"--input": "missing.parquet"}, 1, "no such file"),
    ({"--output": "rated.xlsx"}, 2, "unknown file format '.xlsx'"),
    ({"--input": "usage.txt"}, 2, "unknown file format '.txt'"),
])
def test_the_rate_command_says_what_is_wrong_with_its_files(tmp_path: Path, project: Path, change: dict[str, str],
                                                            code: int, message: str) -> None:
    write_usage(tmp_path / "usage.parquet", usage_rows())
    write_subscribers(tmp_path / "subscribers.csv")
    options = {"--input": "usage.parquet", "--subscribers": "subscribers.csv", "--output": "rated.parquet", **change}
    arguments = ["rate", str(project)] + [x for k, v in options.items() for x in (k, str(tmp_path / v))]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == code
    assert message in result.output


def test_the_rate_command_refuses_a_broken_project(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "rules.yaml").write_text("ruleSets:\n  - id: x\n    kind: usage\n    rules: []\n", encoding="utf-8")
    write_usage(tmp_path / "usage.parquet", usage_rows())
    write_subscribers(tmp_path / "subscribers.csv")
    result = CliRunner().invoke(app, ["rate", str(folder), "--input", str(tmp_path / "usage.parquet"),
                                      "--subscribers", str(tmp_path / "subscribers.csv"),
                                      "--output", str(tmp_path / "rated.parquet")])
    assert result.exit_code == 1
    assert "error" in result.output


def test_parquet_amounts_have_the_decimals_of_the_currency_as_the_api_writes_them(tmp_path: Path,
                                                                                   project: Path) -> None:
    write_usage(tmp_path / "usage.csv", usage_rows())
    write_subscribers(tmp_path / "subscribers.csv")
    rate_file(load_project(project).rules, tmp_path / "usage.csv", tmp_path / "subscribers.csv",
              tmp_path / "rated.parquet")
    rated = pl.read_parquet(tmp_path / "rated.parquet")
    assert rated.schema["amount"] == pl.Decimal(18, 2) and rated.schema["prepaid"] == pl.Decimal(18, 2)
    assert rated.schema["charges"] == pl.List(pl.Struct({"payer": pl.Utf8, "billingAccount": pl.Utf8,
                                                         "amount": pl.Decimal(18, 2)}))
    # 0.75 GB at night (23:00 in Paris) at 0.50 EUR/GB: 0.375, rounded half up to 0.38 (not 0.380); 1.50 not 1.5
    assert str(rated.filter(pl.col("id") == "u00")["amount"][0]) == "0.38"
    assert all(len(str(a).split(".")[1]) == 2 for a in rated.filter(pl.col("status") == "rated")["amount"])
    shared = [c for cs in rated["charges"].to_list() for c in cs if c["payer"] == "employer"]
    assert shared and all(str(c["amount"]).split(".")[1].__len__() == 2 for c in shared)


@pytest.mark.parametrize(("currencies", "digits"), [(["JPY"], 0), (["EUR", "KWD"], 3)])
def test_a_parquet_column_holds_the_largest_minor_unit_of_the_books_currencies(tmp_path: Path, currencies: list[str],
                                                                              digits: int) -> None:
    rules = "ruleSets:\n  - id: mobile\n    kind: usage\n    rules:\n" + "".join(
        f"      - id: r-{c}\n        when: {{usage.service: s-{c}}}\n"
        f"        rate: {{amount: 1.5, currency: {c}, per: GB}}\n" for c in currencies)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "rules.yaml").write_text(rules, encoding="utf-8")
    rows = [{"id": f"u{i}", "subscriber": "s1", "service": f"s-{c}", "start": "2026-06-30T10:00:00Z",
             "volume": "1.25", "unit": "GB"} for i, c in enumerate(currencies)]
    write_usage(tmp_path / "usage.csv", rows)
    write_subscribers(tmp_path / "subscribers.csv")
    rate_file(load_project(tmp_path / "project").rules, tmp_path / "usage.csv", tmp_path / "subscribers.csv",
              tmp_path / "rated.parquet")
    rate_file(load_project(tmp_path / "project").rules, tmp_path / "usage.csv", tmp_path / "subscribers.csv",
              tmp_path / "rated.csv")
    rated = pl.read_parquet(tmp_path / "rated.parquet")
    assert rated["status"].to_list() == ["rated"] * len(currencies)
    assert rated.schema["amount"] == pl.Decimal(18, digits)
    # 1.25 GB at 1.5 a GB is 1.875: JPY 2 (no minor unit), EUR 1.88, KWD 1.875 — each exact in the column,
    # and in CSV with its own currency's decimals
    expected = {"JPY": "2", "EUR": "1.88", "KWD": "1.875"}
    assert [Decimal(str(a)) for a in rated["amount"].to_list()] == [Decimal(expected[c]) for c in currencies]
    text = pl.read_csv(tmp_path / "rated.csv", infer_schema=False)
    assert text["amount"].to_list() == [expected[c] for c in currencies]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_the_rated_file_names_its_columns_in_camel_case_as_the_yaml_and_the_api(tmp_path: Path, project: Path,
                                                                               suffix: str) -> None:
    write_usage(tmp_path / "usage.csv", usage_rows())
    write_subscribers(tmp_path / "subscribers.csv")
    rate_file(load_project(project).rules, tmp_path / "usage.csv", tmp_path / "subscribers.csv",
              tmp_path / f"rated{suffix}")
    rated = pl.read_csv(tmp_path / "rated.csv", infer_schema=False) if suffix == ".csv" else \
        pl.read_ndjson(tmp_path / "rated.jsonl") if suffix == ".jsonl" else pl.read_parquet(tmp_path / "rated.parquet")
    assert rated.columns == [
        "id", "subscriber", "service", "start", "volume", "unit", "type", "roaming", "country", "status", "ruleSet",
        "rule", "provisioningId", "currency", "ratedVolume", "refusedVolume", "amount", "prepaid", "charges",
        "buckets", "events", "reasons", "reasonCode", "reasonLabel", "ratingPath"]
    charges = [c for cell in rated["charges"].to_list()
               for c in (json.loads(cell) if suffix == ".csv" else cell)]
    assert charges and all(list(c) == ["payer", "billingAccount", "amount"] for c in charges)
    assert any(c["payer"] == "employer" and c["billingAccount"] for c in charges)


def test_the_next_partition_is_read_ahead_and_no_further(tmp_path: Path) -> None:
    from bssrules.pricing.bulk_io import _partitions

    rows = usage_rows()
    write_usage(tmp_path / "usage.parquet", rows)
    spill = tmp_path / "spill"
    spill.mkdir()
    timings: dict[str, float] = {}
    partitions = _partitions(tmp_path / "usage.parquet", 5, spill, timings)
    seen = [next(partitions)]
    # the first partition is being rated: the second may be read, the other three are still spilled
    assert len(list(spill.glob("part-*.arrow"))) >= 3
    seen += list(partitions)
    assert len(seen) == 5 and sum(p.height for p in seen) == len(rows)
    assert not list(spill.glob("part-*.arrow"))
    assert {"read partitions (in the background)", "wait for the next partition"} <= set(timings)


def test_a_frame_built_elsewhere_with_missing_values_has_them_rejected_as_malformed(project: Path) -> None:
    from bssrules.pricing.bulk import BulkState, rate_chunk, records_frame, subscribers_frame

    book = load_project(project).rules
    records = [UsageRecord(f"r{i}", "s1", "voice", START + dt.timedelta(minutes=i), Decimal(i + 1), "min")
               for i in range(6)]
    subscribers = subscribers_frame([Subscriber("s1", payers={"payer": "acc-1"})])
    clean, _ = rate_chunk(records_frame(records), subscribers, book, BulkState.empty())
    assert clean["status"].to_list() == ["rated"] * 6 and clean["reason_code"].null_count() == 6
    frame = records_frame(records).with_columns(
        start=pl.when(pl.col("id") == "r1").then(None).otherwise(pl.col("start")),
        volume=pl.when(pl.col("id") == "r2").then(None).when(pl.col("id") == "r3").then(pl.lit(Decimal(-1)))
        .otherwise(pl.col("volume")),
        service=pl.when(pl.col("id") == "r4").then(pl.lit("")).otherwise(pl.col("service")))
    rated, _ = rate_chunk(frame, subscribers, book, BulkState.empty())
    reasons = {row["id"]: (row["status"], row["reason_code"], row["reason_label"]) for row in rated.iter_rows(named=True)}
    assert reasons["r0"] == reasons["r5"] == ("rated", None, None)
    assert reasons["r1"] == ("rejected", "malformed", "the usage start has no time zone")
    assert reasons["r2"][:2] == ("rejected", "malformed") and reasons["r2"][2].startswith("the volume must be a number")
    assert reasons["r3"][:2] == ("rejected", "malformed") and reasons["r3"][2].startswith("the volume must be a number")
    assert reasons["r4"] == ("rejected", "malformed", "the usage service must be a non-empty text")


def test_reading_ahead_keeps_the_order_stays_one_ahead_and_raises_the_readers_error() -> None:
    from bssrules.errors import InvalidInput
    from bssrules.pricing.bulk_io import _read_ahead

    made: list[int] = []

    def frames() -> Any:
        for i in range(4):
            made.append(i)
            yield pl.DataFrame({"i": [i]})
        raise InvalidInput("the fifth batch is bad")

    got: list[int] = []
    with pytest.raises(InvalidInput, match="the fifth batch is bad"):
        for frame in _read_ahead(frames()):
            got.append(frame["i"][0])
            assert len(made) <= len(got) + 1  # the one being rated and the next, no more
    assert got == [0, 1, 2, 3]
