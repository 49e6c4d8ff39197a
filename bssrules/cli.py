"""The ``bssrules`` command line."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from bssrules.errors import BssRulesError, InvalidSource

app = typer.Typer(help="Author, check and apply the rules of a telecom product catalog.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out = Console()
if not out.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
    out = Console(width=160)
err = Console(stderr=True)

DatabaseOption = typer.Option(None, "--database-url", envvar="BSSRULES_DATABASE_URL",
                              help="SQLAlchemy URL of the database (default: sqlite:///bssrules.db).")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _report_invalid(exc: InvalidSource) -> None:
    for diagnostic in exc.diagnostics:
        # Plain lines, so that editors and CI annotate file:line:column.
        print(str(diagnostic), file=sys.stderr)
    warnings = len(exc.diagnostics) - len(exc.errors)
    err.print(f"[bold red]{_plural(len(exc.errors), 'error')}[/]" + (f", {_plural(warnings, 'warning')}" if warnings else ""))


@app.command()
def check(folders: list[Path] = typer.Argument(..., help="Folders to check: every catalog and rule .yaml/.yml inside."),
          no_cache: bool = typer.Option(False, "--no-cache", help="Check every file again, and keep nothing in "
                                                                  "the folder's .bssrules-cache.")) -> None:
    """Validate catalog and rule folders; print every error and warning as file:line:column, exit 1 on errors.

    What each file says on its own is kept in FOLDER/.bssrules-cache (by content): an unchanged
    file is not checked again, while everything across files always is."""
    from bssrules.rules.project import check_project

    failed = False
    for folder in folders:
        try:
            result = check_project(folder, cache=not no_cache)
        except InvalidSource as exc:
            _report_invalid(exc)
            failed = True
            continue
        if result.errors:
            _report_invalid(InvalidSource(result.diagnostics))
            failed = True
            continue
        for warning in result.warnings:
            print(str(warning), file=sys.stderr)
        entities = sum(result.entities.values())
        out.print(f"[green]ok[/] {escape(str(folder))}: {entities} catalog entities "
                  f"({result.entities.get('productOffering', 0)} offerings, "
                  f"{result.entities.get('productOfferingPrice', 0)} prices), "
                  f"{_plural(result.rule_sets, 'rule set')}, {_plural(result.tests, 'rule test')}"
                  + (f", {_plural(len(result.warnings), 'warning')}" if result.warnings else ""),
                  soft_wrap=True)  # one line, however long the folder's name
    raise typer.Exit(1 if failed else 0)


def _load_project_or_exit(folder: Path):  # type: ignore[no-untyped-def]
    from bssrules.rules.project import load_project

    try:
        return load_project(folder)
    except InvalidSource as exc:
        _report_invalid(exc)
        raise typer.Exit(1)


@app.command()
def test(folders: list[Path] = typer.Argument(..., help="Folders whose rule tests to run."),
         verbose: bool = typer.Option(False, "--verbose", "-v", help="Explain passing tests too.")) -> None:
    """Run the rule tests written next to the rules (given facts -> expected decision)."""
    from bssrules.rules.testing import run_tests

    failures = total = 0
    for folder in folders:
        project = _load_project_or_exit(folder)
        for result in run_tests(project.rules):
            total += 1
            mark = "[green]pass[/]" if result.passed else "[bold red]FAIL[/]"
            out.print(f"{mark} {escape(str(result.origin))}: {escape(result.test.name)}")
            if not result.passed:
                failures += 1
                for problem in result.problems:
                    out.print(f"     {escape(problem)}")
            if result.decision is not None and (verbose or not result.passed):
                _print_trace(result.decision)
    out.print(f"{total - failures} passed, {failures} failed")
    raise typer.Exit(1 if failures else 0)


def _print_trace(decision) -> None:  # type: ignore[no-untyped-def]
    from rich.tree import Tree

    tree = Tree(escape(f"{decision.kind} rule set {decision.rule_set} v{decision.version}"))
    for trace in decision.trace:
        branch = tree.add(f"{'[yellow]fired[/]' if trace.fired else 'not fired'} {escape(trace.rule)}"
                          + (f" ({escape(trace.note)})" if trace.note else ""))
        _explanation_tree(branch, trace.explanation)
    out.print(tree)


def _explanation_tree(node, explanation) -> None:  # type: ignore[no-untyped-def]
    mark = "[green]✓[/]" if explanation["result"] else "[red]✗[/]"
    if "parts" in explanation:
        child = node.add(f"{mark} {escape(explanation['condition'])}")
        for part in explanation["parts"]:
            _explanation_tree(child, part)
    else:
        seen = _seen(explanation["actual"])
        node.add(f"{mark} {escape(explanation['condition'])}  [dim](seen: {escape(seen)})[/]")


def _seen(value) -> str:  # type: ignore[no-untyped-def]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_seen(v) for v in value) + "]"
    return str(value)


@app.command()
def explain(folder: Path = typer.Argument(..., help="Folder with the catalog and rules."),
            facts_file: Path = typer.Argument(..., help="Facts as YAML or JSON (party, channel, usage …)."),
            rule_set: str = typer.Option(..., "--rule-set", "-r", help="Id of the rule set to decide with."),
            as_of: Optional[str] = typer.Option(None, help="Decide as of this date or date-time (default: now)."),
            as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON.")) -> None:
    """Decide facts with a rule set and show why: which rules fired, which test failed, with the values seen."""
    from bssrules import jsontext
    from bssrules.rules.decisions import decide
    from bssrules.yaml_source import parse_file

    project = _load_project_or_exit(folder)
    doc, problems = parse_file(facts_file)
    if doc is None or not isinstance(doc.data, dict):
        for problem in problems:
            print(str(problem), file=sys.stderr)
        err.print("the facts file must hold a mapping (party, channel, usage, …)")
        raise typer.Exit(1)
    from bssrules.rules.testing import decision_instant

    try:
        when = decision_instant(doc.data, as_of)
        compiled = project.rules.in_force(rule_set, when)
        decision = decide(compiled, doc.data, when)
    except (BssRulesError, ValueError) as exc:
        print(f"cannot decide: {exc}", file=sys.stderr)
        raise typer.Exit(1)
    if as_json:
        print(jsontext.dumps(decision.to_dict(), indent=2))
        return
    outcome = {k: v for k, v in decision.to_dict(with_trace=False).items() if k not in ("ruleSet", "version", "kind")}
    print(f"decision: {jsontext.dumps(outcome)}")  # one line, never wrapped
    _print_trace(decision)


@app.command()
def load(folder: Path = typer.Argument(..., help="Folder to load: its catalog and rule files."),
         source: Optional[str] = typer.Option(None, help="Name this load owns its entities under; a later load "
                                                         "of the same source removes what the folder no longer has "
                                                         "(default: the folder's absolute path)."),
         database_url: Optional[str] = DatabaseOption) -> None:
    """Check a folder (catalog and rules), then store it in one transaction (idempotent; prunes what the folder dropped)."""
    from bssrules.services import catalog as services
    from bssrules.store import UnitOfWork, make_engine

    project = _load_project_or_exit(folder)
    name = source or str(folder.resolve())
    engine = make_engine(database_url)
    started = time.perf_counter()
    try:
        with UnitOfWork(engine) as uow:
            report = services.load_project(uow, project, name)
    except BssRulesError as exc:
        print(f"not loaded: {exc}", file=sys.stderr)
        raise typer.Exit(1)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"loaded {folder} as '{name}' in {elapsed:.2f}s: {len(report.created)} created, "
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
def schema(name: str = typer.Argument("catalog", help="Which schema: catalog or rules.")) -> None:
    """Print a JSON Schema of the YAML formats (point your editor at it)."""
    from bssrules.catalog.schema import catalog_schema
    from bssrules.rules.schema import rules_schema

    schemas = {"catalog": catalog_schema, "rules": rules_schema}
    if name not in schemas:
        err.print(f"unknown schema '{name}'; available: {', '.join(schemas)}")
        raise typer.Exit(2)
    print(json.dumps(schemas[name](), indent=2, sort_keys=True))


@app.command()
def demo() -> None:
    """The connected-car scenario of examples/connected_car, whole: an empty embedded database, the API
    served with keys, the CSP, the car manufacturer, the content provider and the call
    center playing every step over HTTP, and what each of them sees at the end."""
    from bssrules.demo import run_demo
    from bssrules.demo.scenario import StepFailed

    try:
        run_demo(out)
    except StepFailed as exc:
        err.print(f"[bold red]the scenario failed:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


@app.command()
def rate(folder: Path = typer.Argument(..., help="Project folder: its usage and split billing rule sets rate."),
         usage: Path = typer.Option(..., "--input", "-i", help="Usage records: .csv, .jsonl or .parquet."),
         subscribers: Path = typer.Option(..., "--subscribers", "-s", help="Subscribers: .csv, .jsonl or .parquet."),
         output: Path = typer.Option(..., "--output", "-o", help="Rated records: .csv, .jsonl or .parquet."),
         buckets: Optional[Path] = typer.Option(None, "--buckets", help="Balances (buckets) as JSON lines."),
         accumulators: Optional[Path] = typer.Option(None, "--accumulators",
                                                     help="Accumulator totals so far, as JSON lines."),
         state_out: Optional[Path] = typer.Option(None, "--state-out",
                                                  help="Folder for the new buckets.jsonl and accumulators.jsonl."),
         chunk_size: int = typer.Option(500_000, "--chunk-size", min=1,
                                        help="Records rated at once (bounds the memory used).")) -> None:
    """Rate a usage file in bulk: every record comes out rated or rejected with its reason."""
    from bssrules.pricing.bulk_io import file_format, rate_file

    try:
        for path in (usage, subscribers, output):
            file_format(path)
    except BssRulesError as exc:
        err.print(escape(str(exc)))
        raise typer.Exit(2)
    project = _load_project_or_exit(folder)
    try:
        summary = rate_file(project.rules, usage, subscribers, output, buckets=buckets, accumulators=accumulators,
                            state_out=state_out, chunk_size=chunk_size)
    except (BssRulesError, OSError, ValueError) as exc:
        print(f"not rated: {exc}", file=sys.stderr)
        raise typer.Exit(1)
    rejected = sum(summary.rejected.values())
    print(f"{summary.records:,} records in: {summary.rated:,} rated, {rejected:,} rejected "
          f"({summary.seconds:.2f} s, {summary.records_per_second:,.0f} records/s)")
    for code, count in summary.rejected.most_common():
        print(f"  rejected {code}: {count:,}")
    for currency, total in sorted(summary.totals.items()):
        print(f"  total {currency}: {total}")
    if summary.by_reference:
        print(f"  {summary.by_reference:,} records rated by the reference path (values beyond the bulk path's range)")
    print(f"wrote {output}" + (f"; state in {state_out}" if state_out else ""))


@app.command()
def bill(period: str = typer.Argument(..., help="The month to bill, YYYY-MM."),
         database_url: Optional[str] = DatabaseOption) -> None:
    """Run the bill run of a month: one bill per billing account and currency (re-running it
    bills nothing twice); prints the bills made."""
    from bssrules.services import billing as billing_service
    from bssrules.errors import BssRulesError
    from bssrules.store import UnitOfWork, make_engine

    engine = make_engine(database_url)
    try:
        with UnitOfWork(engine) as uow:
            result = billing_service.run_bills(uow, period)
    except BssRulesError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    out.print(f"billed {period}: {len(result['billsMade'])} bills made, {len(result['billsAlreadyMade'])} already made"
              + (f", {len(result['lateUsage'])} late usage records left unbilled" if result["lateUsage"] else ""))
    for bill_id in result["billsMade"]:
        out.print(f"  {escape(bill_id)}")


@app.command()
def deliver(once: bool = typer.Option(False, help="One pass, then exit (default: deliver until stopped)."),
            retention: Optional[str] = typer.Option(
                None, envvar="BSSRULES_DELIVERY_RETENTION",
                help="How long a failing delivery is retried before it is given up (failed), e.g. 72h or 3d "
                     "(default 72h)."),
            max_backoff: Optional[str] = typer.Option(
                None, envvar="BSSRULES_DELIVERY_MAX_BACKOFF",
                help="The longest wait between two attempts, e.g. 5m (default 5m)."),
            database_url: Optional[str] = DatabaseOption) -> None:
    """Deliver the events of the outbox to the registered hubs (what each API worker also
    does in the background): in order per hub, retried with backoff for the retention."""
    from functools import partial

    from bssrules.services.notifications import RetryPolicy, deliver_due
    from bssrules.store import UnitOfWork, make_engine

    try:
        policy = RetryPolicy.from_env(retention, max_backoff)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    engine = make_engine(database_url)
    try:
        while True:
            sent = deliver_due(partial(UnitOfWork, engine), policy=policy)
            if once:
                out.print(f"{sent} deliveries attempted")
                return
            if not sent:
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


@app.command()
def redeliver(hub: str = typer.Option(..., "--hub", help="The id of the hub (the EventSubscription)."),
              event: Optional[str] = typer.Option(None, "--event", help="Send this event again (failed or "
                                                                        "delivered)."),
              since: Optional[str] = typer.Option(None, "--since", help="Send again the failed deliveries of the "
                                                                        "events made since this date or date-time."),
              database_url: Optional[str] = DatabaseOption) -> None:
    """Queue again what a hub was to be sent: one event, or its failed deliveries (all, or
    those of the events made since an instant); the dispatcher sends them in order."""
    from bssrules.services.notifications import redeliver as redeliver_events
    from bssrules.store import UnitOfWork, make_engine

    request = {k: v for k, v in (("event", event), ("since", since)) if v is not None}
    engine = make_engine(database_url)
    try:
        with UnitOfWork(engine) as uow:
            done = redeliver_events(uow, hub, request)
    except BssRulesError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    count = done["redelivered"]
    out.print(f"hub {escape(hub)}: {count} {'delivery' if count == 1 else 'deliveries'} queued again")
    for event_id in done["event"]:
        out.print(f"  {escape(event_id)}")


@app.command(name="admin-key")
def admin_key() -> None:
    """Print a fresh API key in the expected shape, for BSSRULES_ADMIN_KEY."""
    from bssrules.services.partners import make_key

    print(make_key())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
