"""The ``bssrules`` command line."""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape

from bssrules.errors import BssRulesError, InvalidSource

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bssrules.pricing.bulk_io import Progress, RatingSummary

app = typer.Typer(help="Author, check and apply the rules of a telecom product catalog.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# No emoji codes: ids, names and positions are printed as written (":100:" is no 💯).
out = Console(emoji=False)
if not out.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
    out = Console(width=160, emoji=False)
# Piped or captured, a result or an explanation stays one line however long (for CI and grep).
flat = out if out.is_terminal else Console(width=1 << 14, emoji=False)
err = Console(stderr=True, emoji=False)

DatabaseOption = typer.Option(None, "--database-url", envvar="BSSRULES_DATABASE_URL",
                              help="SQLAlchemy URL of the database (default: sqlite:///bssrules.db).")


@app.callback()
def _settings_read_at_import() -> None:
    # A setting read when its module is imported (BSSRULES_DECISION_CACHE, by the rules) stopped
    # any command that imports it with a traceback: it is read here first, and said in one line.
    if not os.environ.get("BSSRULES_DECISION_CACHE", "").strip():
        return  # (nothing to read: the commands that need no rules start without importing them)
    try:
        import bssrules.rules.decisions  # noqa: F401
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _report_invalid(exc: InvalidSource, held_back: int = 0) -> None:
    for diagnostic in exc.diagnostics:
        # Plain lines, so that editors and CI annotate file:line:column.
        print(str(diagnostic), file=sys.stderr)
    warnings = len(exc.diagnostics) - len(exc.errors)
    err.print(f"[bold red]{_plural(len(exc.errors), 'error')}[/]" + (f", {_plural(warnings, 'warning')}" if warnings else "")
              # (the analysis of a rule set's rules — gaps, overlaps, rules that never apply — runs once
              # it has no error: what it finds is not among those held back, and the words say so)
              + (f" ({_plural(held_back, 'more warning')} of rule sets with errors, shown once their errors are "
                 "fixed, with what the analysis of their rules then finds)" if held_back else ""), soft_wrap=True)


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
            # The warnings of a rule set in error would speak of what its fixes may change: held back.
            shown, held_back = result.shown_and_held_back()
            _report_invalid(InvalidSource(shown), len(held_back))
            failed = True
            continue
        for warning in sorted(result.warnings):  # by file, line and column, as with errors
            print(str(warning), file=sys.stderr)
        entities = sum(result.entities.values())
        out.print(f"[green]ok[/] {escape(str(folder))}: {entities} catalog entities "
                  f"({_plural(result.entities.get('productOffering', 0), 'offering')}, "
                  f"{_plural(result.entities.get('productOfferingPrice', 0), 'price')}), "
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


def _open_database(database_url: Optional[str]) -> "Engine":
    """The engine of the database, its schema migrated; or, when it cannot be used (a wrong
    URL, a server down, a newer schema), that said in one line and exit 2: nothing was done."""
    from bssrules.store import make_engine
    from bssrules.store.db import DatabaseUnavailable

    try:
        return make_engine(database_url)
    except DatabaseUnavailable as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def test(folders: list[Path] = typer.Argument(..., help="Folders whose rule tests to run."),
         verbose: bool = typer.Option(False, "--verbose", "-v", help="Explain passing tests too.")) -> None:
    """Run the rule tests written next to the rules (given facts -> expected decision).

    A test with an error of ``check`` in it (a misspelt field, an unknown rule set) fails with
    that error, and the other tests run; a folder whose catalog or rule sets have errors runs
    none (its errors are printed) and the next folder's run."""
    from bssrules.rules.project import BrokenTest, load_project, shown_and_held_back
    from bssrules.rules.testing import TestResult, run_tests

    failures = total = 0
    not_loaded = 0
    for folder in folders:
        try:
            project = load_project(folder, broken_tests=True)
        except InvalidSource as exc:
            shown, held_back = shown_and_held_back(exc.diagnostics)  # as check says them
            _report_invalid(InvalidSource(shown), len(held_back))
            not_loaded += 1
            continue
        results: list[TestResult | BrokenTest] = [*run_tests(project.rules), *project.broken_tests]
        for result in sorted(results, key=lambda r: project.test_order(r.origin)):  # stable: file order
            total += 1
            if isinstance(result, BrokenTest):
                failures += 1
                out.print(f"[bold red]FAIL[/] {escape(str(result.origin))}: {escape(result.name)}", soft_wrap=True)
                for error in result.errors:
                    out.print(f"     {escape(str(error))}", soft_wrap=True)
                continue
            mark = "[green]pass[/]" if result.passed else "[bold red]FAIL[/]"
            out.print(f"{mark} {escape(str(result.origin))}: {escape(result.test.name)}", soft_wrap=True)
            if not result.passed:
                failures += 1
                # what check found in it (an expectation no decision has) said at its place
                placed = {_gist(d.message): d for d in project.test_errors if d.file == result.origin.file}
                for problem in result.problems:
                    out.print(f"     {escape(str(placed.get(_gist(problem), problem)))}", soft_wrap=True)
            if result.decision is not None and (verbose or not result.passed):
                _print_trace(result.decision)
    if not_loaded < len(folders):
        out.print(f"{total - failures} passed, {failures} failed"
                  + (f"; {_plural(not_loaded, 'folder')} not run (errors above)" if not_loaded else ""), soft_wrap=True)
    raise typer.Exit(1 if failures or not_loaded else 0)


def _gist(message: str) -> str:
    """What a rule test's problem says, without the help after it (the keys allowed, the one
    meant): the run and check word the help apart."""
    return message.split(";")[0].split(" (did you mean")[0]


def _print_trace(decision) -> None:  # type: ignore[no-untyped-def]
    from rich.tree import Tree

    tree = Tree(escape(f"{decision.kind} rule set {decision.rule_set} v{decision.version}"))
    for trace in decision.trace:
        branch = tree.add(f"{'[yellow]fired[/]' if trace.fired else 'not fired'} {escape(trace.rule)}"
                          + (f" ({escape(trace.note)})" if trace.note else ""))
        _explanation_tree(branch, trace.explanation)
    flat.print(tree)


def _explanation_tree(node, explanation) -> None:  # type: ignore[no-untyped-def]
    from bssrules.rules.evaluate import NO_ALTERNATIVE, NO_CONDITION

    mark = "[green]✓[/]" if explanation["result"] else "[red]✗[/]"
    if "parts" in explanation:
        child = node.add(f"{mark} {escape(explanation['condition'])}")
        for part in explanation["parts"]:
            _explanation_tree(child, part)
    elif explanation["condition"] in (NO_CONDITION, NO_ALTERNATIVE):  # nothing was tested: nothing seen
        node.add(f"{mark} {escape(explanation['condition'])}")
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
            facts_file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                              help="Facts as YAML or JSON (party, channel, usage …)."),
            rule_set: str = typer.Option(..., "--rule-set", "-r", help="Id of the rule set to decide with."),
            as_of: Optional[str] = typer.Option(None, help="Decide as of this date or date-time (default: now)."),
            as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON.")) -> None:
    """Decide facts with a rule set and show why: which rules fired, which test failed, with the values seen."""
    from bssrules import jsontext
    from bssrules.rules.decisions import decide
    from bssrules.yaml_source import parse_file

    project = _load_project_or_exit(folder)
    doc, problems = parse_file(facts_file)
    from bssrules.rules.testing import decision_instant, given_findings

    errors = [str(problem) for problem in problems]  # syntax, encoding, a repeated key
    if rule_set not in project.rules.versions:  # (said with the facts' problems: every error at once)
        from bssrules.errors import did_you_mean

        hint = did_you_mean(rule_set, project.rules.versions)
        errors.append(f"--rule-set: no rule set with id '{rule_set}'" + (f" (did you mean '{hint}'?)" if hint else ""))
    if doc is not None and not isinstance(doc.data, dict):
        held = "it is empty" if doc.data is None else f"it holds {'a list' if isinstance(doc.data, list) else 'a value'}"
        errors.append(str(doc.diagnostic((), f"the facts file must hold a mapping of facts (party, channel, usage, "
                                             f"…); {held}")))
    elif doc is not None:
        # The facts are checked as a rule test's given is: every problem at once, at its place.
        for path, message, suggestion in given_findings(doc.data, as_of):
            errors.append(f"--as-of: {message}" if path == ("asOf",) else
                          str(doc.diagnostic(path[1:], message, suggestion=suggestion)))
    if errors or doc is None:
        for error in errors:
            print(error, file=sys.stderr)
        err.print(f"[bold red]{_plural(len(errors), 'error')}[/]: nothing was decided")
        raise typer.Exit(1)
    assert isinstance(doc.data, dict)
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
    from sqlalchemy.exc import DBAPIError

    from bssrules.services import catalog as services
    from bssrules.store import UnitOfWork
    from bssrules.store.db import one_line

    if source is not None and not source.strip():  # (a script's variable left unset: "--source $SOURCE")
        print("--source is empty: give the name this load owns its entities under, or leave the option out "
              "(the folder's absolute path)", file=sys.stderr)
        raise typer.Exit(2)
    project = _load_project_or_exit(folder)
    name = source or str(folder.resolve())
    engine = _open_database(database_url)
    started = time.perf_counter()
    try:
        with UnitOfWork(engine) as uow:
            report = services.load_project(uow, project, name)
    except BssRulesError as exc:
        print(f"not loaded: {exc}", file=sys.stderr)
        raise typer.Exit(1)
    except DBAPIError as exc:  # the database refused or failed half-way: the transaction is rolled back
        print(f"not loaded: the database failed ({one_line(exc)}); the load was rolled back: run it again once "
              f"the database is back (loads of the same entities: one at a time)", file=sys.stderr)
        raise typer.Exit(1)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"loaded {folder} as '{name}' in {elapsed:.2f}s: {len(report.created)} created, "
          f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, {len(report.removed)} removed "
          f"(catalog revision {report.revision})")


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
          workers: int = typer.Option(1, min=1, help="Worker processes (they share nothing but the database)."),
          database_url: Optional[str] = DatabaseOption) -> None:
    """Serve the TMF APIs over HTTP (schema migrated on start)."""
    import uvicorn

    # What would stop the workers' start is found here first, and said in one line (exit 2):
    # in a worker it was a page of traceback, or a server that answered 500 to everything.
    problem = _setting_problem() or _port_problem(host, port)
    if problem:
        err.print(f"[bold red]error:[/] {escape(problem)}", soft_wrap=True)
        raise typer.Exit(2)
    _prepare_database(database_url)  # migrated once, before the workers, which then find it done
    if database_url:
        os.environ["BSSRULES_DATABASE_URL"] = database_url
    uvicorn.run("bssrules.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info")


