"""Catalog benchmark: YAML loading, database loading, and the TMF620 read API.

1. Generates a realistic catalog (10,000 product offerings by default, with the
   specifications, resource specifications, prices, categories and catalogs they need;
   some bundles, characteristic uses and relationships) and writes it as several YAML
   files with :mod:`bssrules.catalog.dump`.
2. Adds the rules of :mod:`benchmarks.rules_bench` (1,000 eligibility rules and 200
   compatibility rules, on this catalog's offerings and categories) and times ``bssrules
   check`` on the project, as a command: cold (no check cache), then with one catalog file
   changed (the cache holds the others), then with nothing changed — each the best of
   ``check_runs`` runs (the floor: the run least disturbed by whatever else the machine
   does), with the CPU time it took (worker processes included).
3. Times :func:`bssrules.catalog.loader.load_catalog` on that folder (parse, schema,
   model, cross-entity checks), then :func:`bssrules.services.catalog.load_catalog` into a fresh
   SQLite file (and into a PostgreSQL database it creates and drops when
   ``BSSRULES_BENCH_POSTGRES_URL`` is set), then the same load again (idempotent: nothing
   changes).
4. Serves the SQLite file with uvicorn (one worker, 127.0.0.1, a free port) in a
   subprocess and measures, with one keep-alive httpx client sending requests one after
   the other, the latency of three reads of productOffering.

Everything is bounded: a fixed number of requests per endpoint, and a time budget after
which an endpoint stops early (the table says how many requests were measured).
"""
from __future__ import annotations

import datetime as dt
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.dump import dump_catalog_file
from bssrules.catalog.model import (
    BundledOffering, CatalogFile, Category, Characteristic, CharacteristicUse, OfferingRelationship, ProductCatalog,
    ProductOffering, ProductOfferingPrice, ProductSpecification, Range, RelatedParty, ResourceSpecification,
)
from bssrules.catalog.types import ValidFor

NAME = "catalog"
POSTGRES_ENV = "BSSRULES_BENCH_POSTGRES_URL"
BASE_PATH = "/tmf-api/productCatalogManagement/v4"
SOURCE = "bench"
SEED = 620


@dataclass(frozen=True)
class Sizes:
    offerings: int
    requests: int  # measured requests per endpoint (at most)
    warmup: int  # unmeasured requests per endpoint first
    endpoint_budget_s: float  # an endpoint stops early after this long
    server_start_s: float = 60.0  # the server must answer within this
    rules: int = 1_000  # eligibility rules of the project checked
    compatibility_rules: int = 200
    check_runs: int = 3  # each check figure is the best of this many runs


FULL = Sizes(offerings=10_000, requests=2_000, warmup=50, endpoint_budget_s=20.0)
QUICK = Sizes(offerings=500, requests=150, warmup=10, endpoint_budget_s=3.0, rules=100, compatibility_rules=20,
              check_runs=1)


# ------------------------------------------------------------------------ the catalog


CHANNELS = ["web", "shop", "app", "b2b-portal", "partner-api", "call-centre"]
ROOT_CATEGORIES = ["mobile", "broadband", "tv", "devices", "iot", "business", "roaming", "bundles"]
SUBCATEGORIES_PER_ROOT = 12
LIFECYCLE = (["Active"] * 70 + ["Launched"] * 10 + ["In Design"] * 8 + ["Retired"] * 7 + ["In Test"] * 5)


def _characteristic_templates() -> list[Callable[[], Characteristic]]:
    return [
        lambda: Characteristic(name="dataVolume", value_type="integer", unit="GB", values=[1, 5, 10, 20, 50, 100],
                               default=10, min_cardinality=1),
        lambda: Characteristic(name="downloadSpeed", value_type="integer", unit="Mbit/s",
                               range=Range(min=10, max=1000), default=100),
        lambda: Characteristic(name="roaming", value_type="boolean", default=True),
        lambda: Characteristic(name="colour", value_type="string", values=["black", "white", "blue", "red"],
                               default="black"),
        lambda: Characteristic(name="msisdn", description="The phone number.", value_type="string",
                               min_cardinality=1, configurable=False),
        lambda: Characteristic(name="contractMonths", value_type="integer", values=[0, 12, 24, 36], default=24),
        lambda: Characteristic(name="activationDate", value_type="date"),
        lambda: Characteristic(name="streamQuality", value_type="string", values=["sd", "hd", "uhd"], default="hd"),
        lambda: Characteristic(name="simCount", value_type="integer", range=Range(min=1, max=5), default=1,
                               max_cardinality=1),
    ]


