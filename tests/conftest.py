"""Shared fixtures: database engines for the SQLite and PostgreSQL tiers, the API client.

The PostgreSQL tier runs when BSSRULES_TEST_POSTGRES_URL is set (``.ci/run`` sets it): the
session creates a database of its own there and drops it at the end. With
BSSRULES_REQUIRE_POSTGRES=1 an unreachable server fails the run instead of skipping.

What takes long to build is built once per session (per xdist worker): the migrated databases
(each tier's is emptied around every test), the API app (put back as it was after every test),
the numba kernels (compiled once for all workers); and the longest tests start first. Each is
explained where it is done.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bssrules.api.collector import tune_for_serving
from bssrules.store.db import database_url, make_engine
from bssrules.store.tables import metadata

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# The suites of the single-party APIs call them as the operator, without keys; the partner
# suites (tests/api/test_partners_auth.py, the connected-car scenario) turn auth on explicitly.
os.environ.setdefault("BSSRULES_AUTH", "off")
# Delivery threads are started by the notification tests themselves (or driven pass by pass).
os.environ.setdefault("BSSRULES_DELIVERY", "off")
POSTGRES_URL = os.environ.get("BSSRULES_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("BSSRULES_REQUIRE_POSTGRES") == "1"


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"PostgreSQL tier: ON ({make_url(database_url(POSTGRES_URL)).render_as_string(hide_password=True)})"
    return "PostgreSQL tier: SKIPPED (set BSSRULES_TEST_POSTGRES_URL to run it; .ci/run does)"


# ----------------------------------------------------------------- the rating kernels, compiled once
# Bulk rating's numba kernels are cached on disk (``cache=True``; bssrules/pricing/__pycache__
# or NUMBA_CACHE_DIR) but a fresh clone has no cache, and every xdist worker would compile them
# on its first bulk test (tens of seconds each). A run of the whole suite on workers therefore
# compiles them once, in a process of its own started while the workers start and collect; a
# worker about to compile anything waits for that process first, then finds the kernels in the
# cache. If the warm-up fails the worker compiles as before, and the tests say what is wrong.
_WARM_DONE = "BSSRULES_TEST_WARM_UP_DONE"  # the file the warm-up creates when it ends, either way
_WARM_PID = "BSSRULES_TEST_WARM_UP_PID"
_WARM_SCRIPT = """\
import pathlib, sys
try:
    from bssrules.pricing.bulk_warm import warm_up
    warm_up()
finally:
    pathlib.Path(sys.argv[1]).touch()
"""
_warm_up: subprocess.Popen[bytes] | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _warm_up
    # the collector tuned as a serving worker tunes its own (bssrules.api.collector): what pytest
    # and the suite's imports loaded is frozen out of its walks (tests/api, 3 workers: 133 s with
    # Python's defaults, 97 s tuned)
    tune_for_serving()
    if hasattr(config, "workerinput"):
        if os.environ.get(_WARM_DONE):
            _wait_for_the_warm_up_before_compiling()
        return
    whole_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if getattr(config.option, "dist", "no") == "no" or not whole_suite or os.environ.get(_WARM_DONE):
        return
    done = Path(tempfile.mkdtemp(prefix="bssrules-warm-up-")) / "done"
    _warm_up = subprocess.Popen([sys.executable, "-c", _WARM_SCRIPT, str(done)], cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ[_WARM_DONE], os.environ[_WARM_PID] = str(done), str(_warm_up.pid)  # the workers inherit them


def pytest_unconfigure(config: pytest.Config) -> None:
    if _warm_up is not None:
        try:
            _warm_up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            _warm_up.kill()
            _warm_up.wait()
        shutil.rmtree(Path(os.environ[_WARM_DONE]).parent, ignore_errors=True)


def _wait_for_the_warm_up_before_compiling() -> None:
    """In a worker: a numba function about to be compiled (none is in memory for its types)
    first waits for the session's warm-up, which may be compiling it into the cache now."""
    from numba.core.dispatcher import Dispatcher

    done, pid = Path(os.environ[_WARM_DONE]), int(os.environ[_WARM_PID])
    compile_ = Dispatcher.compile

    def running() -> bool:
        try:  # the process is there and not a zombie (killed, not yet reaped by the controller)
            return not done.exists() and Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
        except OSError:
            return False

    def compile_after_the_warm_up(self: Any, sig: Any) -> Any:
        deadline = time.monotonic() + 600
        while running() and time.monotonic() < deadline:
            time.sleep(0.1)
        Dispatcher.compile = compile_  # waited once: nothing to wait for any more
        return compile_(self, sig)

    Dispatcher.compile = compile_after_the_warm_up


