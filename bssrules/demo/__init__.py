"""``bssrules demo``: the connected-car scenario of seed 000, whole, over HTTP.

Starts from an empty embedded (SQLite) database in a temporary folder, loads the
connected-car example as the CSP would (``bssrules load``), serves the API with uvicorn on
a free loopback port with authentication on, plays every step as the partners would
(:mod:`bssrules.demo.scenario`) and prints what each party sees at the end.
"""
from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from bssrules.demo.scenario import Report

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "connected_car"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_demo(console: Console, example: Path = EXAMPLE) -> Report:
    """Play the scenario on a fresh database; returns its report (raises if a step fails)."""
    import httpx
    import uvicorn

    from bssrules.services import partners
    from bssrules.demo import scenario
    from bssrules.services import catalog as services
    from bssrules.api import create_app
    from bssrules.rules.project import load_project
    from bssrules.store import UnitOfWork, make_engine

    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="bssrules-demo-"))
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = make_engine(url)
    with UnitOfWork(engine) as uow:
        loaded = services.load_project(uow, load_project(example), "connected_car")
    console.print(f"[bold]Connected car (seed 000)[/] · empty database {folder / 'demo.db'} · loaded "
                  f"{len(loaded.created)} catalog entities and rule sets of {example.name}")
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
        console.print(f"  {title}: " + ", ".join(f"{a} {n} calls" for a, n in actors.items()))
    scenario.print_report(report, console)
    console.print(f"[bold green]done[/] in {time.perf_counter() - started:.1f} s")
    return report
