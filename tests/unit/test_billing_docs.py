"""The examples of docs/billing.md and docs/usage-api.md are true.

Each document is replayed against the real app (``create_app`` on a fresh SQLite database)
in the order it is written:

* a ```console block's ``$ bssrules load <folder> --source <name>`` lines say which example
  projects (catalog and rules) are loaded first, as that command loads them;
* each ```http request is sent, and the ```json block after it must match the response:
  the status (``// HTTP/1.1 201 Created``), the headers listed as ``// Name: value`` and the
  JSON body. Numbers are compared by their text (``5.00`` is not ``5.0``). A value written
  ``"…"`` stands for one that changes from run to run (an instant of now, an id that depends
  on generated ids). A response whose comments say ``// Trimmed: only the fields shown``
  may have more fields in its objects than shown; every field shown must still be exactly
  what the server returns, and lists are always shown whole. A UUID in a documented
  response stands for the id the server generated, and later requests use that id in its
  place;
* each line of a ```text arithmetic block (``9.99 × 15 ÷ 30 = 4.995 → 5.00``) is computed
  exactly: the expression must come to the value after ``=`` (a value ending in ``…`` is the
  first digits of a longer one) and, rounded half-up to the decimals shown after ``→``, to
  that amount;
* a ```yaml <path> block is a verbatim excerpt of that file of the repository.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = {"billing": ROOT / "docs" / "billing.md", "usage-api": ROOT / "docs" / "usage-api.md"}
ELIDED = "…"
TRIMMED = "Trimmed: only the fields shown"

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LOAD = re.compile(r"^\$ bssrules load (\S+) --source (\S+)$")


@dataclass(frozen=True)
class Block:
    doc: str
    info: str  # the fence's info string, e.g. "yaml examples/devices/rules/discounts.yaml"
    text: str
    line: int  # line of the opening fence in the document

    @property
    def where(self) -> str:
        return f"{self.doc} line {self.line}"


def fenced_blocks(name: str) -> list[Block]:
    text = DOCS[name].read_text(encoding="utf-8")
    return [Block(DOCS[name].name, m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 1)
            for m in _FENCE.finditer(text)]


# ------------------------------------------------------------------------- exchanges


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
    trimmed: bool = False
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
        if line == TRIMMED:
            exchange.trimmed = True
            continue
        name, _, value = line.partition(":")
        assert value, f"the response at {response.where}: {line!r} is neither a header nor '{TRIMMED}'"
        exchange.expected_headers[name.strip()] = value.strip()
    exchange.expected_body = "\n".join(rest).strip()
    return exchange


def exchanges(name: str) -> list[Exchange]:
    blocks = fenced_blocks(name)
    found = []
    for i, block in enumerate(blocks):
        if block.info == "http":
            assert i + 1 < len(blocks) and blocks[i + 1].info == "json", (
                f"the ```http block at {block.where} must be followed by a ```json block")
            found.append(parse_exchange(block, blocks[i + 1]))
    return found


def loads_of(name: str) -> list[tuple[str, str]]:
    """(folder, source) of every ``bssrules load`` line of the document's console blocks."""
    return [(m.group(1), m.group(2)) for block in fenced_blocks(name) if block.info == "console"
            for line in block.text.splitlines() if (m := _LOAD.match(line.strip()))]


class Number(tuple):
    """A JSON number kept as its text, so that 5.00 and 5.0 differ."""


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=lambda s: Number(("number", s)), parse_int=lambda s: Number(("number", s)))


class Matcher:
    """Compares documented and actual JSON, binding documented UUIDs to generated ones."""

    def __init__(self) -> None:
        self.uuids: dict[str, str] = {}

    def substitute(self, text: str) -> str:
        return _UUID.sub(lambda m: self.uuids.get(m.group(0), m.group(0)), text)

    def string(self, documented: str, actual: Any, where: str, problems: list[str]) -> None:
        if documented == ELIDED:
            return
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

    def compare(self, documented: Any, actual: Any, where: str, problems: list[str], trimmed: bool) -> None:
        if isinstance(documented, dict):
            if not isinstance(actual, dict):
                problems.append(f"{where}: documented an object, got {actual!r}")
                return
            missing = sorted(set(documented) - set(actual))
            extra = sorted(set(actual) - set(documented))
            if missing or (extra and not trimmed):
                problems.append(f"{where}: documented keys {sorted(documented)}, got {sorted(actual)}")
            for key in documented.keys() & actual.keys():
                self.compare(documented[key], actual[key], f"{where}.{key}", problems, trimmed)
        elif isinstance(documented, list):
            if not isinstance(actual, list) or len(actual) != len(documented):
                problems.append(f"{where}: documented {len(documented)} items, got {actual!r}")
                return
            for i, (d, a) in enumerate(zip(documented, actual)):
                self.compare(d, a, f"{where}[{i}]", problems, trimmed)
        elif isinstance(documented, str):
            self.string(documented, actual, where, problems)
        elif documented != actual or type(documented) is not type(actual):
            shown = documented[1] if isinstance(documented, Number) else documented
            got = actual[1] if isinstance(actual, Number) else actual
            problems.append(f"{where}: documented {shown!r}, got {got!r}")