# ------------------------------------------------------------------------- the longest tests first
# On workers (``make test``: a worker per core and one more, ``--dist worksteal``) the run ends when the last worker
# does: a test of half a minute picked up near the end keeps one core busy while the other has
# nothing left. These files hold the longest single tests (benchmarks run end to end, mypy, a
# Dask cluster, the scenarios); they are started first, each in its own order, and the short
# tests fill in around them. A hint only: a file not named here runs in its usual place.
LONGEST_FIRST = (
    "tests/integration/test_bulk_dask.py",
    "tests/unit/test_configurator_bench_smoke.py",
    "tests/unit/test_typing.py",
    "tests/unit/test_check_benchmark.py",
    "tests/unit/test_benchmarks_smoke.py",
    "tests/unit/rules/test_rule_engine_limits.py",
    "tests/e2e/test_rating_scenarios.py",
    "tests/e2e/test_scenarios.py",
    "tests/e2e/test_demo_and_server.py",
    "tests/unit/test_check_reader.py",
    "tests/property/test_catalog_roundtrip.py",
    "tests/property/test_exact_decisions.py",
    "tests/unit/test_rules_docs.py",
    "tests/unit/test_docs.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(LONGEST_FIRST)}
    # stable: within a file, and among the files not named, the order stays
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(LONGEST_FIRST)))


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session (dropped at the end)."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tier skipped: BSSRULES_TEST_POSTGRES_URL is not set")
    admin_url = make_url(database_url(POSTGRES_URL))
    name = f"bssrules_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (BSSRULES_REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def _postgres_engine(postgres_server_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_server_url)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per worker: a test that needs a fresh database gets a copy
    (a millisecond) instead of running the migrations again (a third of a second)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"
    make_engine(f"sqlite:///{path}").dispose()  # the last connection closed: the WAL is in the file
    return path


def _copy_of(template: Path, folder: Path) -> Engine:
    """An engine on a copy of the migrated template, in ``folder``."""
    target = folder / "test.db"
    for suffix in ("", "-wal"):  # a WAL left beside the file (none normally) goes with it
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", f"{target}{suffix}")
    return make_engine(f"sqlite:///{target}", migrate=False)


@pytest.fixture(scope="session")
def _sqlite_engine(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """This worker's SQLite database for the ``engine`` tier: emptied around each test, as the
    PostgreSQL one is, so that the app built on it can be kept (see ``_app_for``)."""
    engine = _copy_of(_sqlite_template, tmp_path_factory.mktemp("sqlite"))
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty database: SQLite, then (when enabled) PostgreSQL. One database per
    worker and tier, emptied before and after each test."""
    engine = request.getfixturevalue("_sqlite_engine" if request.param == "sqlite" else "_postgres_engine")
    _empty(engine)
    yield engine
    _empty(engine)


@pytest.fixture
def sqlite_engine(_sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database of this test's own (for tests that do not depend on the
    database kind)."""
    engine = _copy_of(_sqlite_template, tmp_path)
    yield engine
    engine.dispose()


# Building the app (its 120 routes and their models) takes longer than most API tests: it is
# built once per worker, database and setting, and each test gets it as built. What a test may
# change on it is put back after the test; everything the app keeps between requests (caches,
# the usage combiner, the delivery thread) is made anew by its lifespan, for each test client.
_APP_SETTINGS = ("BSSRULES_AUTH", "BSSRULES_ADMIN_KEY", "BSSRULES_DELIVERY")  # read by create_app
_apps: dict[tuple[Any, ...], tuple[Engine, Any]] = {}


@contextmanager
def _app_for(engine: Engine, **options: Any) -> Iterator[Any]:
    """``create_app(engine=engine, **options)`` for one test; its middleware is built again for
    the test (a middleware reads its settings then), its routes and state are put back after it."""
    from bssrules.api import create_app

    key = (id(engine), tuple(os.environ.get(name) for name in _APP_SETTINGS), tuple(sorted(options.items())))
    if key not in _apps:
        _apps[key] = (engine, create_app(engine=engine, **options))  # the engine held: its id stays its own
    _, app = _apps[key]
    routes, schema, state = list(app.router.routes), app.openapi_schema, dict(app.state._state)
    app.middleware_stack = None
    if "known_keys" in state:  # what create_app builds and a test fills: the API keys POST /usage has checked
        app.state.known_keys = type(state["known_keys"])()
    try:
        yield app
    finally:
        app.router.routes[:] = routes
        app.openapi_schema = schema
        app.state._state.clear()
        app.state._state.update(state)
        app.middleware_stack = None


@pytest.fixture(scope="session")
def app_for() -> Callable[..., AbstractContextManager[Any]]:
    """The app on an engine, built once per worker (see ``_app_for``): ``with app_for(engine) as
    app`` (keywords are those of ``create_app``: ``auth``, ``admin_key``)."""
    return _app_for


@pytest.fixture
def client(engine: Engine):  # type: ignore[no-untyped-def]
    """An HTTP client on the app, over each database tier."""
    from fastapi.testclient import TestClient

    with _app_for(engine) as app, TestClient(app) as test_client:
        yield test_client
