"""``bssrules rate`` on a Dask cluster gives what the single-process run gives.

A local cluster of two worker processes (distributed.LocalCluster) rates a usage dataset —
three Parquet part files with several row groups, malformed rows, an unknown subscriber —
with tiered rates, a monthly amount threshold, a capped volume threshold (rateUpToCap),
unit and money buckets, accumulator totals from a previous run and a split between two
payers; the rated records, the state out and the summary must be those of ``rate_file``
in one process on the same records as one file.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
from pathlib import Path
from typing import Any, Iterator

import polars as pl
import pytest
from typer.testing import CliRunner

distributed = pytest.importorskip("distributed")

from bssrules.cli import app  # noqa: E402
from bssrules.pricing.bulk_io import rate_file, read_accumulators, read_buckets  # noqa: E402
from bssrules.pricing.bulk_warm import warm_up  # noqa: E402
from bssrules.rules.project import load_project  # noqa: E402

RULES = """\
ruleSets:
  - id: mobile
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: spend
        measure: amount
        period: month
        when: {usage.service: data}
        thresholds:
          - {id: warn, at: 20, action: notify}
          - {id: stop, at: 60, action: block, reason: {code: spendCap, label: 60 EUR of data a month}}
      - id: calls
        measure: volume
        period: day
        when: {usage.service: voice}
        thresholds:
          - id: hour
            at: 60
            action: block
            crossing: rateUpToCap
            reason: {code: dailyCalls, label: One hour of calls a day}
    rules:
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
SUBSCRIBERS = 30
RECORDS = 1_200


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    warm_up()  # the workers then load the kernels from this process's cache
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  scheduler_port=0) as local, distributed.Client(local) as client:
        pids = set(client.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, not this one
        yield local


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cluster")
    (folder / "project").mkdir()
    (folder / "project" / "rules.yaml").write_text(RULES, encoding="utf-8")
    generator = random.Random(16)
    start = dt.datetime(2026, 6, 28, 20, tzinfo=dt.timezone.utc)  # into July in Paris
    rows = []
    for i in range(RECORDS):
        service, unit, volume = generator.choice([("data", "MB", str(generator.randrange(1, 3000))),
                                                  ("data", "GB", f"{generator.randrange(1, 400) / 100}"),
                                                  ("voice", "s", str(generator.randrange(1, 4000))),
                                                  ("voice", "min", str(generator.randrange(1, 50)))])
        rows.append({"id": f"u{i:05d}", "subscriber": f"s{generator.randrange(SUBSCRIBERS + 1)}",  # s30: unknown
                     "service": service, "start": (start + dt.timedelta(minutes=7 * i)).isoformat(),
                     "volume": volume, "unit": unit})
    rows += [{"id": "bad-start", "subscriber": "s1", "service": "data", "start": "soon", "volume": "1", "unit": "GB"},
             {"id": "bad-volume", "subscriber": "s2", "service": "data", "start": "2026-06-30T10:00:00Z",
              "volume": "-1", "unit": "GB"}]
    generator.shuffle(rows)
    usage = pl.DataFrame(rows, schema={k: pl.Utf8 for k in rows[0]})
    usage.write_parquet(folder / "usage.parquet", row_group_size=100)
    (folder / "usage").mkdir()
    third = usage.height // 3 + 1
    for part in range(3):
        usage[part * third:(part + 1) * third].write_parquet(folder / "usage" / f"part-{part}.parquet",
                                                            row_group_size=150)
    pl.DataFrame({"id": [f"s{i}" for i in range(SUBSCRIBERS)],
                  "payers": [json.dumps({"payer": f"BA-{i}", **({"employer": "BA-CORP"} if i % 3 else {})})
                             for i in range(SUBSCRIBERS)],
                  "splitBilling": ["shared" if i % 2 else None for i in range(SUBSCRIBERS)]}) \
        .write_csv(folder / "subscribers.csv")
    buckets = [{"id": f"b{i}", "subscriber": f"s{i}", "unit": "GB", "remaining": "1.5", "services": ["data"]}
               for i in range(0, SUBSCRIBERS, 2)]
    buckets += [{"id": f"w{i}", "subscriber": f"s{i}", "unit": "EUR", "remaining": "4.00"}
                for i in range(1, SUBSCRIBERS, 5)]
    (folder / "buckets.jsonl").write_text("".join(json.dumps(b) + "\n" for b in buckets), encoding="utf-8")
    totals = [{"accumulator": "mobile/spend", "subscriber": f"s{i}", "period": "2026-06", "amount": "45",
               "reached": ["warn"]} for i in range(0, SUBSCRIBERS, 3)]
    (folder / "accumulators.jsonl").write_text("".join(json.dumps(t) + "\n" for t in totals), encoding="utf-8")
    return folder


def _summary(output: str) -> list[str]:
    """The summary's lines, without the time and the line naming what was written."""
    return [re.sub(r"\(\d+\.\d+ s, [\d,]+ records/s(; [\d.]+ s with the cluster's start)?\)", "", line)
            for line in output.splitlines()
            if not line.startswith(("wrote ", "compiled "))]


def test_the_cluster_rates_a_parquet_dataset_as_one_process_does(cluster: Any, files: Path) -> None:
    single = files / "single"
    book = load_project(files / "project").rules
    summary = rate_file(book, files / "usage.parquet", files / "subscribers.csv", single / "rated.parquet",
                        buckets=files / "buckets.jsonl", accumulators=files / "accumulators.jsonl",
                        state_out=single / "state")
    assert summary.rated and summary.partly_rated and summary.rejected["spendCap"] and summary.rejected["malformed"]
    single_run = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "usage.parquet"),
                                          "--subscribers", str(files / "subscribers.csv"),
                                          "--buckets", str(files / "buckets.jsonl"),
                                          "--accumulators", str(files / "accumulators.jsonl"),
                                          "--output", str(files / "single-cli.parquet")])
    assert single_run.exit_code == 0, single_run.output

    result = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "usage"),
                                      "--subscribers", str(files / "subscribers.csv"),
                                      "--buckets", str(files / "buckets.jsonl"),
                                      "--accumulators", str(files / "accumulators.jsonl"),
                                      "--output", str(files / "rated"), "--state-out", str(files / "state"),
                                      "--scheduler", cluster.scheduler_address, "--partitions", "5"])
    assert result.exit_code == 0, result.output
    assert "wrote 5 part files in" in result.output
    assert _summary(result.output) == _summary(single_run.output)

    parts = sorted((files / "rated").glob("part-*.parquet"))
    assert len(parts) == 5
    subscribers_by_part = [set(pl.read_parquet(p)["subscriber"].to_list()) for p in parts]
    assert sum(len(s) for s in subscribers_by_part) == len(set().union(*subscribers_by_part))  # one part each
    expected = pl.read_parquet(single / "rated.parquet").sort("id")
    rated = pl.read_parquet(parts).sort("id")
    assert rated.height == RECORDS + 2
    assert rated.equals(expected)
    assert read_buckets(files / "state" / "buckets.jsonl").sort("id") \
        .equals(read_buckets(single / "state" / "buckets.jsonl").sort("id"))
    keys = ["accumulator", "subscriber", "period"]
    assert read_accumulators(files / "state" / "accumulators.jsonl").sort(keys) \
        .equals(read_accumulators(single / "state" / "accumulators.jsonl").sort(keys))