def replay(client: Any, exchanges: list[Exchange]) -> list[str]:
    """Send every documented request in order; return every difference found."""
    matcher, problems = Matcher(), []
    for exchange in exchanges:
        where = f"{exchange.request.where} ({exchange.method} {exchange.target})"
        found: list[str] = []
        headers = {k: matcher.substitute(v) for k, v in exchange.headers.items()}
        response = client.request(exchange.method, matcher.substitute(exchange.target), headers=headers,
                                  content=matcher.substitute(exchange.body).encode("utf-8") or None)
        if response.status_code != exchange.status:
            found.append(f"status: documented {exchange.status}, got {response.status_code}: {response.text}")
        if exchange.expected_body:
            try:
                actual = _loads(response.text)
            except ValueError:
                found.append(f"body is not JSON: {response.text!r}")
            else:
                matcher.compare(_loads(exchange.expected_body), actual, "$", found, exchange.trimmed)
        elif response.content:
            found.append(f"documented no body, got {response.text!r}")
        for name, value in exchange.expected_headers.items():
            matcher.string(value, response.headers.get(name), f"header {name}", found)
        problems += [f"{where}: {p}" for p in found]
    return problems


@pytest.fixture
def app_for(sqlite_engine):  # type: ignore[no-untyped-def]
    """A factory: the app on a fresh SQLite database holding the projects a document loads."""
    from contextlib import ExitStack

    from fastapi.testclient import TestClient

    from bssrules.services import catalog as services
    from bssrules.api import create_app
    from bssrules.rules.project import load_project
    from bssrules.store import UnitOfWork

    with ExitStack() as stack:
        def make(name: str) -> Any:
            loads = loads_of(name)
            assert loads, f"{DOCS[name].name} says which examples to load (a `$ bssrules load` line)"
            for folder, source in loads:
                with UnitOfWork(sqlite_engine) as uow:
                    services.load_project(uow, load_project(ROOT / folder), source)
            return stack.enter_context(TestClient(create_app(engine=sqlite_engine), raise_server_exceptions=False))

        yield make


# ------------------------------------------------------------------------ arithmetic

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OPERATORS = {"×": "*", "÷": "/", "−": "-"}


def _evaluate(expression: str) -> Decimal:
    """The exact value of an expression of decimals, + − × ÷ and parentheses."""
    text = "".join(_OPERATORS.get(ch, ch) for ch in expression)
    text = _NUMBER.sub(lambda m: f"D('{m.group(0)}')", text)

    def walk(node: ast.AST) -> Decimal:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "D":
            return Decimal(node.args[0].value)  # type: ignore[attr-defined]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            ops = {ast.Add: left.__add__, ast.Sub: left.__sub__, ast.Mult: left.__mul__, ast.Div: left.__truediv__}
            for kind, apply in ops.items():
                if isinstance(node.op, kind):
                    return apply(right)
        raise ValueError(f"not an arithmetic expression: {expression!r}")

    return walk(ast.parse(text, mode="eval"))


def check_arithmetic(line: str) -> str | None:
    """None when the line is right, else what is wrong. ``label: expr = exact [→ rounded]``."""
    body = line.split(": ", 1)[1] if re.match(r"^[^=→]*[A-Za-z][^=→]*: ", line) else line
    statement, _, rounded = body.partition("→")
    expression, _, exact = statement.rpartition("=")
    if not expression.strip() or not exact.strip():
        return f"{line!r}: write `expression = value` (→ rounded)"
    value = _evaluate(expression)
    exact = exact.strip().replace("−", "-")
    if exact.endswith("…"):
        digits = exact[:-1]
        places = Decimal(1).scaleb(-len(digits.partition(".")[2]))
        if value.quantize(places, rounding=ROUND_DOWN) != Decimal(digits):
            return f"{line!r}: {expression.strip()} is {value}, not {exact}"
    elif value != Decimal(exact):
        return f"{line!r}: {expression.strip()} is {value}, not {exact}"
    if rounded.strip():
        target = rounded.strip().split()[0].replace("−", "-")
        places = Decimal(1).scaleb(-len(target.partition(".")[2]))
        if value.quantize(places, rounding=ROUND_HALF_UP) != Decimal(target):
            return f"{line!r}: {value} rounds half-up to {value.quantize(places, rounding=ROUND_HALF_UP)}, not {target}"
    return None


