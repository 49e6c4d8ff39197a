"""The examples of the user documentation are true.

* docs/catalog-format.md: every ```yaml catalog block loads; every ```yaml invalid block fails
  with exactly the errors of the ```text block after it; the ```diff block applied to a copy of
  the connected-car example makes ``bssrules check`` print exactly the ```console block after it.
* docs/api.md is replayed in the order it is written against the app with authentication on,
  on a fresh SQLite database:

  - a ``$ bssrules load <folder> --source <name>`` line of a ```console block loads that folder
    there, as the command does (``serve``, ``export BSSRULES_ADMIN_KEY=…`` and ``curl`` lines are
    how to run it, and are not executed; any other command fails the test);
  - each ```http request is sent, ``<operator key>`` standing for the administrator's key the
    server was started with, and the response must match the ```json block after the request:
    the status (``// HTTP/1.1 200 OK``), the headers listed as ``// Name: value`` and the JSON
    body. Numbers are compared by their text (``2.50`` is not ``2.5``); ``lastUpdate`` values
    are ignored; a UUID in a documented response matches the id the server generated, and
    later requests use that id in its place. Every request carries a key, except those
    answered 401.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bssrules.catalog import load_catalog_text
from bssrules.errors import InvalidSource

ROOT = Path(__file__).resolve().parents[2]
CATALOG_FORMAT = ROOT / "docs" / "catalog-format.md"
API = ROOT / "docs" / "api.md"
EXAMPLES = ROOT / "examples"
INVALID_FILE_NAME = "catalog.yaml"  # the name the ```text blocks of catalog-format.md use

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


@dataclass(frozen=True)
class Block:
    info: str  # the fence's info string, e.g. "yaml catalog"
    text: str
    line: int  # line of the opening fence in the document

    @property
    def where(self) -> str:
        return f"line {self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [Block(m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 1)
            for m in _FENCE.finditer(text)]


def _followed_by(blocks: list[Block], info: str, next_info: str) -> list[tuple[Block, Block]]:
    pairs = []
    for i, block in enumerate(blocks):
        if block.info == info:
            assert i + 1 < len(blocks) and blocks[i + 1].info == next_info, (
                f"the ```{info} block at {block.where} must be followed by a ```{next_info} block")
            pairs.append((block, blocks[i + 1]))
    return pairs


# --------------------------------------------------------------------- catalog-format.md

FORMAT_BLOCKS = fenced_blocks(CATALOG_FORMAT)
CATALOG_BLOCKS = [b for b in FORMAT_BLOCKS if b.info == "yaml catalog"]
INVALID_BLOCKS = _followed_by(FORMAT_BLOCKS, "yaml invalid", "text")
DIFF_BLOCKS = _followed_by(FORMAT_BLOCKS, "diff", "console")


def test_catalog_format_has_examples() -> None:
    assert len(CATALOG_BLOCKS) >= 8
    assert len(INVALID_BLOCKS) >= 3
    assert len(DIFF_BLOCKS) == 1


@pytest.mark.parametrize("block", CATALOG_BLOCKS, ids=[b.where for b in CATALOG_BLOCKS])
def test_catalog_example_is_valid(block: Block) -> None:
    try:
        catalog = load_catalog_text(block.text, INVALID_FILE_NAME)
    except InvalidSource as exc:
        pytest.fail(f"the example at {block.where} of {CATALOG_FORMAT.name} is invalid:\n{exc}")
    assert len(catalog) > 0


def _count_line(count: int) -> str:
    return f"{count} error{'s' if count != 1 else ''}"


@pytest.mark.parametrize("pair", INVALID_BLOCKS, ids=[b.where for b, _ in INVALID_BLOCKS])
def test_invalid_example_reports_the_documented_errors(pair: tuple[Block, Block]) -> None:
    source, expected = pair
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(source.text, INVALID_FILE_NAME)
    actual = [str(d) for d in caught.value.diagnostics] + [_count_line(len(caught.value.diagnostics))]
    assert actual == expected.text.splitlines(), f"errors of the example at {source.where}"


def apply_diff(diff: str, folder: Path) -> None:
    """Apply a unified diff whose file names are relative to ``folder``: each hunk's old text
    (context and removed lines) must occur exactly once in the file and is replaced."""
    lines = diff.splitlines()
    i, target = 0, None
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- "):
            i += 1
            continue
        if line.startswith("+++ "):
            target = folder / line[4:].strip()
            i += 1
            continue
        if line.startswith("@@"):
            assert target is not None, "a hunk before any +++ line"
            old, new = [], []
            i += 1
            while i < len(lines) and not lines[i].startswith(("@@", "--- ")):
                text = lines[i]
                marker, rest = (text[:1], text[1:]) if text else (" ", "")  # blank context line
                if marker in " -":
                    old.append(rest)
                if marker in " +":
                    new.append(rest)
                i += 1
            while old and new and old[-1] == "" and new[-1] == "":  # trailing blank lines of the hunk
                old.pop()
                new.pop()
            content = target.read_text(encoding="utf-8")
            old_text, new_text = "\n".join(old) + "\n", "\n".join(new) + "\n"
            assert content.count(old_text) == 1, f"hunk does not apply to {target.name}:\n{old_text}"
            target.write_text(content.replace(old_text, new_text), encoding="utf-8")
            continue
        i += 1


@pytest.mark.parametrize("pair", DIFF_BLOCKS, ids=[b.where for b, _ in DIFF_BLOCKS])
def test_broken_copy_of_the_example_reports_the_documented_output(pair: tuple[Block, Block],
                                                                  tmp_path: Path) -> None:
    diff, console = pair
    shutil.copytree(EXAMPLES / "connected_car" / "catalog", tmp_path / "catalog")
    apply_diff(diff.text, tmp_path)
    command, *expected = console.text.splitlines()
    assert command.startswith("$ bssrules "), f"the console block at {console.where} starts with the command"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env.update(NO_COLOR="1", COLUMNS="200")
    result = subprocess.run([sys.executable, "-m", "bssrules.cli", *command.split()[2:]], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert (result.stdout + result.stderr).splitlines() == expected


# ----------------------------------------------------------------------------- api.md


@dataclass
class Exchange:
    request: Block
    response: Block
    method: str = ""
    target: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    status: int = 0
    expected_headers: dict[str, str] = field(default_factory=dict)
    expected_body: str = ""


def parse_exchange(request: Block, response: Block) -> Exchange:
    exchange = Exchange(request, response)
    head, _, body = request.text.partition("\n\n")
    request_line, *header_lines = head.strip("\n").splitlines()
    parts = request_line.split()
    assert len(parts) in (2, 3), f"request line at {request.where}: METHOD /path [HTTP/1.1]"
    exchange.method, exchange.target = parts[0], parts[1]
    for line in header_lines:
        name, _, value = line.partition(":")
        exchange.headers[name.strip()] = value.strip()
    exchange.body = body.strip()
    comments, rest = [], response.text.splitlines()
    while rest and rest[0].startswith("//"):
        comments.append(rest.pop(0)[2:].strip())
    status = re.fullmatch(r"HTTP/1\.1 (\d{3})( .*)?", comments[0] if comments else "")
    assert status, f"the response at {response.where} starts with // HTTP/1.1 <status>"
    exchange.status = int(status.group(1))
    for line in comments[1:]:
        name, _, value = line.partition(":")
        exchange.expected_headers[name.strip()] = value.strip()
    exchange.expected_body = "\n".join(rest).strip()
    return exchange


OPERATOR_KEY = "<operator key>"
_LOAD = re.compile(r"^\$ bssrules load (\S+) --source (\S+)$")
# How to run the server and call it: shown, not executed.
_NOT_EXECUTED = (re.compile(r"^\$ bssrules serve( .*)?$"),
                 re.compile(r"^\$ export BSSRULES_ADMIN_KEY=\$\(bssrules admin-key\)$"),
                 re.compile(r"^\$ curl .*$"))


@dataclass(frozen=True)
class Load:
    """``$ bssrules load <folder> --source <name>``, at its place in the page."""

    block: Block
    folder: str
    source: str


def api_steps(blocks: list[Block]) -> tuple[list[Exchange | Load], list[str]]:
    """The page's steps in order (loads and exchanges), and the commands it shows that are
    neither executed nor known to be how to run the server."""
    steps: list[Exchange | Load] = []
    unknown = []
    for block in blocks:
        if block.info != "console":
            continue
        for line in block.text.splitlines():
            load = _LOAD.match(line)
            if load:
                steps.append(Load(block, load.group(1), load.group(2)))
            elif line.startswith("$ ") and not any(p.match(line) for p in _NOT_EXECUTED):
                unknown.append(f"{block.where}: {line}")
    exchanges = [parse_exchange(r, s) for r, s in _followed_by(blocks, "http", "json")]
    steps += exchanges
    steps.sort(key=lambda step: step.block.line if isinstance(step, Load) else step.request.line)
    return steps, unknown


API_BLOCKS = fenced_blocks(API)
API_STEPS, API_UNKNOWN_COMMANDS = api_steps(API_BLOCKS)
API_EXCHANGES = [step for step in API_STEPS if isinstance(step, Exchange)]


class Number(tuple):
    """A JSON number kept as its text, so that 2.50 and 2.5 differ."""


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=lambda s: Number(("number", s)))


class Matcher:
    """Compares documented and actual JSON, binding documented UUIDs to generated ones."""

    def __init__(self) -> None:
        self.uuids: dict[str, str] = {}

    def substitute(self, text: str) -> str:
        return _UUID.sub(lambda m: self.uuids.get(m.group(0), m.group(0)), text)

    def string(self, documented: str, actual: Any, where: str, problems: list[str]) -> None:
        if not isinstance(actual, str):
            problems.append(f"{where}: documented {documented!r}, got {actual!r}")
            return
        ids = _UUID.findall(documented)
        if not ids:
            if documented != actual:
                problems.append(f"{where}: documented {documented!r}, got {actual!r}")
            return
        pattern = "".join(f"({_UUID.pattern})" if _UUID.fullmatch(part) else re.escape(part)
                          for part in re.split(f"({_UUID.pattern})", documented))
        found = re.fullmatch(pattern, actual)
        if not found:
            problems.append(f"{where}: documented {documented!r}, got {actual!r}")
            return
        for doc_id, real_id in zip(ids, found.groups()):
            if self.uuids.setdefault(doc_id, real_id) != real_id:
                problems.append(f"{where}: {doc_id} stands for {self.uuids[doc_id]}, got {real_id}")

    def compare(self, documented: Any, actual: Any, where: str, problems: list[str]) -> None:
        if isinstance(documented, dict):
            if not isinstance(actual, dict):
                problems.append(f"{where}: documented an object, got {actual!r}")
                return
            if set(documented) != set(actual):
                problems.append(f"{where}: documented keys {sorted(documented)}, got {sorted(actual)}")
            for key in documented.keys() & actual.keys():
                if key == "lastUpdate":  # a time stamp: any instant will do
                    if not (isinstance(actual[key], str) and _INSTANT.match(actual[key])):
                        problems.append(f"{where}.lastUpdate: not an instant: {actual[key]!r}")
                    continue
                self.compare(documented[key], actual[key], f"{where}.{key}", problems)
        elif isinstance(documented, list):
            if not isinstance(actual, list) or len(actual) != len(documented):
                problems.append(f"{where}: documented {len(documented)} items, got {actual!r}")
                return
            for i, (d, a) in enumerate(zip(documented, actual)):
                self.compare(d, a, f"{where}[{i}]", problems)
        elif isinstance(documented, str):
            self.string(documented, actual, where, problems)
        elif documented != actual or type(documented) is not type(actual):
            problems.append(f"{where}: documented {documented!r}, got {actual!r}")


@dataclass
class Server:
    """The app on its database, with the administrator's key it was started with."""

    client: Any
    engine: Any
    key: str