def _setting_problem() -> str | None:
    """What is wrong with the environment variables the server reads (as it reads them), or None."""
    try:
        from bssrules.api.app import create_app  # noqa: F401 - what a worker imports (BSSRULES_DECISION_CACHE)
        from bssrules.api.collector import thresholds_of
        from bssrules.api.limits import max_body_bytes, rating_leaders
        from bssrules.services.dating import DatingPolicy

        DatingPolicy.from_env()
        thresholds_of(os.environ.get("BSSRULES_GC"))
        rating_leaders()  # (0 leaders: a usage would wait for ever)
        max_body_bytes()
    except ValueError as exc:
        return str(exc)
    return None


def _port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, or None — told before the database is migrated."""
    import errno
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        return f"--host {host}: not an interface of this machine ({exc.strerror}); give an address such as 127.0.0.1 or 0.0.0.0"
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another server?): stop it, or give another --port"
            if exc.errno == errno.EACCES:
                return f"port {port} on {host} may not be used by this user (below 1024: a privileged port); give another --port"
            return f"cannot listen on {host}:{port} ({exc.strerror}); give another --host or --port"
    return None


def _prepare_database(database_url: Optional[str]) -> None:
    """The database migrated, and the administrator's key (``BSSRULES_ADMIN_KEY``) checked and
    stored, as each worker does when it starts; exit 2 with one line when that cannot be done."""
    from functools import partial

    from sqlalchemy.exc import DBAPIError

    from bssrules.services import partners
    from bssrules.store import UnitOfWork
    from bssrules.store.db import one_line

    engine = _open_database(database_url)
    try:
        admin = os.environ.get("BSSRULES_ADMIN_KEY")
        if admin:
            partners.ensure_admin_at_start(partial(UnitOfWork, engine), admin)
        elif _keys_required() and not _has_administrator(partial(UnitOfWork, engine)):
            # a new database served without BSSRULES_ADMIN_KEY: nobody could register a partner
            err.print("[yellow]warning:[/] the database has no administrator yet: every call will be refused "
                      "(401) and nobody can register a partner; start the server with "
                      "BSSRULES_ADMIN_KEY=$(bssrules admin-key) once", soft_wrap=True)
    except BssRulesError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    except DBAPIError as exc:  # (migrated a moment ago: a database failing over, a disk gone)
        err.print(f"[bold red]error:[/] the database failed ({escape(one_line(exc))}); start again once it is back",
                  soft_wrap=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def _keys_required() -> bool:
    """Whether the server will ask for API keys (as the app reads ``BSSRULES_AUTH``)."""
    return os.environ.get("BSSRULES_AUTH", "on").lower() not in ("off", "0", "no")


def _has_administrator(unit_of_work) -> bool:  # type: ignore[no-untyped-def]
    from bssrules.services import partners

    with unit_of_work() as uow:
        return bool(uow.resources.page(partners.KIND, {"role": ["admin"]}, 0, 1)[1])


@app.command()
def schema(name: str = typer.Argument("catalog", help="Which schema: catalog or rules.")) -> None:
    """Print a JSON Schema of the YAML formats (point your editor at it)."""
    from bssrules.catalog.schema import catalog_schema
    from bssrules.rules.schema import rules_schema

    schemas = {"catalog": catalog_schema, "rules": rules_schema}
    if name not in schemas:
        from bssrules.errors import did_you_mean

        hint = did_you_mean(name, schemas)
        err.print(f"unknown schema {escape(repr(name))}; available: {', '.join(schemas)}"
                  + (f" (did you mean '{escape(hint)}'?)" if hint else ""), soft_wrap=True)
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
        err.print(f"[bold red]the scenario failed:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None


def _rate_progress(enabled: bool) -> tuple[Optional["Progress"], AbstractContextManager[Any]]:
    """A progress display on stderr (records, records/s, time left) when it is a terminal:
    (progress callback for rate_file, context manager); nothing when piped."""
    if not enabled or not err.is_terminal:
        return None, nullcontext()
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    display = Progress(TextColumn("{task.description:<7}"), BarColumn(bar_width=20),
                       TextColumn("{task.completed:>11,.0f} of {task.total:,.0f} records"),
                       TextColumn("{task.fields[speed]:>10}"), TextColumn("left"), TimeRemainingColumn(),
                       console=err, transient=True)
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        names = {"read": "reading", "rate": "rating"}
        if stage not in tasks:
            tasks[stage] = display.add_task(names.get(stage, stage), total=max(total, done, 1), speed="")
        task = tasks[stage]
        display.update(task, completed=done, total=max(total, done, 1))
        speed = display.tasks[list(tasks).index(stage)].speed
        display.update(task, speed=f"{speed:,.0f}/s" if speed else "")
    return update, display


def _compile_notice(ahead: bool = False) -> None:
    """Said once, when numba starts compiling the kernels (never when they come from its cache)."""
    err.print("[yellow]compiling the rating kernels[/] (once after an install or an upgrade: about 25 s of "
              "CPU, a minute or more on a busy machine" + ("" if ahead else "; `bssrules rate --warm-up` does it ahead of time") + ") …",
              soft_wrap=True)


@app.command()
def rate(folder: Optional[Path] = typer.Argument(None, help="Project folder: its usage and split billing rule sets "
                                                            "rate (not needed with --warm-up)."),
         usage: Optional[Path] = typer.Option(None, "--input", "-i",
                                              help="Usage records: .csv, .jsonl or .parquet, or a folder of "
                                                   ".parquet part files (a Parquet dataset)."),
         subscribers: Optional[Path] = typer.Option(None, "--subscribers", "-s",
                                                    help="Subscribers: .csv, .jsonl or .parquet."),
         output: Optional[Path] = typer.Option(None, "--output", "-o",
                                               help="Rated records: .csv, .jsonl or .parquet; with --workers or "
                                                    "--scheduler a folder, written as Parquet part files."),
         buckets: Optional[Path] = typer.Option(None, "--buckets", help="Balances (buckets) as JSON lines."),
         accumulators: Optional[Path] = typer.Option(None, "--accumulators",
                                                     help="Accumulator totals so far, as JSON lines."),
         state_out: Optional[Path] = typer.Option(None, "--state-out",
                                                  help="Folder for the new buckets.jsonl and accumulators.jsonl."),
         chunk_size: Optional[int] = typer.Option(None, "--chunk-size", min=1,
                                                  help="Records rated at once (bounds the memory; default "
                                                       "200,000, fewer when the ids are longer than 12 bytes: "
                                                       "within 1 GB; on a cluster, 200,000 per partition)."),
         workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                               help="Rate on a local Dask cluster of this many worker processes."),
         scheduler: Optional[str] = typer.Option(None, "--scheduler",
                                                 help="Rate on the Dask cluster of this scheduler, "
                                                      "e.g. tcp://host:8786."),
         partitions: Optional[int] = typer.Option(None, "--partitions", min=1,
                                                  help="On a cluster: subscriber partitions (default: enough for "
                                                       "--chunk-size records each, at least twice the threads)."),
         progress: bool = typer.Option(True, "--progress/--no-progress",
                                       help="Show progress on a terminal (never when stderr is piped)."),
         warm_up: bool = typer.Option(False, "--warm-up",
                                      help="Compile the rating kernels into numba's cache and exit (what the first "
                                           "rating after an install otherwise does).")) -> None:
    """Rate a usage file in bulk: every record comes out rated or rejected with its reason.
    The file formats: docs/bulk-rating.md."""
    from bssrules.pricing.bulk_io import DEFAULT_CHUNK_SIZE, file_format, rate_file  # first: it tunes the allocators before polars loads
    from bssrules.pricing.bulk_warm import watch_compilation
    from polars.exceptions import PolarsError

    if warm_up:
        from bssrules.pricing.bulk_warm import warm_up as compile_kernels

        with watch_compilation(lambda: _compile_notice(ahead=True)):
            began = time.perf_counter()
            done = compile_kernels()
        print(f"rating kernels compiled in {done.seconds:.1f} s and cached" if done.compiled else
              f"rating kernels already compiled (loaded from the cache in {time.perf_counter() - began:.1f} s)")
        return
    missing = [name for name, value in (("FOLDER", folder), ("--input", usage), ("--subscribers", subscribers),
                                        ("--output", output)) if value is None]
    if missing:
        print(f"missing: {', '.join(missing)} (see bssrules rate --help)", file=sys.stderr)
        raise typer.Exit(2)
    assert folder is not None and usage is not None and subscribers is not None and output is not None
    clash = _output_clash(output, {"--input": usage, "--subscribers": subscribers, "--buckets": buckets,
                                   "--accumulators": accumulators})
    if clash:
        print(clash, file=sys.stderr)
        raise typer.Exit(2)
    state_problem = _state_out_problem(state_out, output) if state_out is not None else None
    if state_problem:
        print(state_problem, file=sys.stderr)
        raise typer.Exit(2)
    on_cluster = workers is not None or scheduler is not None
    if workers is not None and scheduler is not None:
        print("give --workers (a local cluster) or --scheduler (an existing one), not both", file=sys.stderr)
        raise typer.Exit(2)
    if partitions is not None and not on_cluster:
        print("--partitions is for a cluster (--workers or --scheduler); one process cuts the usage into "
              "partitions of --chunk-size records", file=sys.stderr)
        raise typer.Exit(2)
    address_problem = _scheduler_address_problem(scheduler) if scheduler is not None else None
    if address_problem:
        print(address_problem, file=sys.stderr)
        raise typer.Exit(2)
    if not on_cluster and output.is_dir():
        print(f"--output {output} is a folder: give the rated file's name (rated.csv, rated.jsonl or rated.parquet; "
              f"a folder of part files is written on a cluster only)", file=sys.stderr)
        raise typer.Exit(2)
    try:
        for path in (usage, subscribers) + (() if on_cluster else (output,)):
            if not (path == usage and usage.is_dir()):
                file_format(path)
    except BssRulesError as exc:
        print(str(exc), file=sys.stderr)  # one line, however long the path
        raise typer.Exit(2)
    if on_cluster and output is not None:  # (said before a cluster is started, as the other arguments)
        from bssrules.pricing.bulk_dask import output_folder_problem

        problem = output_folder_problem(output)
        if problem is not None:
            print(problem, file=sys.stderr)
            raise typer.Exit(2)
    project = _load_project_or_exit(folder)
    from bssrules.pricing.rating import usage_rule_set_versions

    if not usage_rule_set_versions(project.rules):  # rated anyway: every record says why it is rejected
        err.print(f"warning: {folder} has no usage rule set (kind: usage): every record will be rejected "
                  "noApplicableRate", soft_wrap=True)
    from bssrules.pricing.bulk_warm import compile_apart

    # after an install: the kernels compiled by a process of its own, the compiler's memory
    # not held by this one (its peak: 1,057 MB at 5,000,000 records with it, 920 MB without)
    ahead = compile_apart(_compile_notice)
    if ahead.compiled:
        err.print(f"compiled the rating kernels in {ahead.seconds:.1f} s (cached: later runs start at once)",
                  soft_wrap=True)
    update, display = _rate_progress(progress)
    began = time.perf_counter()
    import tempfile

    from bssrules.pricing.bulk_allowances import provision_files
    from bssrules.pricing.bulk_months import rate_file_by_month, rolls_over, usage_months

    # written beside the output under another name, and given its name once the run is done: a
    # run that fails half-way (a full disk, a bug) leaves no half-written file, and an earlier
    # output as it was (on a cluster, the output is a folder of parts: see docs/bulk-rating.md)
    writing = output if on_cluster else output.with_name(f".{output.stem}.{os.getpid()}.partial{output.suffix}")
    _remove_leftovers(output, state_out)
    stopped = _stop_on_terminate()  # a scheduler's SIGTERM (a job's time limit, a pod stopped) as a Ctrl-C
    # the new state likewise, in a folder of its own inside --state-out, moved in once the output has its
    # name: a run that fails leaves the state files before it (the next run's --buckets) as they were
    state = _StateWriting(state_out)
    try:
        with display, watch_compilation(_compile_notice) as compilation, \
                tempfile.TemporaryDirectory(prefix="bssrules-allowances-") as made:
            # the catalog's included allowances of the usage's months, as buckets (issue 15); on a
            # cluster too: the driver reads the buckets and hands each partition its own
            if not on_cluster and rolls_over(project.catalog) and len(usage_months(usage)) > 1:
                # a month's rollover is known once the month before is rated: a month at a time
                summary = rate_file_by_month(project.rules, project.catalog, usage, subscribers, writing,
                                             buckets=buckets, accumulators=accumulators, state_out=state.folder,
                                             chunk_size=chunk_size, progress=update)
            elif on_cluster:
                with_allowances = provision_files(project.catalog, usage, subscribers, buckets, Path(made))
                summary = _rate_on_cluster(folder, usage, subscribers, output, with_allowances, accumulators,
                                           state.folder, chunk_size or DEFAULT_CHUNK_SIZE, workers, scheduler, partitions, update)
            else:
                with_allowances = provision_files(project.catalog, usage, subscribers, buckets, Path(made))
                summary = rate_file(project.rules, usage, subscribers, writing, buckets=with_allowances,
                                    accumulators=accumulators, state_out=state.folder, chunk_size=chunk_size,
                                    progress=update)
        if writing != output:
            os.replace(writing, output)
        state.commit()
    except (BssRulesError, OSError, ValueError, PolarsError) as exc:  # a file polars or pyarrow cannot read
        _forget(writing, output)
        state.forget()
        print(f"not rated: {exc}", file=sys.stderr)
        raise typer.Exit(1)
    except Exception as exc:  # noqa: BLE001 - a bug: said in one line, with where it happened
        _forget(writing, output)
        state.forget()
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"not rated: an unexpected error ({type(exc).__name__}: {exc}) at {Path(frame.filename).name}:"
              f"{frame.lineno}; nothing was written — please report it with the command and its files",
              file=sys.stderr)
        raise typer.Exit(1)
    except BaseException as exc:  # Ctrl-C, SIGTERM: no half-written file either
        _forget(writing, output)
        state.forget()
        if isinstance(exc, (KeyboardInterrupt, _Terminated)):
            print(f"not rated: {'stopped (SIGTERM)' if isinstance(exc, _Terminated) else 'interrupted'}; "
                  f"{output} was not written", file=sys.stderr)
        raise
    finally:
        stopped()
    if compilation.compiled:
        err.print(f"compiled the rating kernels in {compilation.seconds:.1f} s (cached: later runs start at once)",
                  soft_wrap=True)
    rejected = sum(summary.rejected.values())
    # (the first run's compilation is not rating: its seconds are said above, not counted here)
    seconds = max(summary.seconds - compilation.seconds, 0.0) if compilation.compiled else summary.seconds
    per_second = summary.records / seconds if seconds > 0 else 0.0
    # on a cluster, starting it (a local one) and readying its workers take longer than a small file's rating
    whole = f"; {time.perf_counter() - began:.1f} s with the cluster's start" if on_cluster else ""
    print(f"{summary.records:,} records in: {summary.rated:,} rated, {rejected:,} rejected "
          f"({seconds:.2f} s, {per_second:,.0f} records/s{whole})")
    if summary.partly_rated:
        print(f"  rated in part: {summary.partly_rated:,} (up to a rateUpToCap threshold, the rest refused)")
    for code, count in sorted(summary.rejected.items(), key=lambda item: (-item[1], item[0])):
        print(f"  rejected {code}: {count:,}")
    for currency, total in sorted(summary.totals.items()):
        print(f"  total {currency}: {total:,}")
    if summary.by_reference:
        print(f"  {summary.by_reference:,} records rated by the reference path (values beyond the bulk path's range)")
    where = f"{summary.partitions} part file{'s' if summary.partitions != 1 else ''} in {output}" if on_cluster \
        else str(output)
    print(f"wrote {where}" + (f"; state in {state_out}" if state_out else ""))
    if summary.records and summary.rejected.get("unknownSubscriber", 0) == summary.records:
        err.print(f"warning: no record's subscriber is an id of {subscribers}: is it the subscribers file of this "
                  f"usage (the usage's subscriber column holds its id column's values)?", soft_wrap=True)


class _StateWriting:
    """Where a run writes its new state (``buckets.jsonl``, ``accumulators.jsonl``) before they take
    their place in ``--state-out``: ``.partial.<pid>`` inside it, on its file system. Written in place,
    a run that failed after the state (a full disk on its second file, the output's rename, a SIGTERM)
    left new balances beside no rated file, which the next run (given them as --buckets) took again."""

    NAMES = ("buckets.jsonl", "accumulators.jsonl")

    def __init__(self, state_out: Optional[Path]):
        self.state_out = state_out
        self.made = state_out is not None and not state_out.exists()
        self.folder = None if state_out is None else state_out / f".partial.{os.getpid()}"

    def commit(self) -> None:
        """The new state files moved into ``--state-out`` (each replaced at once: ``os.replace``)."""
        if self.state_out is None or self.folder is None:
            return
        for name in self.NAMES:
            if (self.folder / name).exists():
                os.replace(self.folder / name, self.state_out / name)
        self.forget()

    def forget(self) -> None:
        """The state of a run that failed removed; a --state-out this run made, when empty, too."""
        if self.folder is None or self.state_out is None:
            return
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
        if self.made:
            try:
                self.state_out.rmdir()  # (only when empty)
            except OSError:
                pass


class _Terminated(SystemExit):
    """SIGTERM received while rating: the run stops as on Ctrl-C (exit 143, 128 + 15)."""


def _stop_on_terminate() -> Callable[[], None]:
    """SIGTERM turned into :class:`_Terminated` in the main thread until the returned function
    is called (which puts the handler before back): Python's default ends the process at once,
    leaving the half-written output (``.rated.<pid>.partial.csv``) and the spill folders."""
    import signal

    def terminated(signum: int, frame: Any) -> None:
        raise _Terminated(128 + signum)

    try:
        before = signal.signal(signal.SIGTERM, terminated)
    except ValueError:  # not the main thread (a caller's own thread): left as it is
        return lambda: None

    def restore() -> None:
        signal.signal(signal.SIGTERM, before)

    return restore


def _scheduler_address_problem(address: str) -> Optional[str]:
    """Why ``--scheduler`` is no scheduler address, said before anything is loaded (whether a
    scheduler answers there is asked later): [tcp|tls|ws|wss://]HOST:PORT, or inproc://…"""
    import re

    if address.startswith("inproc://"):
        return None
    match = re.fullmatch(r"(?:(?:tcp|tls|ws|wss)://)?(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(\d{1,5})/?", address)
    if match is None or not 0 < int(match.group(2)) < 65536:
        return (f"--scheduler {address!r} is no scheduler address: give tcp://HOST:PORT (e.g. "
                f"tcp://scheduler:8786, the port dask scheduler prints)")
    return None


def _remove_leftovers(output: Path, state_out: Optional[Path]) -> None:
    """What earlier runs killed outright (SIGKILL, the out-of-memory killer, a power cut) left
    of their output and state (``.rated.<pid>.partial.csv``, ``<state-out>/.partial.<pid>``),
    removed — only those of a process no longer running: a run still going keeps its own."""
    import re
    import shutil

    def gone(pid: str) -> bool:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except (OSError, ValueError, OverflowError):  # another user's process, or no pid at all
            return False
        return False

    partial = re.compile(rf"\.{re.escape(output.stem)}\.(\d+)\.partial{re.escape(output.suffix)}")
    places = [(output.parent, partial)]
    if state_out is not None:
        places.append((state_out, re.compile(r"\.partial\.(\d+)")))
    for folder, name in places:
        try:
            entries = list(folder.iterdir())
        except OSError:  # no such folder yet: nothing left there
            continue
        for entry in entries:
            match = name.fullmatch(entry.name)
            if match is None or not gone(match.group(1)) or int(match.group(1)) == os.getpid():
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _forget(writing: Path, output: Path) -> None:
    """The half-written output of a run that failed, removed (not on a cluster: its parts are kept)."""
    if writing != output:
        writing.unlink(missing_ok=True)


def _same_file(one: Path, other: Path) -> bool:
    """Whether two paths name one file or folder: equal once resolved (``./``, ``..``, symbolic
    links), or two names of one existing file (a hard link)."""
    try:
        if one.exists() and other.exists():
            return one.samefile(other)
        return one.resolve() == other.resolve()
    except OSError:  # a path that cannot be resolved (a symlink loop): the rating reports it
        return False


def _output_clash(output: Path, inputs: dict[str, Optional[Path]]) -> str | None:
    """Why ``output`` may not be written, or None: rating writes its output while it still reads
    its inputs, so an output that is one of them would be overwritten, unwarned and half read."""
    for option, path in inputs.items():
        if path is not None and _same_file(output, path):
            return (f"--output {output} is the {option} file {path}: rating would overwrite what it reads; "
                    f"give another output file")
    return None


def _state_out_problem(state_out: Path, output: Path) -> str | None:
    """Why the new state cannot go to ``state_out``, or None — told before anything is read:
    found only after rating, the rated output was written and the state lost."""
    if _same_file(state_out, output):
        return f"--state-out {state_out} is the --output {output}: give the new state a folder of its own"
    for name in ("buckets.jsonl", "accumulators.jsonl"):
        if _same_file(state_out / name, output):
            return (f"--output {output} is the {name} that --state-out {state_out} receives: one would overwrite the "
                    f"other; give the rated file another name or the state another folder")
    for place in (state_out, *state_out.parents):
        if place.exists():
            if not place.is_dir():
                return (f"--state-out {state_out}: {place} is a file, not a folder (the new buckets.jsonl and "
                        f"accumulators.jsonl go in a folder); give a folder")
            break
    for name in ("buckets.jsonl", "accumulators.jsonl"):
        if (state_out / name).is_dir():
            return (f"--state-out {state_out}: {state_out / name} is a folder, where the new {name} goes; "
                    f"move it away or give the state another folder")
    return None


def _rate_on_cluster(folder: Path, usage: Path, subscribers: Path, output: Path, buckets: Optional[Path],
                     accumulators: Optional[Path], state_out: Optional[Path], chunk_size: int,
                     workers: Optional[int], scheduler: Optional[str], partitions: Optional[int],
                     update: Optional["Progress"]) -> "RatingSummary":
    from bssrules.pricing.bulk_dask import cluster_client, project_texts, rate_on_cluster, warm_workers
    from bssrules.pricing.bulk_warm import warm_up as compile_kernels

    if workers is not None:
        compile_kernels()  # here first: the local workers then load the kernels from the same cache
    with cluster_client(workers, scheduler) as client:
        compiled = {worker: done for worker, done in warm_workers(client).items() if done.compiled}
        if compiled:
            slowest = max(done.seconds for done in compiled.values())
            err.print(f"{len(compiled)} worker(s) compiled the rating kernels ({slowest:.0f} s); run "
                      f"`bssrules rate --warm-up` where the workers are built to skip this", soft_wrap=True)
        return rate_on_cluster(client, project_texts(folder), usage, subscribers, output, buckets=buckets,
                               accumulators=accumulators, state_out=state_out, chunk_size=chunk_size,
                               partitions=partitions, progress=update)


@app.command()
def bill(period: str = typer.Argument(..., help="The month to bill, YYYY-MM."),
         database_url: Optional[str] = DatabaseOption) -> None:
    """Run the bill run of a month: one bill per billing account and currency (re-running it
    bills nothing twice); prints the bills made, and the accounts it could not bill with the
    reason (a product whose dates cannot be read). Exits 1 when an account was not billed (the
    others are billed: fix the product and run the month again), 2 when the run failed."""
    from sqlalchemy.exc import DBAPIError

    from bssrules.services import billing as billing_service
    from bssrules.errors import BssRulesError
    from bssrules.store import UnitOfWork
    from bssrules.store.db import one_line

    engine = _open_database(database_url)
    try:
        with UnitOfWork(engine) as uow:
            result = billing_service.run_bills(uow, period)
    except BssRulesError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)  # one line, for logs and grep
        raise typer.Exit(2) from None
    except DBAPIError as exc:  # rolled back: no bill of the run was kept, and running it again bills none twice
        err.print(f"[bold red]error:[/] the database failed ({escape(one_line(exc))}); the bill run was rolled "
                  f"back: run the month again once the database is back (it bills nothing twice)", soft_wrap=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    not_billed = result.get("accountsNotBilled", [])
    summary = [_plural(len(result["billsMade"]), "bill") + " made", f"{len(result['billsAlreadyMade'])} already made"]
    if result["lateUsage"]:
        summary.append(f"{_plural(len(result['lateUsage']), 'late usage record')} left unbilled")
    if not_billed:
        summary.append(f"{_plural(len(not_billed), 'account')} not billed")
    out.print(f"billed {period}: " + ", ".join(summary), soft_wrap=True)
    for bill_id in result["billsMade"]:
        out.print(f"  {escape(bill_id)}", soft_wrap=True)
    if not_billed:
        out.print("not billed (fix the product, then run the month again):", soft_wrap=True)
        for account in not_billed:
            out.print(f"  {escape(account['id'])}: {escape(account['reason'])}", soft_wrap=True)
        raise typer.Exit(1)


DELIVERY_RETRY_SECONDS = 5  # how long `bssrules deliver` waits for a database that failed


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

    from sqlalchemy.exc import DBAPIError

    from bssrules.services.notifications import RetryPolicy, deliver_due
    from bssrules.store import UnitOfWork
    from bssrules.store.db import one_line

    try:
        policy = RetryPolicy.from_env(retention, max_backoff)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)  # one line, for logs and grep
        raise typer.Exit(2) from None
    engine = _open_database(database_url)
    try:
        while True:
            try:
                sent = deliver_due(partial(UnitOfWork, engine), policy=policy)
            except DBAPIError as exc:
                failed = f"the database failed ({escape(one_line(exc))})"
                if once:
                    err.print(f"[bold red]error:[/] {failed}; run it again once the database is back", soft_wrap=True)
                    raise typer.Exit(2) from None
                # a database restarting or failing over stops no dispatcher: the outbox keeps each
                # event until its delivery is recorded, and what was claimed is claimed again
                err.print(f"[yellow]warning:[/] {failed}; trying again in {DELIVERY_RETRY_SECONDS} s", soft_wrap=True)
                time.sleep(DELIVERY_RETRY_SECONDS)
                continue
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
    from sqlalchemy.exc import DBAPIError

    from bssrules.services.notifications import redeliver as redeliver_events
    from bssrules.store import UnitOfWork
    from bssrules.store.db import one_line

    request = {k: v for k, v in (("event", event), ("since", since)) if v is not None}
    engine = _open_database(database_url)
    try:
        with UnitOfWork(engine) as uow:
            done = redeliver_events(uow, hub, request)
    except BssRulesError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)  # one line, for logs and grep
        raise typer.Exit(2) from None
    except DBAPIError as exc:  # rolled back: nothing was queued again
        err.print(f"[bold red]error:[/] the database failed ({escape(one_line(exc))}); nothing was queued again: "
                  f"run it again once the database is back", soft_wrap=True)
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
