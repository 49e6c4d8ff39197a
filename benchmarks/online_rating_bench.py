"""Online rating: TMF635 single-usage POSTs with balance updates, over HTTP.

``python -m benchmarks --only online-rating [--quick]``

Loads the PPV example into PostgreSQL (database ``bssrules_bench`` on the server of
``BSSRULES_BENCH_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432``,
created when missing; SQLite when no PostgreSQL answers), creates subscriptions each with
a prepaid money bucket, serves the API with uvicorn (one worker, then two), and posts
single usages from client threads (each a keep-alive connection) for random
subscriptions: every request rates the record, takes the charge from the bucket under the
subscription's lock, and stores the usage and its charge. Then the same with batches of
100 usages per POST (the path mediation uses). Prints requests (usages) per second and
p50/p99 latency. Target (issue 5): 1,000 single POSTs/s with p99 under 20 ms.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.catalog_bench import free_port

ROOT = Path(__file__).resolve().parents[1]
USAGE = "/tmf-api/usageManagement/v4/usage"
HEADERS = {"content-type": "application/json"}


def _database_url() -> str:
    base = os.environ.get("BSSRULES_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
    try:
        import psycopg

        plain = base.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain + "/postgres", autocommit=True, connect_timeout=3) as connection:
            if not connection.execute("select 1 from pg_database where datname = 'bssrules_bench'").fetchone():
                connection.execute("create database bssrules_bench")
        return base + "/bssrules_bench"
    except Exception as exc:  # noqa: BLE001 - fall back, and say so
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); using SQLite", flush=True)
        return f"sqlite:///{tempfile.mkdtemp()}/online.db"


def _prepare(url: str, subscriptions: int) -> None:
    from bssrules.services import catalog as services
    from bssrules.services import resources as tmf_resources
    from bssrules.services import usage as usage_service
    from bssrules.rules.project import load_project
    from bssrules.store import UnitOfWork
    from bssrules.store.db import make_engine
    from bssrules.store.tables import metadata

    engine = make_engine(url)
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "ppv"), "ppv")
    kinds = tmf_resources.KINDS
    for i in range(subscriptions):
        with UnitOfWork(engine) as uow:
            party = f"party-{i}"
            tmf_resources.create(uow, kinds["individual"], {"id": party, "givenName": "P", "familyName": str(i)},
                                 ["givenName", "familyName"])
            tmf_resources.create(uow, kinds["billingAccount"], {"id": f"ba-{i}", "name": party, "relatedParty": [
                {"id": party, "name": party, "role": "owner"}]}, ["name", "relatedParty"])
            tmf_resources.create(uow, kinds["product"], {
                "id": f"sub-{i}", "status": "active", "productOffering": {"id": "ppv-service"},
                "relatedParty": [{"id": party, "role": "owner"}], "billingAccount": {"id": f"ba-{i}"}},
                ["status", "productOffering", "relatedParty", "billingAccount"])
            usage_service.create_bucket(uow, {"id": f"bucket-{i}", "usageType": "any", "product": [{"id": f"sub-{i}"}],
                                              "remainingValue": {"amount": 1_000_000, "units": "EUR"}})
    engine.dispose()


class _Server:
    def __init__(self, url: str, workers: int, log: Path):
        self.url, self.workers, self.log = url, workers, log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "_Server":
        import httpx

        env = {**os.environ, "BSSRULES_DATABASE_URL": self.url, "BSSRULES_AUTH": "off", "BSSRULES_DELIVERY": "off"}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "bssrules.api.app:create_app", "--factory", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(self.workers), "--log-level", "warning",
                 "--no-access-log"], env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}{USAGE}?limit=1", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.process.kill()
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc: Any) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _percentile(values: list[float], q: float) -> float:
    return values[max(0, min(len(values) - 1, math.ceil(q * len(values)) - 1))]


def _load(base: str, threads: int, seconds: float, body: Any, count_per_request: int) -> dict[str, Any]:
    import httpx

    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop = [0.0]
    ready = threading.Barrier(threads + 1)
    sequence = itertools.count()

    def worker(k: int) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=base, timeout=60) as client:
            client.get(f"{USAGE}?limit=1")
            ready.wait()
            while time.perf_counter() < stop[0]:
                payload = json.dumps(body(rng, next(sequence)))
                begun = time.perf_counter()
                response = client.post(USAGE, content=payload, headers=HEADERS)
                latencies[k].append(time.perf_counter() - begun)
                if response.status_code != 201:
                    errors[k] += 1

    pool = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads)]
    for thread in pool:
        thread.start()
    stop[0] = time.perf_counter() + 3600
    ready.wait()
    started = time.perf_counter()
    stop[0] = started + seconds
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for t in latencies for x in t)
    return {"requests": len(flat), "usages_per_s": len(flat) * count_per_request / elapsed,
            "requests_per_s": len(flat) / elapsed, "p50_ms": _percentile(flat, 0.5) * 1e3,
            "p99_ms": _percentile(flat, 0.99) * 1e3, "errors": sum(errors)}


def run(quick: bool = False) -> list[dict[str, Any]]:
    subscriptions = 20 if quick else 1000
    seconds = 2.0 if quick else 10.0
    url = _database_url()
    print(f"database: {url.split('@')[-1]} · {subscriptions} subscriptions with a prepaid bucket", flush=True)
    _prepare(url, subscriptions)

    def single(rng: random.Random, n: int) -> dict[str, Any]:
        return {"usageDate": f"2026-06-01T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z", "usageType": "ppv-movie",
                "usageCharacteristic": [{"name": "productId", "value": f"sub-{rng.randrange(subscriptions)}"}]}

    def batch(rng: random.Random, n: int) -> list[dict[str, Any]]:
        return [single(rng, n) for _ in range(100)]

    results = []
    log = Path(tempfile.mkdtemp()) / "server.log"
    print(f"{'line':58} {'usages/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}", flush=True)
    for workers, threads in ((1, 4), (1, 8), (2, 8)):
        with _Server(url, workers, log) as server:
            figures = _load(server.base, threads, seconds, single, 1)
            label = f"single POST, {workers} worker(s), {threads} client threads"
            print(f"{label:58} {figures['usages_per_s']:9.0f} {figures['p50_ms']:8.1f} {figures['p99_ms']:8.1f} "
                  f"{figures['errors']:7d}", flush=True)
            results.append({"line": label, **figures})
    with _Server(url, 2, log) as server:
        figures = _load(server.base, 4, seconds, batch, 100)
        label = "batches of 100 per POST, 2 workers, 4 client threads"
        print(f"{label:58} {figures['usages_per_s']:9.0f} {figures['p50_ms']:8.1f} {figures['p99_ms']:8.1f} "
              f"{figures['errors']:7d}", flush=True)
        results.append({"line": label, **figures})
    print("target: 1,000 single POSTs/s with p99 < 20 ms (issue 5)", flush=True)
    return results
