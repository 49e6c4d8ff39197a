"""Online rating: TMF635 usages rated on arrival over HTTP, against the floor of this stack.

``python -m benchmarks --only online-rating [--quick]``; where a worker's time goes:
``python -m benchmarks.online_rating_bench --profile`` (:func:`profile`).

Loads the PPV example into PostgreSQL (a database of the run's own, ``bssrules_bench_<random>``,
on the server of ``BSSRULES_BENCH_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432``, dropped at the end: two runs at once do not
share tables; SQLite when no PostgreSQL answers), creates subscriptions each with
a prepaid money bucket, serves the API with uvicorn and posts usages from client threads
(each a keep-alive connection): every request rates the record, takes the charge from the
bucket under the subscription's lock and stores the usage.

Every line posts for a few seconds first, not counted (the workers fill their caches and
psycopg prepares its statements), the floor's as well as bssrules'; before that, on the
lines that draw subscriptions at random, each bssrules client posts one batch naming every
subscription (not counted, its time printed): the workers then hold every rating context,
as workers that have run for long do, whatever the random draw of a few seconds. In the same run, with
the same client code on the same path, the **floor**: a minimal
FastAPI app (:func:`floor_app`) that parses the usage, prices it with the same rating
function, and in one SQL statement takes the charge from a balance row and stores the usage.
The ratio to the floor is the figure that counts: client, database and workers share the
machine's cores. Each line also prints the CPU per usage of the server's processes and of
the run database's PostgreSQL backends over the measured window (Linux ``/proc``): on a
machine shared with other work, where one run's usages/s moves by a third from one minute to
the next, what a usage costs in CPU is the steadier figure.

Lines: floor and bssrules with 1 and 2 workers (8 client threads, random subscriptions), and
bssrules with 2 workers as deployed, every request presenting an API key (the floor checks none);
16 client threads on one subscription (a busy SIM, a shared account); batches of 100 usages
per POST. Then a balance check: for every subscription, what its bucket lost equals what its
stored usages were charged (no lost update). Targets (issue 12): single POSTs with 2
workers at least 70 % of the floor and p99 under 20 ms; one subscription at least 300/s
with p99 under 100 ms; batches at least 10,000 usages/s.
"""
from __future__ import annotations

import contextlib
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
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.catalog_bench import free_port

ROOT = Path(__file__).resolve().parents[1]
USAGE = "/tmf-api/usageManagement/v4/usage"
HEADERS = {"content-type": "application/json"}
INITIAL = 1_000_000  # EUR in each subscription's bucket


def _server_url() -> str:
    return os.environ.get("BSSRULES_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _database_url() -> str:
    """A database made for this run (two runs at once would otherwise deadlock on the same
    rows, and each wipe the other's tables); SQLite when PostgreSQL does not answer."""
    base = _server_url()
    name = f"bssrules_bench_{uuid.uuid4().hex[:10]}"
    try:
        import psycopg

        plain = base.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain + "/postgres", autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'create database "{name}"')
        return f"{base}/{name}"
    except Exception as exc:  # noqa: BLE001 - fall back, and say so
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); using SQLite", flush=True)
        return f"sqlite:///{tempfile.mkdtemp()}/online.db"


def _drop_database(url: str) -> None:
    """Drop the run's own database (its servers are stopped; any connection left is ended)."""
    if not url.startswith("postgresql"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    plain = _server_url().replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain + "/postgres", autocommit=True, connect_timeout=3) as connection:
        connection.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                           "where datname = %s and pid <> pg_backend_pid()", (name,))
        connection.execute(f'drop database if exists "{name}"')


