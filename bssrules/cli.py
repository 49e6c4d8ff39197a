"""The ``bssrules`` command line."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from bssrules.errors import BssRulesError, InvalidSource

app = typer.Typer(help="Author, check and apply the rules of a telecom product catalog.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out = Console()
if not out.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
    out = Console(width=160)
err = Console(stderr=True)

DatabaseOption = typer.Option(None, "--database-url", envvar="BSSRULES_DATABASE_URL",
                              help="SQLAlchemy URL of the database (default: sqlite:///bssrules.db).")


def _report_invalid(exc: InvalidSource) -> None:
    for diagnostic in exc.diagnostics:
        # Plain lines, so that editors and CI annotate file:line:column.
        print(str(diagnostic), file=sys.stderr)
    count = len(exc.diagnostics)
    err.print(f"[bold red]{count} error{'s' if count != 1 else ''}[/]")


@app.command()
def check(folders: list[Path] = typer.Argument(..., help="Catalog folders to check (every .yaml/.yml inside).")
          ) -> None:
    """Validate catalog folders; print every error as file:line:column and exit 1 if any."""
    from bssrules.catalog.loader import load_catalog

    failed = False
    for folder in folders:
        try:
            catalog = load_catalog(folder)
        except InvalidSource as exc:
            _report_invalid(exc)
            failed = True
            continue
        out.print(f"[green]ok[/] {folder}: {len(catalog)} entities "
                  f"({len(catalog.offerings)} offerings, {len(catalog.prices)} prices)")
    raise typer.Exit(1 if failed else 0)


@app.command()
def load(folder: Path = typer.Argument(..., help="Catalog folder to load."),
         source: Optional[str] = typer.Option(None, help="Name this load owns its entities under; a later load "
                                                         "of the same source removes what the folder no longer has "
                                                         "(default: the folder's absolute path)."),
         database_url: Optional[str] = DatabaseOption) -> None:
    """Check a catalog folder, then store it in one transaction (idempotent; prunes what the folder dropped)."""
    from bssrules import services
    from bssrules.catalog.loader import load_catalog
    from bssrules.store import UnitOfWork, make_engine

    try:
        catalog = load_catalog(folder)
    except InvalidSource as exc:
        _report_invalid(exc)
        raise typer.Exit(1)
    name = source or str(folder.resolve())
    engine = make_engine(database_url)
    started = time.perf_counter()
    try:
        with UnitOfWork(engine) as uow:
            report = services.load_catalog(uow, catalog, name)
    except BssRulesError as exc:
        print(f"not loaded: {exc}", file=sys.stderr)
        raise typer.Exit(1)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    out.print(f"loaded [bold]{folder}[/] as '{name}' in {elapsed:.2f}s: {len(report.created)} created, "
              f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, {len(report.removed)} removed "
              f"(catalog revision {report.revision})")


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="TCP port."),
          workers: int = typer.Option(1, help="Worker processes (they share nothing but the database)."),
          database_url: Optional[str] = DatabaseOption) -> None:
    """Serve the TMF APIs over HTTP (schema migrated on start)."""
    import os

    import uvicorn

    if database_url:
        os.environ["BSSRULES_DATABASE_URL"] = database_url
    uvicorn.run("bssrules.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info")


@app.command()
def schema(name: str = typer.Argument("catalog", help="Which schema: catalog.")) -> None:
    """Print a JSON Schema of the YAML formats (point your editor at it)."""
    from bssrules.catalog.schema import catalog_schema

    schemas = {"catalog": catalog_schema}
    if name not in schemas:
        err.print(f"unknown schema '{name}'; available: {', '.join(schemas)}")
        raise typer.Exit(2)
    print(json.dumps(schemas[name](), indent=2, sort_keys=True))


@app.command()
def demo(folder: Path = typer.Option(Path("examples/connected_car/catalog"), help="Catalog folder to show."),
         database_url: Optional[str] = DatabaseOption) -> None:
    """Load the connected-car example catalog into the database and print what it sells."""
    from bssrules import services
    from bssrules.catalog.loader import load_catalog
    from bssrules.store import UnitOfWork, make_engine

    try:
        catalog = load_catalog(folder)
    except InvalidSource as exc:
        _report_invalid(exc)
        raise typer.Exit(1)
    engine = make_engine(database_url)
    try:
        with UnitOfWork(engine) as uow:
            report = services.load_catalog(uow, catalog, folder.resolve().parent.name)
        with UnitOfWork(engine) as uow:
            stored = services.stored_catalog(uow)
    finally:
        engine.dispose()
    out.print(f"[bold]Loaded {folder}[/] into {engine.url.render_as_string(hide_password=True)}: "
              f"{len(report.created)} created, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
              f"{len(report.removed)} removed")
    from bssrules.summary import catalog_tables

    for table in catalog_tables(stored, only={(e.kind, e.id) for e in catalog}):
        out.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