def _amount(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)) / 100


def _valid_for(rng: random.Random) -> ValidFor:
    draw = rng.random()
    if draw < 0.5:
        return ValidFor()
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=rng.randrange(0, 900))
    if draw < 0.95:
        return ValidFor(start=start)
    return ValidFor(start=start, end=start + dt.timedelta(days=rng.randrange(30, 720)))


def generate_files(offerings: int, seed: int = SEED) -> dict[str, CatalogFile]:
    """A valid catalog of ``offerings`` product offerings, as catalog files by relative path."""
    rng = random.Random(seed)

    # Categories: a root per line of business, a dozen subcategories under each.
    roots = [Category(id=f"cat-{r}", name=r.title(), description=f"Everything {r}.") for r in ROOT_CATEGORIES]
    subcategories = [Category(id=f"cat-{r}-{i:02d}", name=f"{r.title()} range {i}", parent=f"cat-{r}")
                     for r in ROOT_CATEGORIES for i in range(1, SUBCATEGORIES_PER_ROOT + 1)]
    catalogs = [
        ProductCatalog(id="consumer", name="Consumer catalog",
                       categories=["cat-mobile", "cat-broadband", "cat-tv", "cat-devices", "cat-bundles"],
                       related_parties=[RelatedParty(id="csp", name="The CSP", role="owner")]),
        ProductCatalog(id="business", name="Business catalog",
                       categories=["cat-business", "cat-iot", "cat-roaming"],
                       related_parties=[RelatedParty(id="csp", name="The CSP", role="owner")]),
        ProductCatalog(id="partners", name="Partner catalog", categories=["cat-bundles", "cat-iot"],
                       related_parties=[RelatedParty(id="csp", role="owner"),
                                        RelatedParty(id="car-maker", name="Car manufacturer", role="contributor")]),
    ]

    # Resource specifications: simple ones, and compound kits of them.
    simple_resources = [
        ResourceSpecification(id=f"rs-{j:02d}", name=f"Resource {j}", part_number=f"PN-{1000 + j}",
                              characteristics=[Characteristic(name="serialNumber", min_cardinality=1,
                                                              configurable=False)] if j % 3 == 0 else [])
        for j in range(30)]
    kits = [ResourceSpecification(id=f"rs-kit-{k}", name=f"Installation kit {k}",
                                  children=[r.id for r in rng.sample(simple_resources, rng.randint(2, 3))])
            for k in range(6)]
    resources = simple_resources + kits

    # Product specifications: 2 to 4 characteristics each, some made of resources.
    templates = _characteristic_templates()
    specs = []
    for j in range(max(20, offerings // 10)):
        specs.append(ProductSpecification(
            id=f"ps-{j:04d}", name=f"Product specification {j}",
            brand=rng.choice([None, "Acme", "Globex", "Initech"]), product_number=f"SPEC-{j:05d}",
            characteristics=[t() for t in rng.sample(templates, rng.randint(2, 4))],
            resource_specifications=[r.id for r in rng.sample(resources, rng.randint(0, 2))]))

    # Offerings: one in ten is a bundle of earlier simple offerings; each has its own prices.
    prices: list[ProductOfferingPrice] = []
    product_offerings: list[ProductOffering] = []
    simple_ids: list[str] = []
    for i in range(offerings):
        oid = f"po-{i:05d}"
        own_prices = [ProductOfferingPrice(id=f"{oid}-monthly", name=f"Offering {i} per month",
                                           price_type="recurring", recurring_period="month",
                                           amount=_amount(rng, 99, 9999), currency="EUR")]
        if rng.random() < 0.3:
            own_prices.append(ProductOfferingPrice(id=f"{oid}-activation", name=f"Offering {i} activation",
                                                   price_type="oneTime", amount=_amount(rng, 0, 4999),
                                                   currency="EUR"))
        if rng.random() < 0.1:
            own_prices.append(ProductOfferingPrice(id=f"{oid}-usage", name=f"Offering {i} beyond the allowance",
                                                   price_type="usage", unit="GB", amount=_amount(rng, 50, 500),
                                                   currency="EUR"))
        prices += own_prices
        common: dict[str, Any] = dict(
            id=oid, name=f"Offering {i}", description=f"Generated offering number {i}." if i % 4 == 0 else None,
            lifecycle_status=rng.choice(LIFECYCLE), valid_for=_valid_for(rng),
            channels=rng.sample(CHANNELS, rng.randint(1, 3)),
            categories=[c.id for c in rng.sample(subcategories, rng.randint(1, 2))],
            prices=[p.id for p in own_prices])
        if i % 10 == 9 and len(simple_ids) >= 4:
            bundle = [BundledOffering(offering=o, min=1, max=rng.choice([1, 1, 2, 5]))
                      for o in rng.sample(simple_ids, rng.randint(2, 4))]
            product_offerings.append(ProductOffering(bundle=bundle, **common))
            continue
        spec = rng.choice(specs)
        uses = []
        for c in spec.characteristics:
            if c.values and rng.random() < 0.4:
                uses.append(CharacteristicUse(name=c.name, values=rng.sample(c.values, rng.randint(1, len(c.values)))))
            elif c.range and rng.random() < 0.4:
                uses.append(CharacteristicUse(name=c.name, values=sorted(rng.sample(
                    range(c.range.min, c.range.max + 1), min(3, c.range.max - c.range.min + 1)))))
        relationships = []
        if simple_ids and rng.random() < 0.1:
            relationships.append(OfferingRelationship(type=rng.choice(["requires", "addOn", "option", "excludes"]),
                                                      offering=rng.choice(simple_ids)))
        product_offerings.append(ProductOffering(
            product_specification=spec.id, sellable=rng.random() < 0.95, partner_eligible=rng.random() < 0.1,
            characteristic_uses=uses, relationships=relationships, **common))
        simple_ids.append(oid)

    files = {
        "catalogs.yaml": CatalogFile(catalogs=catalogs, categories=roots + subcategories),
        "specifications/resources.yaml": CatalogFile(resource_specifications=resources),
        "specifications/products.yaml": CatalogFile(product_specifications=specs),
    }
    for n, chunk in enumerate(_chunks(prices, 4_000), 1):
        files[f"prices/prices-{n:02d}.yaml"] = CatalogFile(product_offering_prices=chunk)
    for n, chunk in enumerate(_chunks(product_offerings, 2_000), 1):
        files[f"offerings/offerings-{n:02d}.yaml"] = CatalogFile(product_offerings=chunk)
    return files


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def write_catalog(folder: Path, offerings: int) -> tuple[int, int, int]:
    """Write the generated catalog under ``folder``: (files, bytes, entities)."""
    files = generate_files(offerings)
    size = entities = 0
    for relative, catalog_file in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = dump_catalog_file(catalog_file)
        path.write_text(text, encoding="utf-8")
        size += len(text.encode("utf-8"))
        entities += len(Catalog.from_file(catalog_file))
    return len(files), size, entities


# ------------------------------------------------------------------------ the project's check


RULES_FILE = "rules/rules.yaml"
CHANGED_FILE = "offerings/offerings-01.yaml"  # the file edited between two checks


def write_rules(folder: Path, sizes: Sizes) -> int:
    """The rules of the rules benchmark, on this catalog's ids, as ``rules/rules.yaml``: bytes."""
    from benchmarks import rules_bench

    eligibility, _ = rules_bench.eligibility_rules(sizes.rules)
    compatibility = rules_bench.compatibility_rules(sizes.compatibility_rules)
    subcategories = [f"cat-{r}-{i:02d}" for i in range(1, SUBCATEGORIES_PER_ROOT + 1) for r in ROOT_CATEGORIES]

    def ours(value: Any) -> Any:  # po-0042 -> po-00042, cat-07 -> a subcategory of this catalog
        if isinstance(value, dict):
            return {k: ours(v) for k, v in value.items()}
        if isinstance(value, list):
            return [ours(v) for v in value]
        if isinstance(value, str) and re.fullmatch(r"po-\d{4}", value):
            return f"po-{int(value[3:]):05d}"
        if isinstance(value, str) and re.fullmatch(r"cat-\d{2}", value):
            return subcategories[int(value[4:]) % len(subcategories)]
        return value

    text = rules_bench.rules_yaml([ours(eligibility), ours(compatibility)])
    path = folder / RULES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


@dataclass
class CheckRun:
    wall_s: float
    cpu_s: float  # user + system, of the command and its worker processes
    output: str


def run_check(folder: Path, *options: str) -> CheckRun:
    """``bssrules check FOLDER`` as a command (a fresh interpreter, as an editor runs it on save)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bssrules.cli", "check", *options, str(folder)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"bssrules check failed on the generated project:\n{done.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return CheckRun(wall, cpu, done.stdout.strip())


def measure_check(folder: Path, runs: int) -> list[tuple[str, CheckRun]]:
    """Cold, one file changed, nothing changed: the best of ``runs`` each."""
    changed = folder / CHANGED_FILE
    original = changed.read_text(encoding="utf-8")

    def cold() -> CheckRun:
        shutil.rmtree(folder / ".bssrules-cache", ignore_errors=True)
        return run_check(folder)

    edits = iter(range(1, 1_000_000))

    def one_changed() -> CheckRun:
        run_check(folder)  # the cache holds every file
        changed.write_text(original.replace("name: Offering 0\n", f"name: Offering 0 (edit {next(edits)})\n", 1),
                           encoding="utf-8")
        return run_check(folder)

    figures = []
    for label, measured in (("bssrules check: cold (no check cache)", cold),
                            ("bssrules check: one file changed", one_changed),
                            ("bssrules check: nothing changed", lambda: run_check(folder))):
        best = min((measured() for _ in range(runs)), key=lambda r: r.wall_s)
        figures.append((label, best))
    changed.write_text(original, encoding="utf-8")
    return figures


# ------------------------------------------------------------------------ databases


@dataclass
class LoadFigures:
    database: str
    first_s: float
    again_s: float
    created: int
    unchanged: int
    attribute_rows: int


def load_into(url: str, catalog: Catalog, label: str) -> LoadFigures:
    """Load ``catalog`` into a fresh database, then again; check the second load changes nothing."""
    from sqlalchemy import func, select

    from bssrules.services import catalog as services
    from bssrules.store import UnitOfWork, make_engine
    from bssrules.store.tables import catalog_attribute

    engine = make_engine(url)  # migrations, not timed
    try:
        with UnitOfWork(engine) as uow:
            started = time.perf_counter()
            first = services.load_catalog(uow, catalog, SOURCE)
            first_s = time.perf_counter() - started
        with UnitOfWork(engine) as uow:
            started = time.perf_counter()
            again = services.load_catalog(uow, catalog, SOURCE)
            again_s = time.perf_counter() - started
        if len(first.created) != len(catalog) or again.changed:
            raise RuntimeError(f"unexpected load reports on {label}: {len(first.created)} created of {len(catalog)}, "
                               f"then changed={again.changed}")
        with engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(catalog_attribute)).scalar_one()
    finally:
        engine.dispose()
    return LoadFigures(label, first_s, again_s, len(first.created), len(again.unchanged), rows)


def load_into_postgres(server_url: str, catalog: Catalog) -> LoadFigures:
    """The same on PostgreSQL, in a database created for this run and dropped after it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bssrules.store.db import database_url

    admin_url = make_url(database_url(server_url))
    name = f"bssrules_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            version = connection.execute(text("SHOW server_version")).scalar_one()
        try:
            return load_into(admin_url.set(database=name).render_as_string(hide_password=False), catalog,
                             f"PostgreSQL {version.split()[0]}")
        finally:
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


# ------------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``uvicorn bssrules.api.app:create_app --factory`` in a subprocess; always stopped on exit."""

    def __init__(self, database_url: str, log_path: Path, start_timeout_s: float):
        self.database_url, self.log_path, self.start_timeout_s = database_url, log_path, start_timeout_s
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        # the figures are of the catalog and the rules: served as the operator, keys off
        env = {**os.environ, "BSSRULES_DATABASE_URL": self.database_url, "BSSRULES_AUTH": "off",
               "BSSRULES_DELIVERY": "off"}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "bssrules.api.app:create_app", "--factory",
                 "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
                 "--log-level", "warning", "--no-access-log"],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _wait_until_up(self) -> None:
        import httpx

        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout_s
        url = f"{self.base_url}{BASE_PATH}/catalog?limit=1"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {self.start_timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully (lifespan shutdown)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Latency:
    label: str
    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    per_second: float
    errors: int
    items: float  # mean resources per response (X-Result-Count)


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    return sorted_values[max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))]