def _prepare(url: str, subscriptions: int) -> None:
    from bssrules.services import catalog as services
    from bssrules.services import resources as tmf_resources
    from bssrules.services import buckets
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
            buckets.create_bucket(uow, {"id": f"bucket-{i}", "usageType": "any", "product": [{"id": f"sub-{i}"}],
                                        "remainingValue": {"amount": INITIAL, "units": "EUR"}})
    with engine.begin() as connection:  # the floor's own two tables
        connection.exec_driver_sql("DROP TABLE IF EXISTS floor_usage")
        connection.exec_driver_sql("DROP TABLE IF EXISTS floor_balance")
        connection.exec_driver_sql("CREATE TABLE floor_balance (id VARCHAR(128) PRIMARY KEY, amount_minor BIGINT NOT NULL)")
        connection.exec_driver_sql("CREATE TABLE floor_usage (id VARCHAR(128) PRIMARY KEY, subscription VARCHAR(128) "
                                   "NOT NULL, amount_minor BIGINT NOT NULL, document TEXT NOT NULL)")
        connection.exec_driver_sql("INSERT INTO floor_balance SELECT 'sub-' || n, 100000000 FROM "
                                   f"generate_series(0, {subscriptions - 1}) AS n" if url.startswith("postgresql")
                                   else "SELECT 1")
    engine.dispose()


class _Server:
    def __init__(self, url: str, workers: int, log: Path, app: str = "bssrules.api.app:create_app",
                 key: str | None = None):
        self.url, self.workers, self.log, self.app, self.key = url, workers, log, app, key
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "_Server":
        import httpx

        env = {**os.environ, "BSSRULES_DATABASE_URL": self.url, "BSSRULES_AUTH": "on" if self.key else "off",
               "BSSRULES_DELIVERY": "off", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        if self.key:  # every request presents this key: the key lookup is part of what is measured
            env["BSSRULES_ADMIN_KEY"] = self.key
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", self.app, "--factory", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(self.workers), "--log-level", "warning",
                 "--no-access-log"], env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}{USAGE}?limit=1", timeout=2, headers=self.headers).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.process.kill()
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key}"} if self.key else {}

    def __exit__(self, *exc: Any) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _percentile(values: list[float], q: float) -> float:
    return values[max(0, min(len(values) - 1, math.ceil(q * len(values)) - 1))]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux ``/proc``; 0 when gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process this user can see (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            found.append((int(entry.name), parent, (entry / "cmdline").read_text().replace("\0", " ")))
        except (OSError, ValueError):
            continue
    return found


class _CpuMeter:
    """The CPU the server's processes (uvicorn and its workers) and the run database's
    PostgreSQL backends (the local server's processes titled with its name) use over the
    measured window: on a machine shared with other work the throughput of one run moves by
    a third from one minute to the next, what a usage costs in CPU much less. Nothing on a
    system without ``/proc`` (or for a remote database: its backends are not seen)."""

    def __init__(self, server_pid: int, database: str | None):
        self.server_pid, self.database = server_pid, database
        self.start: tuple[float, float] | None = None

    def _now(self) -> tuple[float, float]:
        processes = _processes()
        children: dict[int, list[int]] = {}
        for pid, parent, _ in processes:
            children.setdefault(parent, []).append(pid)
        tree, todo = [], [self.server_pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        backends = [pid for pid, _, command in processes
                    if self.database and command.startswith("postgres: ") and f" {self.database} " in command]
        return sum(map(_cpu_seconds, tree)), sum(map(_cpu_seconds, backends))

    def begin(self) -> None:
        self.start = self._now()

    def per_usage(self, usages: int) -> tuple[float, float] | None:
        """(server µs, database µs) per usage since :meth:`begin`."""
        if self.start is None or not usages:
            return None
        server, database = self._now()
        return ((server - self.start[0]) / usages * 1e6, (database - self.start[1]) / usages * 1e6)


def _load(base: str, threads: int, seconds: float, body: Any, count_per_request: int,
          warmup: float = 0.0, prime: Any = None, headers: dict[str, str] | None = None,
          meter: _CpuMeter | None = None) -> dict[str, Any]:
    """``threads`` clients posting ``body(rng, n)`` for ``warmup`` seconds (not counted: the
    workers fill their caches, psycopg prepares its statements), then for ``seconds``.

    ``prime``: a body each client posts once first (not counted), on its own keep-alive
    connection, which the server keeps on one worker: one batch naming every subscription
    warms that worker's rating contexts whatever the random draw of the warm-up (a worker
    that runs for long holds them; the ``prime_s`` figure is what loading them cold took)."""
    import httpx

    latencies: list[list[float]] = [[] for _ in range(threads)]
    primed: list[float] = [0.0] * threads
    errors = [0] * threads
    stop, measured = [0.0], [0.0]
    ready = threading.Barrier(threads + 1)
    sequence = itertools.count()

    def worker(k: int) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=base, timeout=300, headers=headers or {}) as client:
            client.get(f"{USAGE}?limit=1")
            if prime is not None:
                begun = time.perf_counter()
                if client.post(USAGE, content=json.dumps(prime), headers=HEADERS).status_code != 201:
                    errors[k] += 1
                primed[k] = time.perf_counter() - begun
            ready.wait()
            while time.perf_counter() < stop[0]:
                payload = json.dumps(body(rng, next(sequence)))
                begun = time.perf_counter()
                response = client.post(USAGE, content=payload, headers=HEADERS)
                if begun < measured[0]:
                    continue
                latencies[k].append(time.perf_counter() - begun)
                if response.status_code != 201:
                    errors[k] += 1

    pool = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads)]
    for thread in pool:
        thread.start()
    stop[0] = time.perf_counter() + 3600
    measured[0] = time.perf_counter() + 3600
    ready.wait()
    started = measured[0] = time.perf_counter() + warmup
    stop[0] = started + seconds
    cpu = None
    if meter is not None:  # the CPU of the measured window: from its start to its end
        time.sleep(max(0.0, started - time.perf_counter()))
        meter.begin()
        time.sleep(max(0.0, stop[0] - time.perf_counter()))
        counted = sum(len(t) for t in latencies) * count_per_request
        cpu = meter.per_usage(counted)
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for t in latencies for x in t)
    return {"requests": len(flat), "usages_per_s": len(flat) * count_per_request / elapsed,
            "requests_per_s": len(flat) / elapsed, "p50_ms": _percentile(flat, 0.5) * 1e3,
            "p99_ms": _percentile(flat, 0.99) * 1e3, "errors": sum(errors), "prime_s": max(primed),
            "server_cpu_us": cpu[0] if cpu else None, "db_cpu_us": cpu[1] if cpu else None}