@pytest.fixture
def api_server(sqlite_engine):  # type: ignore[no-untyped-def]
    """The app with authentication on, on a fresh SQLite database: the page loads what it uses."""
    from fastapi.testclient import TestClient

    from bssrules.api import create_app
    from bssrules.services.partners import make_key

    key = make_key()
    app = create_app(engine=sqlite_engine, auth=True, admin_key=key)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Server(client, sqlite_engine, key)


def _load(server: Server, step: Load) -> None:
    """As ``bssrules load <folder> --source <name>`` does."""
    from bssrules.rules.project import load_project
    from bssrules.services import catalog as services
    from bssrules.store import UnitOfWork

    with UnitOfWork(server.engine) as uow:
        services.load_project(uow, load_project(ROOT / step.folder), step.source)


def replay(server: Server, steps: list[Exchange | Load]) -> list[str]:
    """Take every step in order; return every difference found."""
    matcher, problems = Matcher(), []
    for step in steps:
        if isinstance(step, Load):
            _load(server, step)
            continue
        exchange = step
        where = f"api.md {exchange.request.where} ({exchange.method} {exchange.target})"
        found: list[str] = []
        headers = {k: matcher.substitute(v).replace(OPERATOR_KEY, server.key) for k, v in exchange.headers.items()}
        response = server.client.request(exchange.method, matcher.substitute(exchange.target), headers=headers,
                                         content=matcher.substitute(exchange.body).encode("utf-8") or None)
        if response.status_code != exchange.status:
            found.append(f"status: documented {exchange.status}, got {response.status_code}: {response.text}")
        if exchange.expected_body:
            try:
                actual = _loads(response.text)
            except ValueError:
                found.append(f"body is not JSON: {response.text!r}")
            else:
                matcher.compare(_loads(exchange.expected_body), actual, "$", found)
        elif response.content:
            found.append(f"documented no body, got {response.text!r}")
        for name, value in exchange.expected_headers.items():
            matcher.string(value, response.headers.get(name), f"header {name}", found)
        problems += [f"{where}: {p}" for p in found]
    return problems