def test_a_csv_file_is_read_by_the_command_and_rated_on_the_cluster(cluster: Any, files: Path) -> None:
    pl.read_parquet(files / "usage.parquet").write_csv(files / "usage.csv")
    single = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "usage.csv"),
                                      "--subscribers", str(files / "subscribers.csv"),
                                      "--output", str(files / "csv-single.parquet")])
    on_cluster = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "usage.csv"),
                                          "--subscribers", str(files / "subscribers.csv"),
                                          "--output", str(files / "csv-rated"),
                                          "--scheduler", cluster.scheduler_address])
    assert single.exit_code == 0 and on_cluster.exit_code == 0, on_cluster.output
    assert _summary(on_cluster.output) == _summary(single.output)
    assert pl.read_parquet(files / "csv-rated").sort("id").equals(
        pl.read_parquet(files / "csv-single.parquet").sort("id"))


def test_the_cluster_refuses_an_output_that_is_not_a_new_folder(cluster: Any, files: Path) -> None:
    """An argument error (exit 2), said before any cluster is asked or started."""
    (files / "taken").mkdir()
    (files / "taken" / "part-00000.parquet").write_bytes(b"")
    for where in (["--scheduler", cluster.scheduler_address], ["--workers", "2"]):
        for output, message in (("taken", "the output folder is not empty"),
                                ("rated.csv", "on a cluster the output is a Parquet dataset")):
            result = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "usage"),
                                              "--subscribers", str(files / "subscribers.csv"),
                                              "--output", str(files / output), *where])
            assert result.exit_code == 2 and message in result.output, result.output
            assert "compil" not in result.output  # (refused before the kernels or a local cluster)
    assert not (files / "rated.csv").exists()