def floor_app() -> Any:
    """The floor: a minimal FastAPI app that parses a usage, prices it with bssrules' rating
    function (one subscription's context, built once), and in ONE SQL statement takes the
    charge from a balance row and stores the usage (an autocommit connection per thread).

    A batch (an array of usages) is priced in one call of the rating function and written in
    one round trip: one transaction that locks the batch's balance rows in id order (two
    batches sharing subscriptions never deadlock) and then, in one statement, takes each
    subscription's charges from its balance and stores the usages; it answers the stored
    documents. What a set-based batch must at least do on this stack."""
    import datetime as dt
    from decimal import Decimal

    import psycopg
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    from bssrules.pricing.rating import rate_records
    from bssrules.pricing.usage import Subscriber, UsageRecord
    from bssrules.rules.project import load_project

    url = os.environ["BSSRULES_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    book = load_project(ROOT / "examples" / "ppv").rules
    subscriber = Subscriber("sub", "party", None, "ppv-service", ("ppv-service",), {"payer": "ba"})
    local = threading.local()
    statement = ("WITH taken AS (UPDATE floor_balance SET amount_minor = amount_minor - %(amount)s "
                 "WHERE id = %(subscription)s RETURNING id) "
                 "INSERT INTO floor_usage (id, subscription, amount_minor, document) "
                 "SELECT %(id)s, id, %(amount)s, %(document)s FROM taken")
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        from bssrules.api.collector import tune_for_serving

        tune_for_serving()  # the collector tuned as bssrules' workers tune theirs: the same stack
        yield

    app = FastAPI(lifespan=lifespan)

    def store(values: dict[str, Any]) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = psycopg.connect(url, autocommit=True)
        connection.execute(statement, values)

    batch_write = ("BEGIN; SELECT 1 FROM floor_balance WHERE id = ANY(%(subs)s::text[]) ORDER BY id FOR UPDATE; "
                   "WITH charged AS (SELECT * FROM unnest(%(ids)s::text[], %(each)s::text[], %(amounts)s::bigint[], "
                   "%(docs)s::text[]) AS c(id, subscription, amount_minor, document)), "
                   "taken AS (UPDATE floor_balance AS b SET amount_minor = b.amount_minor - t.total "
                   "FROM (SELECT subscription, sum(amount_minor) AS total FROM charged GROUP BY subscription) AS t "
                   "WHERE b.id = t.subscription RETURNING b.id) "
                   "INSERT INTO floor_usage (id, subscription, amount_minor, document) "
                   "SELECT c.id, c.subscription, c.amount_minor, c.document FROM charged AS c JOIN taken ON taken.id = "
                   "c.subscription; COMMIT")

    def store_batch(values: dict[str, Any]) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = psycopg.connect(url, autocommit=True)
        cursor = psycopg.ClientCursor(connection)  # the values inlined: one simple query, one round trip
        cursor.execute(cursor.mogrify(batch_write, values).encode(), prepare=False)

    async def create_batch(bodies: list[dict[str, Any]]) -> Any:
        products = [next(c["value"] for c in body["usageCharacteristic"] if c["name"] == "productId")
                    for body in bodies]
        records = [UsageRecord(body.get("id") or str(uuid.uuid4()), "sub", body["usageType"],
                               dt.datetime.fromisoformat(body["usageDate"].replace("Z", "+00:00")), Decimal(1))
                   for body in bodies]
        rated = {r.record.id: r for r in rate_records(records, {"sub": subscriber}, book)[0]}
        results = [rated[r.id] for r in records]
        documents = [{**body, "id": record.id, "status": result.status,
                      "ratedBy": {"ruleSet": result.rule_set, "rule": result.rule, "amount": str(result.amount)}}
                     for body, record, result in zip(bodies, records, results)]
        await run_in_threadpool(store_batch, {
            "subs": sorted(set(products)), "ids": [r.id for r in records], "each": products,
            "amounts": [int(r.amount * 100) for r in results], "docs": [json.dumps(d) for d in documents]})
        return JSONResponse(documents, status_code=201)

    async def create(request: Any) -> Any:
        body = await request.json()
        if isinstance(body, list):
            return await create_batch(body)
        product = next(c["value"] for c in body["usageCharacteristic"] if c["name"] == "productId")
        record = UsageRecord(body.get("id") or str(uuid.uuid4()), "sub", body["usageType"],
                             dt.datetime.fromisoformat(body["usageDate"].replace("Z", "+00:00")), Decimal(1))
        [rated], _ = rate_records([record], {"sub": subscriber}, book)
        amount = int(rated.amount * 100)
        document = {**body, "id": record.id, "status": rated.status,
                    "ratedBy": {"ruleSet": rated.rule_set, "rule": rated.rule, "amount": str(rated.amount)}}
        await run_in_threadpool(store, {"amount": amount, "subscription": product, "id": record.id,
                                        "document": json.dumps(document)})
        return JSONResponse(document, status_code=201)

    async def ready(request: Any) -> Any:
        return JSONResponse([])

    app.router.add_route(USAGE, create, methods=["POST"])
    app.router.add_route(USAGE, ready, methods=["GET"])
    return app


def _balance_check(url: str) -> tuple[int, int]:
    """(subscriptions checked, those whose bucket lost other than their usages were charged)."""
    from sqlalchemy import text

    from bssrules.store.db import make_engine

    engine = make_engine(url, migrate=False)
    with engine.connect() as connection:
        left = {r.subscription: Decimal(r.remaining).scaleb(-r.scale) for r in connection.execute(
            text("SELECT subscription, remaining, scale FROM bucket"))}
        charged: dict[str, Decimal] = {}
        for row in connection.execute(text("SELECT subscription, document FROM usage_record WHERE status = 'rated'")):
            value = json.loads(row.document, parse_float=Decimal)["ratedBy"]["amount"]["value"]
            charged[row.subscription] = charged.get(row.subscription, Decimal(0)) + Decimal(str(value))
    engine.dispose()
    wrong = sum(1 for s, remaining in left.items() if INITIAL - remaining != charged.get(s, Decimal(0)))
    return len(left), wrong


def _verdict(met: bool) -> str:
    return "target met" if met else "MISSED"


def run(quick: bool = False) -> list[dict[str, Any]]:
    url = _database_url()
    try:
        return _run(url, quick)
    finally:
        _drop_database(url)


def _run(url: str, quick: bool) -> list[dict[str, Any]]:
    subscriptions = 20 if quick else 1000
    seconds = 2.0 if quick else 10.0
    warmup = 1.0 if quick else 5.0
    postgres = url.startswith("postgresql")
    print(f"database: {url.split('@')[-1]} · {subscriptions} subscriptions with a prepaid bucket", flush=True)
    _prepare(url, subscriptions)

    def single(rng: random.Random, n: int) -> dict[str, Any]:
        return {"usageDate": f"2026-06-01T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z", "usageType": "ppv-movie",
                "usageCharacteristic": [{"name": "productId", "value": f"sub-{rng.randrange(subscriptions)}"}]}

    def one_subscription(rng: random.Random, n: int) -> dict[str, Any]:
        return {**single(rng, n), "usageCharacteristic": [{"name": "productId", "value": "sub-0"}]}

    def batch(rng: random.Random, n: int) -> list[dict[str, Any]]:
        return [single(rng, n) for _ in range(100)]

    # posted once by each client first (not counted): every subscription's context loaded in
    # the worker that holds the client's connection, as a worker running for long has them
    every = [{**single(random.Random(i), i), "usageCharacteristic": [{"name": "productId", "value": f"sub-{i}"}]}
             for i in range(subscriptions)]

    results: list[dict[str, Any]] = []
    log = Path(tempfile.mkdtemp()) / "server.log"
    database = url.rsplit("/", 1)[1] if postgres else None
    print(f"{'line':62} {'usages/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'server µs':>9} {'db µs':>6}"
          "  target", flush=True)
    print("  (server µs, db µs: CPU per usage of the server's processes and of the database's backends over the "
          "measured window; steadier than usages/s on a shared machine)", flush=True)

    def line(label: str, figures: dict[str, Any], verdict: str = "") -> None:
        cpu = "".join(f" {figures[k]:{w}.0f}" if figures.get(k) is not None else f" {'-':>{w}}"
                      for k, w in (("server_cpu_us", 9), ("db_cpu_us", 6)))
        print(f"{label:62} {figures['usages_per_s']:9.0f} {figures['p50_ms']:8.1f} {figures['p99_ms']:8.1f} "
              f"{figures['errors']:7d}{cpu}  {verdict}", flush=True)
        results.append({"line": label, **figures, "verdict": verdict})

    def meter(server: _Server) -> _CpuMeter:
        return _CpuMeter(server.process.pid, database)

    floors: dict[int, float] = {}
    for workers in (1, 2):
        if postgres:
            with _Server(url, workers, log, "benchmarks.online_rating_bench:floor_app") as server:
                figures = _load(server.base, 8, seconds, single, 1, warmup, meter=meter(server))
            floors[workers] = figures["usages_per_s"]
            line(f"floor (1 SQL statement per usage), {workers} worker(s), 8 threads", figures)
        with _Server(url, workers, log) as server:
            figures = _load(server.base, 8, seconds, single, 1, warmup, prime=every, meter=meter(server))
        print(f"  (contexts of {subscriptions} subscriptions loaded cold first, one batch per connection: "
              f"{figures['prime_s']:.1f} s)", flush=True)
        label = f"bssrules single POST, {workers} worker(s), 8 threads"
        if workers in floors:
            ratio = figures["usages_per_s"] / floors[workers]
            label += f" ({ratio:.0%} of floor)"
            verdict = f"≥ 70 % of floor, p99 < 20 ms: {_verdict(ratio >= 0.7 and figures['p99_ms'] < 20)}" \
                if workers == 2 else ""
        else:
            verdict = "(no floor on SQLite)"
        line(label, figures, verdict)
    if postgres:  # as deployed: every request presents a partner's key, which the worker checks
        key = f"bss_{uuid.uuid4().hex[:12]}_{'k' * 43}"
        with _Server(url, 2, log, key=key) as server:
            figures = _load(server.base, 8, seconds, single, 1, warmup, prime=every, headers=server.headers,
                            meter=meter(server))
        line(f"bssrules single POST with an API key, 2 workers, 8 threads ({figures['usages_per_s'] / floors[2]:.0%} "
             "of floor)", figures)
    batch_floor = None
    if postgres:
        with _Server(url, 2, log, "benchmarks.online_rating_bench:floor_app") as server:
            figures = _load(server.base, 4, seconds, batch, 100, warmup, meter=meter(server))
        batch_floor = figures["usages_per_s"]
        line("floor, batches of 100 (1 round trip per batch), 2 workers, 4 threads", figures)
    with _Server(url, 2, log) as server:
        figures = _load(server.base, 16, seconds, one_subscription, 1, warmup, meter=meter(server))
        line("one subscription, 2 workers, 16 threads", figures,
             f"≥ 300/s, p99 < 100 ms: {_verdict(figures['usages_per_s'] >= 300 and figures['p99_ms'] < 100)}")
        figures = _load(server.base, 4, seconds, batch, 100, warmup, prime=every, meter=meter(server))
        ratio = f" ({figures['usages_per_s'] / batch_floor:.0%} of floor)" if batch_floor else ""
        line(f"batches of 100 per POST, 2 workers, 4 threads{ratio}", figures,
             f"≥ 10,000/s: {_verdict(figures['usages_per_s'] >= 10_000)}")
    checked, wrong = _balance_check(url)
    print(f"balance check: {checked} subscriptions, {wrong} whose bucket lost other than their usages were charged "
          f"({_verdict(wrong == 0)})", flush=True)
    return results


# ------------------------------------------------------------------------------ profile mode


def profile(batches: int = 40, singles: int = 2000, top: int = 15, subscriptions: int = 200,
            sort: str = "tottime") -> dict[str, Any]:
    """Where a worker's time goes: the app run in this process under cProfile, on the run's
    own database (PostgreSQL when it answers), for ``batches`` POSTs of 100 usages and then
    ``singles`` single POSTs (each alone: no other request is waiting to be combined with it).

    The ASGI app is driven on one event loop in this thread, and the two hops to other threads
    (the unit-of-work's thread pool for batches, the combiner's leader for single POSTs) run
    inline, so that one profiler sees everything the worker does; no client, no HTTP parser.
    Prints, for each part, the wall and CPU time per usage of a run without the profiler (the
    CPU is this process's: the app and the in-process client, not the database's), and then,
    profiled, the ``top`` functions by ``sort``
    (cProfile's own time per function, per usage). Warm-up requests (contexts loaded, statements
    prepared) are not profiled. ``python -m benchmarks.online_rating_bench --profile``."""
    url = _database_url()
    try:
        return _profile(url, batches, singles, top, subscriptions, sort)
    finally:
        _drop_database(url)


def _profile(url: str, batches: int, singles: int, top: int, subscriptions: int, sort: str) -> dict[str, Any]:
    import asyncio
    import concurrent.futures
    import cProfile
    import io
    import pstats

    import httpx

    import bssrules.api.deps as deps
    from bssrules.api.app import create_app

    print(f"profile: database {url.split('@')[-1]} · {subscriptions} subscriptions", flush=True)
    _prepare(url, subscriptions)
    os.environ.setdefault("BSSRULES_DELIVERY", "off")
    app = create_app(url, auth=False)

    class Inline(concurrent.futures.ThreadPoolExecutor):  # the combiner's leader, in this thread
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller
                future.set_exception(exc)
            return future

    async def inline(function: Any, *args: Any, **kwargs: Any) -> Any:  # the unit of work's thread, inline
        return function(*args, **kwargs)

    rng = random.Random(7)

    def single() -> dict[str, Any]:
        return {"usageDate": f"2026-06-01T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
                "usageType": "ppv-movie",
                "usageCharacteristic": [{"name": "productId", "value": f"sub-{rng.randrange(subscriptions)}"}]}

    results: dict[str, Any] = {}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(Inline())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                async def post(body: Any) -> None:
                    response = await client.post(USAGE, content=json.dumps(body), headers=HEADERS)
                    if response.status_code not in (200, 201):
                        raise RuntimeError(f"{response.status_code}: {response.text[:500]}")

                every = [{**single(), "usageCharacteristic": [{"name": "productId", "value": f"sub-{i}"}]}
                         for i in range(subscriptions)]
                await post(every)  # every context loaded, not profiled
                for _ in range(20):  # statements prepared, caches warm
                    await post([single() for _ in range(100)])
                    await post(single())
                for name, count, make in (("batches of 100", batches, lambda: [single() for _ in range(100)]),
                                          ("single POSTs", singles, single)):
                    if not count:
                        continue
                    bodies = [make() for _ in range(count)]
                    usages = count * (100 if isinstance(bodies[0], list) else 1)
                    begun, cpu = time.perf_counter(), time.process_time()  # first without the profiler
                    for body in [make() for _ in range(count)]:
                        await post(body)
                    plain_wall = (time.perf_counter() - begun) / usages * 1e6
                    plain_cpu = (time.process_time() - cpu) / usages * 1e6
                    profiler = cProfile.Profile()
                    begun = time.perf_counter()
                    profiler.enable()
                    for body in bodies:
                        await post(body)
                    profiler.disable()
                    elapsed = time.perf_counter() - begun
                    text = io.StringIO()
                    stats = pstats.Stats(profiler, stream=text)
                    stats.sort_stats(sort).print_stats(top)
                    per_usage = {
                        f"{Path(f).name}:{line}({function})": (value[2] / usages * 1e6, value[3] / usages * 1e6)
                        for (f, line, function), value in stats.stats.items()}  # type: ignore[attr-defined]
                    print(f"\n{name}: {usages} usages; without the profiler {plain_wall:.0f} µs per usage "
                          f"({plain_cpu:.0f} µs of this process's CPU: the app, and the in-process client), "
                          f"under it {elapsed / usages * 1e6:.0f} µs", flush=True)
                    print(f"{'own µs/usage':>12} {'cum µs/usage':>12}  function", flush=True)
                    ranked = sorted(per_usage.items(), key=lambda kv: -kv[1][0 if sort == "tottime" else 1])
                    for where, (own, cumulative) in ranked[:top]:
                        print(f"{own:12.1f} {cumulative:12.1f}  {where}", flush=True)
                    results[name] = {"wall_us": plain_wall, "cpu_us": plain_cpu, "profiled_us": elapsed / usages * 1e6,
                                     "top": ranked[:top]}

    saved = deps.run_in_threadpool
    deps.run_in_threadpool = inline  # type: ignore[assignment]
    try:
        asyncio.run(main())
    finally:
        deps.run_in_threadpool = saved  # type: ignore[assignment]
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.online_rating_bench",
                                     description="The online-rating benchmark, or (--profile) where a worker's time "
                                                 "goes, in process under cProfile.")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile the app in process (batches, single POSTs)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--sort", choices=("tottime", "cumulative"), default="tottime")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--singles", type=int, default=2000)
    arguments = parser.parse_args()
    if arguments.profile:
        profile(arguments.batches, arguments.singles, arguments.top, sort=arguments.sort)
    else:
        run(quick=arguments.quick)