CONFIGURATION = "/tmf-api/productConfigurationManagement/v5"


def test_api_has_examples() -> None:
    assert len(API_EXCHANGES) >= 30
    methods = {e.method for e in API_EXCHANGES}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods
    statuses = {e.status for e in API_EXCHANGES}
    assert {200, 201, 204, 400, 401, 404, 405, 409, 415, 422} <= statuses
    targets = {(e.method, e.target.split("?")[0]) for e in API_EXCHANGES}
    # a cart, checked, changed and checked again; an inline basket queried; the key's two headers
    assert {("POST", "/tmf-api/shoppingCart/v4/shoppingCart"),
            ("PATCH", "/tmf-api/shoppingCart/v4/shoppingCart/cart-ana"),
            ("POST", f"{CONFIGURATION}/checkProductConfiguration"),
            ("POST", f"{CONFIGURATION}/queryProductConfiguration")} <= targets
    assert {"Authorization", "X-API-Key"} <= {name for e in API_EXCHANGES for name in e.headers}
    assert any(isinstance(step, Load) and (ROOT / step.folder / "rules").is_dir() for step in API_STEPS), \
        "the configuration examples need a project with rules loaded"


def test_api_shows_no_command_it_does_not_run() -> None:
    assert not API_UNKNOWN_COMMANDS, f"commands the replay neither runs nor knows: {API_UNKNOWN_COMMANDS}"


def test_every_api_example_carries_the_operators_key_unless_it_shows_a_401() -> None:
    keyless = [f"{e.request.where}: {e.method} {e.target}" for e in API_EXCHANGES if e.status != 401
               and OPERATOR_KEY not in e.headers.get("Authorization", "") + e.headers.get("X-API-Key", "")]
    assert not keyless, f"requests without the key: {keyless}"


def test_api_examples_replay(api_server: Server) -> None:
    problems = replay(api_server, API_STEPS)
    assert not problems, "docs/api.md does not match the API:\n" + "\n".join(problems)