# ----------------------------------------------------------------------------- tests

ALL_BLOCKS = [b for name in DOCS for b in fenced_blocks(name)]
ARITHMETIC = [(b, line) for b in ALL_BLOCKS if b.info == "text arithmetic" for line in b.text.splitlines() if line.strip()]
EXCERPTS = [b for b in ALL_BLOCKS if b.info.startswith("yaml ")]


def test_the_documents_have_examples() -> None:
    billing, usage = exchanges("billing"), exchanges("usage-api")
    assert len(billing) >= 25 and len(usage) >= 25
    assert {e.method for e in billing} >= {"GET", "POST", "PATCH"}
    assert {e.method for e in usage} >= {"GET", "POST", "DELETE"}
    assert {e.status for e in billing} >= {200, 201, 400, 404}
    assert {e.status for e in usage} >= {200, 201, 204, 400, 404, 409}
    assert any(e.target.endswith("/billRun") for e in billing) and any(e.target.endswith("/billRun") for e in usage)
    assert len(ARITHMETIC) >= 10 and EXCERPTS


@pytest.mark.parametrize("name", sorted(DOCS))
def test_every_block_is_checked(name: str) -> None:
    """No example escapes the tests: each block is a request with its response, a load
    command, worked arithmetic or an excerpt of a file."""
    blocks = fenced_blocks(name)
    for i, block in enumerate(blocks):
        if block.info == "json":
            assert i > 0 and blocks[i - 1].info == "http", f"the ```json block at {block.where} answers no ```http block"
        elif block.info == "console":
            for line in block.text.splitlines():
                assert _LOAD.match(line.strip()) or line.strip() == "$ bssrules serve", (
                    f"{block.where}: {line!r} is neither `$ bssrules load <folder> --source <name>` nor "
                    "`$ bssrules serve`")
        else:
            assert block.info in ("http", "text arithmetic") or block.info.startswith("yaml "), (
                f"the block at {block.where} (```{block.info}) is not one the tests check")


@pytest.mark.parametrize("pair", ARITHMETIC, ids=[f"{b.where}:{i}" for i, (b, _) in enumerate(ARITHMETIC)])
def test_worked_arithmetic_is_exact(pair: tuple[Block, str]) -> None:
    block, line = pair
    problem = check_arithmetic(line)
    assert problem is None, f"{block.where}: {problem}"


@pytest.mark.parametrize("block", EXCERPTS, ids=[b.where for b in EXCERPTS])
def test_yaml_excerpts_are_verbatim(block: Block) -> None:
    path = ROOT / block.info.split(None, 1)[1]
    assert path.is_file(), f"{block.where}: no file {path}"
    assert block.text in path.read_text(encoding="utf-8"), f"{block.where} is not an excerpt of {path.name}"


def test_the_arithmetic_checker_catches_mistakes() -> None:
    assert check_arithmetic("9.99 × 15 ÷ 30 = 4.995 → 5.00") is None
    assert check_arithmetic("fee: 9.99 × 9.5 ÷ 31 = 3.0614… → 3.06") is None
    assert check_arithmetic("9.99 × 15 ÷ 30 = 4.995 → 4.99") is not None
    assert check_arithmetic("0.25 × 0.5 = 0.125 → 0.12") is not None  # half-up, not half-even
    assert check_arithmetic("9.99 × 15 ÷ 30 = 4.99 → 4.99") is not None
    assert check_arithmetic("June: 2.50 − 2.50 + 10.00 = 10.00") is None
    assert check_arithmetic("1.99 × 0.5 = 0.995 → 0.99") is not None


@pytest.mark.parametrize("name", sorted(DOCS))
def test_documented_exchanges_replay(name: str, app_for: Any) -> None:
    client = app_for(name)
    problems = replay(client, exchanges(name))
    assert not problems, f"docs/{DOCS[name].name} does not match the API:\n" + "\n".join(problems)
