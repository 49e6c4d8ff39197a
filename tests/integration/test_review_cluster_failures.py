"""``bssrules rate --scheduler``/``--workers`` when the cluster is not what it should be: an
address that is no Dask scheduler, workers of another version, a worker that dies mid-run; and
the state out written in the same order whichever partition ends first.

Small local clusters (one worker process) and the roaming example's rules: a few seconds each.
"""
from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import polars as pl
import pytest

distributed = pytest.importorskip("distributed")

from bssrules.errors import InvalidInput  # noqa: E402
from bssrules.pricing import bulk_dask  # noqa: E402
from bssrules.pricing.bulk_dask import (  # noqa: E402
    check_workers, cluster_client, project_texts, rate_on_cluster, warm_workers,
)
from bssrules.pricing.bulk_io import rate_file  # noqa: E402
from bssrules.pricing.bulk_warm import warm_up  # noqa: E402
from bssrules.rules.project import load_project  # noqa: E402

ROAMING = Path(__file__).resolve().parents[2] / "examples" / "roaming"
SUBSCRIBERS = 12


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("review-cluster")
    rows = []
    for i in range(600):
        roaming = i % 3 == 0
        rows.append({"id": f"r{i}", "subscriber": f"s{i % (SUBSCRIBERS + 1)}", "service": "data",
                     "start": f"2026-06-{1 + i % 28:02d}T{i % 24:02d}:00:00Z", "volume": str(10 + i % 400),
                     "unit": "MB", "roaming": "true" if roaming else "false", "country": "ES" if roaming else None})
    pl.DataFrame(rows, schema={k: pl.Utf8 for k in rows[0]}).write_parquet(folder / "usage.parquet",
                                                                           row_group_size=100)
    pl.DataFrame({"id": [f"s{i}" for i in range(SUBSCRIBERS)],
                  "activeOfferings": ["mobile-data-plan"] * SUBSCRIBERS,
                  "payers": [json.dumps({"payer": f"BA-{i}"}) for i in range(SUBSCRIBERS)]}) \
        .write_csv(folder / "subscribers.csv")
    (folder / "buckets.jsonl").write_text("".join(
        json.dumps({"id": f"b{i}", "subscriber": f"s{i}", "unit": "GB", "remaining": "1", "services": ["data"]}) + "\n"
        for i in range(SUBSCRIBERS)), encoding="utf-8")
    (folder / "accumulators.jsonl").write_text("".join(
        json.dumps({"accumulator": "mobile-usage/roaming-budget", "subscriber": f"s{i}", "period": "2026-06",
                    "amount": "20"}) + "\n" for i in range(SUBSCRIBERS)), encoding="utf-8")
    return folder


@pytest.fixture()
def cluster() -> Iterator[Any]:
    """A cluster of its own for each test: the tests below change or kill its workers."""
    warm_up()  # the workers then load the kernels from this process's cache
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0",
                                  scheduler_port=0) as local, distributed.Client(local) as client:
        yield client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# ------------------------------------------------------------------ --scheduler: an address that is no scheduler

def test_a_port_nothing_listens_on_is_said_at_once_not_after_dasks_timeout() -> None:
    began = time.perf_counter()
    with pytest.raises(InvalidInput, match="connection refused"):
        with cluster_client(scheduler=f"tcp://127.0.0.1:{_free_port()}"):
            pass
    assert time.perf_counter() - began < 5  # Dask's client retried it for its 20 s


def test_a_port_that_answers_but_not_as_a_dask_scheduler_is_refused_instead_of_waited_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's port (an HTTP server) given for the scheduler's: Dask's client waited without end."""
    monkeypatch.setattr(bulk_dask, "_PROBE_SECONDS", 2.0, raising=False)  # (none before the fix: Dask's own wait)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.create_server(("127.0.0.1", 0))  # takes connections (the kernel's backlog), never answers
    outcome: list[BaseException | None] = []

    def connect(address: str) -> None:
        try:
            with cluster_client(scheduler=address):
                outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - what the user would see
            outcome.append(exc)
    try:
        for port in (server.server_address[1], silent.getsockname()[1]):
            outcome.clear()
            attempt = threading.Thread(target=connect, args=(f"tcp://127.0.0.1:{port}",), daemon=True)
            attempt.start()
            attempt.join(30)
            assert not attempt.is_alive(), f"still waiting on tcp://127.0.0.1:{port} after 30 s"
            assert isinstance(outcome[0], InvalidInput), outcome
            assert "does not answer as a Dask scheduler" in str(outcome[0])
    finally:
        server.shutdown()
        silent.close()