def measure(client: Any, label: str, next_path: Callable[[], str], sizes: Sizes) -> Latency:
    """Warm up, then send up to ``sizes.requests`` GETs one after the other (bounded in time too)."""
    for _ in range(sizes.warmup):
        response = client.get(next_path())
        if response.status_code != 200:
            raise RuntimeError(f"{label}: HTTP {response.status_code} during warm-up: {response.text[:300]}")
    latencies, errors, items = [], 0, 0
    started = time.perf_counter()
    deadline = started + sizes.endpoint_budget_s
    for _ in range(sizes.requests):
        path = next_path()
        sent = time.perf_counter()
        response = client.get(path)  # reads the whole body
        done = time.perf_counter()
        latencies.append(done - sent)
        if response.status_code != 200:
            errors += 1
        items += int(response.headers.get("X-Result-Count", 1))
        if done > deadline:
            break
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Latency(label, len(latencies), _percentile(latencies, 0.50) * 1e3, _percentile(latencies, 0.99) * 1e3,
                   sum(latencies) / len(latencies) * 1e3, len(latencies) / elapsed, errors, items / len(latencies))


def measure_api(database_url: str, work: Path, offering_ids: list[str], category_ids: list[str],
                sizes: Sizes) -> list[Latency]:
    import httpx

    rng = random.Random(SEED)
    last_offset = max(0, len(offering_ids) - 20)
    endpoints: list[tuple[str, Callable[[], str]]] = [
        ("GET productOffering/{id}",
         lambda: f"{BASE_PATH}/productOffering/{rng.choice(offering_ids)}"),
        ("GET productOffering?limit=20&offset=<random>",
         lambda: f"{BASE_PATH}/productOffering?limit=20&offset={rng.randint(0, last_offset)}"),
        ("GET productOffering?lifecycleStatus=Active&category.id=<id>&limit=20",
         lambda: f"{BASE_PATH}/productOffering?lifecycleStatus=Active&category.id={rng.choice(category_ids)}&limit=20"),
    ]
    with Server(database_url, work / "server.log", sizes.server_start_s) as server:
        with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
            figures = [measure(client, label, next_path, sizes) for label, next_path in endpoints]
        if any(f.errors for f in figures):
            print(f"server log (last lines):\n{server.log_tail()}")
    return figures