def test_the_cluster_checks_the_state_files_against_the_rules_as_one_process_does(cluster: Any,
                                                                                   files: Path) -> None:
    # (a mistyped accumulator id close to one of the rules': its cap would be bypassed)
    (files / "typo.jsonl").write_text(json.dumps({"accumulator": "mobile/spnd", "subscriber": "s0",
                                                  "period": "2026-06", "amount": "45"}) + "\n", encoding="utf-8")
    outputs = {"single": files / "typo-single.parquet", "cluster": files / "typo-rated"}
    for where, output in outputs.items():
        result = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "usage"),
                                          "--subscribers", str(files / "subscribers.csv"),
                                          "--accumulators", str(files / "typo.jsonl"), "--output", str(output),
                                          *(["--scheduler", cluster.scheduler_address] if where == "cluster" else [])])
        assert result.exit_code == 1, result.output
        assert "no accumulator 'mobile/spnd' (did you mean 'mobile/spend'?)" in result.output, (where, result.output)
    assert not any((files / "typo-rated").glob("part-*"))


def test_workers_starts_a_local_cluster_of_its_own(files: Path) -> None:
    result = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "usage"),
                                      "--subscribers", str(files / "subscribers.csv"),
                                      "--output", str(files / "rated-local"), "--workers", "2", "--partitions", "3"])
    assert result.exit_code == 0, result.output
    assert "wrote 3 part files in" in result.output
    single = rate_file(load_project(files / "project").rules, files / "usage.parquet", files / "subscribers.csv",
                       files / "single-local.parquet")
    assert f"{single.records:,} records in: {single.rated:,} rated" in result.output
    assert pl.read_parquet(files / "rated-local").sort("id").equals(
        pl.read_parquet(files / "single-local.parquet").sort("id"))


def test_the_cluster_makes_the_catalog_allowances_as_one_process_does(cluster: Any, tmp_path: Path) -> None:
    """The allowance buckets of the catalog (issue 15) are made on a cluster too: the same
    charges and the same state as the single-process run (and not the charges without them)."""
    project = Path(__file__).resolve().parents[2] / "examples" / "allowances"
    (tmp_path / "usage.csv").write_text(
        "id,subscriber,service,start,volume,unit\n"
        "p1,line-1,data,2026-06-20T10:00:00Z,1000,MB\n"
        "p2,line-1,data,2026-06-21T10:00:00Z,1000,MB\n"
        "p3,line-2,data,2026-06-21T10:00:00Z,1000,MB\n", encoding="utf-8")
    (tmp_path / "subscribers.jsonl").write_text(
        '{"id": "line-1", "offering": "plan-3gb", "payers": {"payer": "BA-1"}, "startDate": "2026-06-16"}\n'
        '{"id": "line-2", "offering": "plan-3gb", "payers": {"payer": "BA-2"}}\n', encoding="utf-8")
    common = ["rate", str(project), "--input", str(tmp_path / "usage.csv"),
              "--subscribers", str(tmp_path / "subscribers.jsonl")]
    single = CliRunner().invoke(app, common + ["--output", str(tmp_path / "single.parquet"),
                                               "--state-out", str(tmp_path / "single-state")])
    on_cluster = CliRunner().invoke(app, common + ["--output", str(tmp_path / "rated"),
                                                   "--state-out", str(tmp_path / "state"),
                                                   "--scheduler", cluster.scheduler_address])
    assert single.exit_code == 0 and on_cluster.exit_code == 0, on_cluster.output
    assert _summary(on_cluster.output) == _summary(single.output)
    assert "total EUR: 5.00" in on_cluster.output  # 500 MB beyond line-1's half month; line-2 within its 3 GB
    assert pl.read_parquet(tmp_path / "rated").sort("id").equals(pl.read_parquet(tmp_path / "single.parquet").sort("id"))
    made = read_buckets(tmp_path / "state" / "buckets.jsonl").sort("id")
    assert made["id"].to_list() == ["allowance:line-1:data-3gb-monthly:included-data:2026-06",
                                    "allowance:line-2:data-3gb-monthly:included-data:2026-06"]
    assert made.equals(read_buckets(tmp_path / "single-state" / "buckets.jsonl").sort("id"))


