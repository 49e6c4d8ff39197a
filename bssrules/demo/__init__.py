"""``bssrules demo``: the connected-car scenario, whole, over HTTP.

Starts from an empty embedded (SQLite) database in a folder of its own, loads the
connected-car example as the CSP would (``bssrules load``), serves the API with uvicorn on
a free loopback port with authentication on, plays every step as the partners would
(:mod:`bssrules.demo.scenario`) and prints what each party sees at the end. The database
is left in place, and the demo ends by printing how to serve it again
(``bssrules serve --database-url …``) with the operator's key, which that database knows,
and which guide to read next.
"""
from __future__ import annotations

import shlex
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from bssrules.demo.scenario import Report

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "connected_car"
GUIDES = (("docs/partner-guide.md", "this scenario, call by call, as each partner plays it"),
          ("docs/rules-format.md", "the rules that decided it"))
# The parties as the scenario's steps name them (their partner ids), in the user's words.
PARTIES = {"operator": "operator (administrator)", "csp": "CSP", "car-maker": "car manufacturer",
           "content-provider": "content provider", "call-center": "call center"}
# What is played and by whom, in two lines.
WHAT = ("Connected car: the CSP sells connectivity to a car manufacturer, who resells infotainment to a driver paying her "
        "own usage;\na content provider builds a converged offer, a call center works the tickets; all over HTTP, each with "
        "its own API key.")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 call``, ``2 calls``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def _shown(path: Path) -> str:
    """A path as the user may type it: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _program() -> str:
    """The bssrules command as the user ran it (``.venv/bin/bssrules`` under ``make demo``)."""
    invoked = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if invoked is None or invoked.name != "bssrules":
        return "bssrules"  # run from Python (the tests): the installed command
    found = shutil.which("bssrules")
    if found and Path(found).resolve() == invoked.resolve():
        return "bssrules"
    return shlex.quote(str(invoked))


def run_demo(console: Console, example: Path = EXAMPLE, folder: Path | None = None) -> Report:
    """Play the scenario on a fresh database in ``folder`` (default: a new temporary folder),
    left there for ``bssrules serve``; returns the report (raises if a step fails)."""
    import httpx
    import uvicorn

    from bssrules.services import partners
    from bssrules.demo import scenario
    from bssrules.services import catalog as services
    from bssrules.api import create_app
    from bssrules.rules.project import load_project
    from bssrules.store import UnitOfWork, make_engine

    started = time.perf_counter()
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="bssrules-demo-"))
    database = (folder / "demo.db").resolve()
    if database.exists():
        raise FileExistsError(f"{database} exists: the demo starts from an empty database")
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    with UnitOfWork(engine) as uow:
        loaded = services.load_project(uow, load_project(example), example.name)
    console.print(WHAT, markup=False, highlight=False, soft_wrap=True)
    console.print(f"Database: {database}, new, with the catalog and rules of {_shown(example)} "
                  f"({plural(len(loaded.created), 'entity', 'entities')})", markup=False, highlight=False, soft_wrap=True)
    admin = partners.make_key()
    app = create_app(engine=engine, auth=True, admin_key=admin)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the demo server did not start")
            time.sleep(0.05)
        console.print(f"serving on http://127.0.0.1:{port} (API keys required); the parties play their steps:")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            report = scenario.play(client, admin)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
    parts: dict[str, dict[str, int]] = {}
    for exchange in report.exchanges:
        parts.setdefault(exchange.part, {}).setdefault(exchange.actor, 0)
        parts[exchange.part][exchange.actor] += 1
    for title, actors in parts.items():
        console.print(f"  {title}: " + ", ".join(f"{PARTIES.get(a, a)} {plural(n, 'call')}"
                                                 for a, n in actors.items()))
    scenario.print_report(report, console)
    console.print(f"[bold green]done[/] in {time.perf_counter() - started:.1f} s")
    _explore(console, database, admin)
    return report


def _explore(console: Console, database: Path, admin_key: str) -> None:
    """How to look at what the parties left: serve the database again, call it as the operator."""
    program = _program()
    serve = f"{program} serve --database-url {shlex.quote(f'sqlite:///{database}')}"
    bills = "http://127.0.0.1:8000/tmf-api/customerBillManagement/v4/customerBill"
    lines = [f"Explore it: the database stays in {database}; serve it and call it with the operator's key "
             f"(it sees everything):",
             f"  {serve}",
             f"  curl -H 'Authorization: Bearer {admin_key}' {bills}",
             "  (every API is described at http://127.0.0.1:8000/docs)"]
    lines.append("Read next: " + ", then ".join(f"{_shown(ROOT / guide)} ({why})" for guide, why in GUIDES) + ".")
    for line in lines:  # not wrapped: a wrapped command could not be pasted
        console.print(line, markup=False, highlight=False, soft_wrap=True)