# ------------------------------------------------------------------------ running


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "-"


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Run the catalog benchmark, print its table, and return the figures as rows."""
    from bssrules.catalog.loader import load_catalog
    from bssrules.errors import InvalidSource

    sizes = QUICK if quick else FULL
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bssrules-bench-") as temp:
        work = Path(temp)
        folder = work / "catalog"

        started = time.perf_counter()
        n_files, n_bytes, n_entities = write_catalog(folder, sizes.offerings)
        generate_s = time.perf_counter() - started
        print(f"catalog: {sizes.offerings:,} product offerings, {n_entities:,} entities in {n_files} YAML files "
              f"({n_bytes / 1e6:.1f} MB)", flush=True)

        rules_bytes = write_rules(folder, sizes)
        print(f"project: the catalog and {sizes.rules + sizes.compatibility_rules:,} rules "
              f"({(n_bytes + rules_bytes) / 1e6:.1f} MB of YAML); each check figure is the best of "
              f"{sizes.check_runs} run{'s' if sizes.check_runs > 1 else ''} of the command", flush=True)
        print(f"{'check':<48} {'wall s':>8} {'CPU s':>8}", flush=True)
        for label, figure in measure_check(folder, sizes.check_runs):
            print(f"{label:<48} {figure.wall_s:>8.2f} {figure.cpu_s:>8.2f}", flush=True)
            figures.append({"phase": label, "seconds": figure.wall_s, "cpu_seconds": figure.cpu_s})
        # Wall times stretch with what else the machine runs: CPU times do not.
        print(f"({figure.output}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n", flush=True)

        started = time.perf_counter()
        try:
            catalog = load_catalog(folder)
        except InvalidSource as exc:  # the generator is wrong: say where
            raise RuntimeError("the generated catalog is invalid:\n" + "\n".join(map(str, exc.diagnostics[:20])))
        parse_s = time.perf_counter() - started
        if len(catalog) != n_entities:
            raise RuntimeError(f"loaded {len(catalog)} entities, wrote {n_entities}")

        print(f"\n{'phase':<48} {'database':<18} {'seconds':>8} {'entities/s':>11}")
        rows = [("generate + dump YAML (catalog.dump)", "-", generate_s),
                ("load_catalog: parse + schema + checks", "-", parse_s)]
        for phase, database, seconds in rows:
            print(f"{phase:<48} {database:<18} {seconds:>8.2f} {_rate(n_entities, seconds):>11}", flush=True)
            figures.append({"phase": phase, "database": database, "seconds": seconds, "entities": n_entities})

        sqlite_path = work / "bench.db"
        loads = [load_into(f"sqlite:///{sqlite_path}", catalog, f"SQLite {sqlite3.sqlite_version} file")]
        _print_load(loads[-1], n_entities, figures)
        postgres_url = os.environ.get(POSTGRES_ENV)
        if postgres_url:
            loads.append(load_into_postgres(postgres_url, catalog))
            _print_load(loads[-1], n_entities, figures)
        else:
            print(f"(PostgreSQL skipped: set {POSTGRES_ENV} to a server URL to load there too)")
        print(f"attribute index: {loads[0].attribute_rows:,} rows "
              f"({loads[0].attribute_rows / n_entities:.1f} per entity)")

        offering_ids = sorted(catalog.offerings)
        category_ids = sorted(c.id for c in catalog.categories.values() if c.parent)
        print(f"\nHTTP: uvicorn, 1 worker, {loads[0].database}; one keep-alive httpx client, sequential; "
              f"up to {sizes.requests:,} requests each after {sizes.warmup} warm-up "
              f"(at most {sizes.endpoint_budget_s:.0f} s each)")
        print(f"{'request':<68} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'req/s':>7} {'items':>6}",
              flush=True)
        for figure in measure_api(f"sqlite:///{sqlite_path}", work, offering_ids, category_ids, sizes):
            print(f"{figure.label:<68} {figure.count:>6} {figure.p50_ms:>8.2f} {figure.p99_ms:>8.2f} "
                  f"{figure.mean_ms:>8.2f} {figure.per_second:>7.1f} {figure.items:>6.1f}"
                  + (f"  ({figure.errors} errors)" if figure.errors else ""), flush=True)
            figures.append({"request": figure.label, "database": loads[0].database, **figure.__dict__})
    return figures


def _print_load(load: LoadFigures, n_entities: int, figures: list[dict[str, Any]]) -> None:
    for phase, seconds in (("services.load_catalog: first load", load.first_s),
                           ("services.load_catalog: re-load (no change)", load.again_s)):
        print(f"{phase:<48} {load.database:<18} {seconds:>8.2f} {_rate(n_entities, seconds):>11}", flush=True)
        figures.append({"phase": phase, "database": load.database, "seconds": seconds, "entities": n_entities})


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(["--only", NAME, *sys.argv[1:]]))