def test_a_scheduler_answers_and_a_workers_address_is_named_as_one(cluster: Any) -> None:
    scheduler_problem = bulk_dask.scheduler_problem
    assert scheduler_problem(cluster.scheduler.address) is None
    worker = next(iter(cluster.nthreads()))
    assert scheduler_problem(worker) == "it is a Dask Worker, not the scheduler"
    assert "tcp://HOST:PORT" in (scheduler_problem("http://127.0.0.1:8786") or "")
    assert "missing port" in (scheduler_problem("tcp://127.0.0.1") or "")


# --------------------------------------------------------------------- workers of another bssrules

def test_workers_of_another_version_are_refused_before_they_are_asked_to_compile(cluster: Any) -> None:
    cluster.run(exec, "import bssrules.pricing.bulk_dask as m, bssrules.pricing.bulk_warm as w\n"
                      "v = m._versions()\n"
                      "m._versions = lambda: {**v, 'bssrules': '0.0.1'}\n"
                      "def gone(): raise AttributeError(\"module 'bssrules.pricing.bulk_warm' has no attribute\")\n"
                      "w.warm_up = gone\n", {})
    with pytest.raises(InvalidInput, match=r"do not run what this process runs: .*bssrules 0\.0\.1 \(here "):
        warm_workers(cluster)
    with pytest.raises(InvalidInput, match="bssrules 0.0.1"):
        check_workers(cluster)


# ---------------------------------------------------------------------- a worker that dies mid-run

def test_a_worker_that_dies_mid_run_is_said_with_what_to_do_not_as_an_unexpected_error(
        cluster: Any, files: Path, tmp_path: Path) -> None:
    # the worker process ends as it starts rating a partition (the nanny starts another): the data
    # the command sent it (the subscribers, the state of each partition) is gone with it
    cluster.run(exec, "import os, bssrules.pricing.bulk_dask as m\n"
                      "m._rate_partition = lambda *args: os._exit(1)\n", {})
    with pytest.raises(InvalidInput, match=r"the Dask cluster lost a worker \(or its scheduler\) during the run"
                                           r".* holds the parts "
                                           r"written so far \(0 of 6\) and no state was written: empty .* and run "
                                           r"again"):
        rate_on_cluster(cluster, project_texts(ROAMING), files / "usage.parquet", files / "subscribers.csv",
                        tmp_path / "rated", buckets=files / "buckets.jsonl", accumulators=files / "accumulators.jsonl",
                        state_out=tmp_path / "state", chunk_size=100)
    assert not (tmp_path / "state").exists()


# ------------------------------------------------------------------- the state out, in partition order

def test_the_state_out_is_in_partition_order_whichever_partition_ends_first(cluster: Any, files: Path,
                                                                            tmp_path: Path) -> None:
    # the partitions of higher numbers end first (two threads: two partitions at a time)
    cluster.run(exec, "import time, bssrules.pricing.bulk_dask as m\n"
                      "rate = m._rate_partition\n"
                      "def slow(*args):\n"
                      "    time.sleep(0.15 * (6 - int(args[-1][-13:-8])))\n"
                      "    return rate(*args)\n"
                      "m._rate_partition = slow\n", {})
    state = {"buckets": files / "buckets.jsonl", "accumulators": files / "accumulators.jsonl"}
    summary = rate_on_cluster(cluster, project_texts(ROAMING), files / "usage.parquet", files / "subscribers.csv",
                              tmp_path / "rated", state_out=tmp_path / "cluster", chunk_size=100, **state)
    one = rate_file(load_project(ROAMING).rules, files / "usage.parquet", files / "subscribers.csv",
                    tmp_path / "rated.parquet", state_out=tmp_path / "one", chunk_size=100, **state)
    assert summary.partitions == one.partitions == 6
    for name in ("buckets.jsonl", "accumulators.jsonl"):
        lines = (tmp_path / "cluster" / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) >= SUBSCRIBERS
        assert lines == (tmp_path / "one" / name).read_text(encoding="utf-8").splitlines(), name


# -------------------------------------------------------------- relative paths, workers elsewhere

def test_relative_paths_name_the_same_files_for_workers_started_in_another_folder(
        cluster: Any, files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``dask worker`` started in its own folder: the command's relative --input and --output are
    the command's, not read and written relative to where each worker was started."""
    (tmp_path / "elsewhere").mkdir()
    cluster.run(os.chdir, str(tmp_path / "elsewhere"))
    work = tmp_path / "work"
    (work / "usage").mkdir(parents=True)
    (work / "usage" / "part-0.parquet").write_bytes((files / "usage.parquet").read_bytes())
    monkeypatch.chdir(work)
    summary = rate_on_cluster(cluster, project_texts(ROAMING), Path("usage"), files / "subscribers.csv",
                              Path("rated"), chunk_size=100)
    assert summary.records == 600
    assert pl.read_parquet(work / "rated" / "*.parquet").height == 600
    assert not (tmp_path / "elsewhere" / "rated").exists()