def test_an_id_given_twice_by_one_subscriber_is_rated_once_on_the_cluster_as_in_one_process(
        cluster: Any, files: Path) -> None:
    usage = pl.read_parquet(files / "usage.parquet")
    # every tenth record sent again, later in the file (the same subscriber: the same partition)
    again = pl.concat([usage, usage.gather_every(10)])
    (files / "twice").mkdir()
    again[:700].write_parquet(files / "twice" / "part-0.parquet", row_group_size=100)
    again[700:].write_parquet(files / "twice" / "part-1.parquet", row_group_size=100)
    options = ["--subscribers", str(files / "subscribers.csv"), "--buckets", str(files / "buckets.jsonl")]
    single = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "twice"), *options,
                                      "--output", str(files / "twice-single.parquet")])
    on_cluster = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "twice"), *options,
                                          "--output", str(files / "twice-rated"),
                                          "--scheduler", cluster.scheduler_address])
    assert single.exit_code == 0 and on_cluster.exit_code == 0, on_cluster.output
    rated = pl.read_parquet(files / "twice-single.parquet")
    assert rated.filter(pl.col("reasonCode") == "duplicateId").height == usage.gather_every(10).height
    columns = ["id", "status", "amount", "reasonCode", "volume", "start"]
    assert pl.read_parquet(files / "twice-rated").select(columns).sort(columns).equals(rated.select(columns).sort(columns))


def test_an_id_given_to_two_subscribers_is_rated_once_on_the_cluster_as_in_one_process(
        cluster: Any, files: Path) -> None:
    """The ids are checked across partitions (by the client, in file order): a record whose id
    an earlier record of another subscriber has is rejected duplicateId on the cluster too."""
    usage = pl.read_parquet(files / "usage.parquet")
    # every seventh record sent again later in the file under another subscriber (another partition, mostly)
    others = usage.gather_every(7).with_columns(
        subscriber=pl.format("s{}", (pl.col("subscriber").str.slice(1).cast(pl.Int64) + 7) % SUBSCRIBERS))
    again = pl.concat([usage, others])
    (files / "shared-ids").mkdir()
    again[:650].write_parquet(files / "shared-ids" / "part-0.parquet", row_group_size=100)
    again[650:].write_parquet(files / "shared-ids" / "part-1.parquet", row_group_size=100)
    options = ["--subscribers", str(files / "subscribers.csv"), "--buckets", str(files / "buckets.jsonl"),
               "--accumulators", str(files / "accumulators.jsonl")]
    single = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "shared-ids"), *options,
                                      "--output", str(files / "shared-single.parquet"),
                                      "--state-out", str(files / "shared-single-state")])
    on_cluster = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / "shared-ids"),
                                          *options, "--output", str(files / "shared-rated"),
                                          "--state-out", str(files / "shared-state"),
                                          "--scheduler", cluster.scheduler_address, "--partitions", "6"])
    assert single.exit_code == 0 and on_cluster.exit_code == 0, on_cluster.output
    assert _summary(on_cluster.output) == _summary(single.output)
    rated = pl.read_parquet(files / "shared-single.parquet")
    duplicates = rated.filter(pl.col("reasonCode") == "duplicateId")
    assert duplicates.height == others.height  # the later ones, whatever their partition
    assert pl.read_parquet(files / "shared-rated").sort("id", "subscriber").equals(rated.sort("id", "subscriber"))
    assert read_buckets(files / "shared-state" / "buckets.jsonl").sort("id") \
        .equals(read_buckets(files / "shared-single-state" / "buckets.jsonl").sort("id"))


@pytest.mark.parametrize("content", ["id,subscriber,service,start,volume,unit\n", ""],
                         ids=["header-only-csv", "empty-jsonl"])
def test_an_empty_usage_file_rates_nothing_on_the_cluster_as_in_one_process(cluster: Any, files: Path,
                                                                            content: str) -> None:
    """(it failed on the cluster with 'not rated: not enough values to unpack': nothing to send)"""
    name = "empty.csv" if content else "empty.jsonl"
    (files / name).write_text(content, encoding="utf-8")
    rated = files / f"rated-{name.replace('.', '-')}"
    single = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / name),
                                      "--subscribers", str(files / "subscribers.csv"),
                                      "--output", str(files / f"{name}-single.parquet")])
    on_cluster = CliRunner().invoke(app, ["rate", str(files / "project"), "--input", str(files / name),
                                          "--subscribers", str(files / "subscribers.csv"),
                                          "--output", str(rated), "--scheduler", cluster.scheduler_address])
    assert single.exit_code == 0, single.output
    assert on_cluster.exit_code == 0, on_cluster.output
    assert _summary(on_cluster.output) == _summary(single.output)
    parts = list(rated.glob("part-*.parquet"))
    assert parts and pl.read_parquet(parts).height == 0
