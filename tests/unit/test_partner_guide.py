"""The partner integration guide (docs/partner-guide.md) is true.

The guide walks the connected-car scenario of seed 000 with real requests. It is replayed,
in the order it is written, against the real app with authentication on
(``create_app(engine=…, auth=True, admin_key=…)`` on a fresh SQLite database):

* its ```console block says what the server holds and how it runs:
  ``$ bssrules load <folder> --source <name>`` loads an example project as that command
  does, ``$ export BSSRULES_ADMIN_KEY=$(bssrules admin-key)`` makes the administrator's
  key (written ``<operator key>`` in the examples), ``$ export BSSRULES_DELIVERY=off``
  pauses the delivery of events, ``$ bssrules serve`` starts the app;
* each ```http request is sent, and the ```json block after it must match the response:
  the status (``// HTTP/1.1 201 Created``), the headers listed as ``// Name: value`` and the
  JSON body. Numbers are compared by their text (``5.00`` is not ``5.0``). ``"…"`` stands
  for a value that changes from run to run (an instant of now, an amount pro-rated from
  now). ``// Trimmed: only the fields shown``: objects may hold more fields than shown, but
  every field shown must be exactly what the server returns; lists are always shown whole.
  ``// Any order``: the items of the (top-level) list may come in another order;
* a UUID in a documented response stands for the id the server generated, and later
  requests use that id in its place; ``<name key>`` in a response stands for the API key
  the server issued (``bss_<key id>_<secret>``) and ``<name key id>`` for its key id, and
  later requests use them in their place;
* the guide is dated January 2027 (products started on 1 November 2026, the car driven in
  December, both months billed, tickets opened and settled in January, now): every
  ``2026-11``, ``2026-12``, ``2027-01`` and ``2027-02`` of a request or a response is read as
  the month two months ago (UTC), last month, the current month and the next, so that the
  replay tells the same story whenever it runs, with no usage dated ahead of now (not across
  the last second of a month);
* a ```json event block is the body of an event as its deliveries POST it: it is compared
  with the event of that ``eventId`` kept in the outbox;
* each line of a ```text arithmetic block (``10.99 × 60 ÷ 100 = 6.594 → 6.59``) is
  computed exactly; a ```yaml <path> block is a verbatim excerpt of that file.
"""
from __future__ import annotations

import ast
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "partner-guide.md"
ELIDED = "…"
TRIMMED = "Trimmed: only the fields shown"
ANY_ORDER = "Any order"
DOC_MONTHS = ("2026-11", "2026-12", "2027-01", "2027-02")
ADMIN_PLACEHOLDER = "<operator key>"

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_KEY = re.compile(r"^bss_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")
_KEY_ID = re.compile(r"^[A-Za-z0-9]{12}$")
_PLACEHOLDER = re.compile(r"<([a-z][a-z -]*?) key( id)?>")
_MONTH = re.compile(r"(?<![0-9])(" + "|".join(map(re.escape, DOC_MONTHS)) + r")(?![0-9])")
_LOAD = re.compile(r"^\$ bssrules load (\S+) --source (\S+)$")
_ADMIN_KEY = "$ export BSSRULES_ADMIN_KEY=$(bssrules admin-key)"
_NO_DELIVERY = "$ export BSSRULES_DELIVERY=off"
_SERVE = "$ bssrules serve"


@dataclass(frozen=True)
class Block:
    info: str  # the fence's info string, e.g. "yaml examples/connected_car/rules/tickets.yaml"
    text: str
    line: int  # line of the opening fence in the guide

    @property
    def where(self) -> str:
        return f"{GUIDE.name} line {self.line}"


def fenced_blocks() -> list[Block]:
    text = GUIDE.read_text(encoding="utf-8")
    return [Block(m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 1) for m in _FENCE.finditer(text)]


# ------------------------------------------------------------------------- the months


def _add_months(month: str, n: int) -> str:
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_shift(now: dt.datetime | None = None) -> dict[str, str]:
    """The guide's months -> the month two months ago (UTC), last month, the current month and the next."""
    current = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m")
    return {documented: _add_months(current, i - 2) for i, documented in enumerate(DOC_MONTHS)}


def shifted(text: str, months: dict[str, str]) -> str:
    return _MONTH.sub(lambda m: months[m.group(1)], text)


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
    any_order: bool = False
    expected_body: str = ""


def _comments(block: Block) -> tuple[list[str], str]:
    comments, rest = [], block.text.splitlines()
    while rest and rest[0].startswith("//"):
        comments.append(rest.pop(0)[2:].strip())
    return comments, "\n".join(rest).strip()


def parse_exchange(request: Block, response: Block) -> Exchange:
    exchange = Exchange(request, response)
    head, _, body = request.text.partition("\n\n")
    request_line, *header_lines = head.strip("\n").splitlines()
    # METHOD /path [HTTP/1.1]; a path may hold a placeholder with spaces (<call-center key id>)
    line = request_line.strip().removesuffix(" HTTP/1.1")
    exchange.method, _, exchange.target = line.partition(" ")
    assert exchange.method.isupper() and exchange.target.startswith("/"), (
        f"request line at {request.where}: METHOD /path [HTTP/1.1]")
    for line in header_lines:
        name, _, value = line.partition(":")
        exchange.headers[name.strip()] = value.strip()
    exchange.body = body.strip()
    comments, exchange.expected_body = _comments(response)
    status = re.fullmatch(r"HTTP/1\.1 (\d{3})( .*)?", comments[0] if comments else "")
    assert status, f"the response at {response.where} starts with // HTTP/1.1 <status>"
    exchange.status = int(status.group(1))
    for line in comments[1:]:
        if line == TRIMMED:
            exchange.trimmed = True
        elif line == ANY_ORDER:
            exchange.any_order = True
        else:
            name, _, value = line.partition(":")
            assert value, f"the response at {response.where}: {line!r} is neither a header, '{TRIMMED}' nor " \
                          f"'{ANY_ORDER}'"
            exchange.expected_headers[name.strip()] = value.strip()
    return exchange


@dataclass
class EventBlock:
    block: Block
    trimmed: bool
    expected_body: str


def steps() -> list[Exchange | EventBlock]:
    """The exchanges and event blocks of the guide, in its order."""
    blocks = fenced_blocks()
    found: list[Exchange | EventBlock] = []
    for i, block in enumerate(blocks):
        if block.info == "http":
            assert i + 1 < len(blocks) and blocks[i + 1].info == "json", (
                f"the ```http block at {block.where} must be followed by a ```json block")
            found.append(parse_exchange(block, blocks[i + 1]))
        elif block.info == "json event":
            comments, body = _comments(block)
            assert all(c == TRIMMED for c in comments), f"{block.where}: an event block may only say '{TRIMMED}'"
            found.append(EventBlock(block, bool(comments), body))
    return found


def exchanges() -> list[Exchange]:
    return [s for s in steps() if isinstance(s, Exchange)]


def console_lines() -> list[str]:
    return [line.strip() for b in fenced_blocks() if b.info == "console" for line in b.text.splitlines()
            if line.strip()]


class Number(tuple):
    """A JSON number kept as its text, so that 5.00 and 5.0 differ."""


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=lambda s: Number(("number", s)), parse_int=lambda s: Number(("number", s)))


# --------------------------------------------------------------------------- matching


class Matcher:
    """Compares documented and actual JSON, binding the documented UUIDs and key
    placeholders to the generated values, and puts them back in later requests."""

    def __init__(self, months: dict[str, str]) -> None:
        self.months = months
        self.uuids: dict[str, str] = {}
        self.keys: dict[str, str] = {}  # "<car-maker key>" -> "bss_…", "<car-maker key id>" -> "…"

    def substitute(self, text: str) -> str:
        """A documented request, as it is sent: months shifted, ids and keys put in."""
        def placeholder(match: re.Match[str]) -> str:
            assert match.group(0) in self.keys, f"{match.group(0)} is used before a response issued it"
            return self.keys[match.group(0)]

        text = _PLACEHOLDER.sub(placeholder, shifted(text, self.months))
        return _UUID.sub(lambda m: self.uuids.get(m.group(0), m.group(0)), text)

    def _state(self) -> tuple[dict[str, str], dict[str, str]]:
        return dict(self.uuids), dict(self.keys)

    def string(self, documented: str, actual: Any, where: str, problems: list[str]) -> None:
        if documented == ELIDED:
            return
        placeholder = _PLACEHOLDER.fullmatch(documented)
        if placeholder:
            is_id = bool(placeholder.group(2))
            if not isinstance(actual, str) or not (_KEY_ID if is_id else _KEY).match(actual):
                problems.append(f"{where}: documented {documented}, got {actual!r}")
            elif documented in self.keys:
                if self.keys[documented] != actual:
                    problems.append(f"{where}: {documented} is {self.keys[documented]!r}, got {actual!r}")
            elif is_id:
                self.keys[documented] = actual
            else:
                id_name = f"<{placeholder.group(1)} key id>"
                key_id = _KEY.match(actual).group(1)  # type: ignore[union-attr]
                if self.keys.setdefault(id_name, key_id) != key_id:
                    problems.append(f"{where}: {documented} has key id {key_id}, but {id_name} is {self.keys[id_name]}")
                self.keys[documented] = actual
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

    def compare(self, documented: Any, actual: Any, where: str, problems: list[str], trimmed: bool,
                any_order: bool = False) -> None:
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
            if any_order:
                self._unordered(documented, actual, where, problems, trimmed)
                return
            for i, (d, a) in enumerate(zip(documented, actual)):
                self.compare(d, a, f"{where}[{i}]", problems, trimmed)
        elif documented == ELIDED:
            return
        elif isinstance(documented, str):
            self.string(documented, actual, where, problems)
        elif documented != actual or type(documented) is not type(actual):
            shown = documented[1] if isinstance(documented, Number) else documented
            got = actual[1] if isinstance(actual, Number) else actual
            problems.append(f"{where}: documented {shown!r}, got {got!r}")

    def _unordered(self, documented: list[Any], actual: list[Any], where: str, problems: list[str],
                   trimmed: bool) -> None:
        """Each documented item matches a different actual item (bindings made on the way)."""
        unused = list(range(len(actual)))
        for i, item in enumerate(documented):
            for j in unused:
                saved = self._state()
                tried: list[str] = []
                self.compare(item, actual[j], f"{where}[{i}]", tried, trimmed)
                if not tried:
                    unused.remove(j)
                    break
                self.uuids, self.keys = saved
            else:
                problems.append(f"{where}[{i}]: no item of the response matches it: {actual!r}")


# ----------------------------------------------------------------------------- replay


@dataclass
class Replay:
    client: Any
    engine: Any
    matcher: Matcher
    statuses: list[tuple[str, int]] = field(default_factory=list)

    def exchange(self, exchange: Exchange) -> list[str]:
        where = f"{exchange.request.where} ({exchange.method} {exchange.target})"
        found: list[str] = []
        substitute = self.matcher.substitute
        headers = {k: substitute(v) for k, v in exchange.headers.items()}
        response = self.client.request(exchange.method, substitute(exchange.target), headers=headers,
                                       content=substitute(exchange.body).encode("utf-8") or None)
        self.statuses.append((f"{exchange.method} {exchange.target}", response.status_code))
        if response.status_code != exchange.status:
            found.append(f"status: documented {exchange.status}, got {response.status_code}: {response.text}")
        if exchange.expected_body:
            try:
                actual = _loads(response.text)
            except ValueError:
                found.append(f"body is not JSON: {response.text!r}")
            else:
                documented = _loads(shifted(exchange.expected_body, self.matcher.months))
                self.matcher.compare(documented, actual, "$", found, exchange.trimmed, exchange.any_order)
        elif response.content:
            found.append(f"documented no body, got {response.text!r}")
        for name, value in exchange.expected_headers.items():
            self.matcher.string(shifted(value, self.matcher.months), response.headers.get(name), f"header {name}",
                                found)
        return [f"{where}: {p}" for p in found]

    def event(self, step: EventBlock) -> list[str]:
        from sqlalchemy import select

        from bssrules.store.tables import event

        where = step.block.where
        documented = _loads(shifted(step.expected_body, self.matcher.months))
        event_id = documented.get("eventId") if isinstance(documented, dict) else None
        if not isinstance(event_id, str) or event_id not in self.matcher.uuids:
            return [f"{where}: the eventId of an event block is one a delivery listed before"]
        with self.engine.connect() as connection:
            stored = connection.execute(select(event.c.document).where(event.c.id == self.matcher.uuids[event_id])
                                        ).scalar_one_or_none()
        if stored is None:
            return [f"{where}: no event {self.matcher.uuids[event_id]} in the outbox"]
        found: list[str] = []
        self.matcher.compare(documented, _loads(stored), "$", found, step.trimmed)
        return [f"{where}: {p}" for p in found]


@pytest.fixture
def guide_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Replay]:
    """The app the guide's console block describes, on a fresh SQLite database, auth on."""
    from fastapi.testclient import TestClient

    from bssrules.services import partners
    from bssrules.services import catalog as services
    from bssrules.api import create_app
    from bssrules.rules.project import load_project
    from bssrules.store import UnitOfWork, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'guide.db'}")
    matcher = Matcher(month_shift())
    admin_key = None
    for line in console_lines():
        load = _LOAD.match(line)
        if load:
            with UnitOfWork(engine) as uow:
                services.load_project(uow, load_project(ROOT / load.group(1)), load.group(2))
        elif line == _ADMIN_KEY:
            admin_key = partners.make_key()
            matcher.keys[ADMIN_PLACEHOLDER] = admin_key
        elif line == _NO_DELIVERY:
            monkeypatch.setenv("BSSRULES_DELIVERY", "off")
    assert admin_key, f"the guide makes the administrator's key: `{_ADMIN_KEY}`"
    try:
        with TestClient(create_app(engine=engine, auth=True, admin_key=admin_key),
                        raise_server_exceptions=False) as client:
            yield Replay(client, engine, matcher)
    finally:
        engine.dispose()


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

BLOCKS = fenced_blocks()
ARITHMETIC = [(b, line) for b in BLOCKS if b.info == "text arithmetic" for line in b.text.splitlines() if line.strip()]
EXCERPTS = [b for b in BLOCKS if b.info.startswith("yaml ")]
ACTORS = {"<operator key>": "operator", "<csp key>": "csp", "<car-maker key>": "car-maker",
          "<content-provider key>": "content-provider", "<call-center key>": "call-center",
          "<ana key>": "the driver, a third-party payer"}


def test_every_block_is_checked() -> None:
    """No example escapes the tests: each block is a request with its response, an event,
    the server's console, worked arithmetic or an excerpt of a file."""
    for i, block in enumerate(BLOCKS):
        if block.info == "json":
            assert i > 0 and BLOCKS[i - 1].info == "http", (
                f"the ```json block at {block.where} answers no ```http block")
        elif block.info == "console":
            for line in block.text.splitlines():
                assert _LOAD.match(line.strip()) or line.strip() in (_ADMIN_KEY, _NO_DELIVERY, _SERVE), (
                    f"{block.where}: {line!r} is not a console line the tests know")
        else:
            assert block.info in ("http", "json event", "text arithmetic") or block.info.startswith("yaml "), (
                f"the block at {block.where} (```{block.info}) is not one the tests check")


def test_the_guide_walks_the_whole_scenario() -> None:
    found = exchanges()
    assert len(found) >= 80
    assert {e.method for e in found} >= {"GET", "POST", "PATCH", "DELETE"}
    assert {e.status for e in found} >= {200, 201, 204, 401, 403, 404, 409, 422}
    actors = {ACTORS.get(e.headers.get("Authorization", "").removeprefix("Bearer ").strip()) for e in found}
    assert set(ACTORS.values()) <= actors, "every party calls with its own key"
    assert any(("X-API-Key" in e.headers) for e in found) and any("Authorization" not in e.headers for e in found)
    targets = " ".join(e.target for e in found)
    for path in ("/partnerManagement/v4/partner", "/productCatalogManagement/v4/productOffering", "/party/v4/",
                 "/customerManagement/v4/customer", "/accountManagement/v4/billingAccount",
                 "/productOrderingManagement/v4/productOrder", "/productInventory/v4/product",
                 "/usageManagement/v4/usage", "/usageManagement/v4/aggregatedUsage", "/billRun",
                 "/appliedCustomerBillingRate", "/troubleTicket/v4/troubleTicket", "/slaManagement/v4/sla",
                 "/slaMeasurement", "/slaViolation", "/slaReport", "/settlementRun", "/hub",
                 "/partnerManagement/v4/delivery"):
        assert path in targets, f"the guide shows no call of {path}"
    assert [s for s in steps() if isinstance(s, EventBlock)], "the guide shows an event as it is delivered"
    assert len(ARITHMETIC) >= 5 and EXCERPTS


def test_the_driver_reads_her_own_bill_with_her_own_key() -> None:
    """The documented way for an individual third-party payer: the CSP registers her as a
    partner acting for her party; with her key she lists her bills and their items, and
    another's bill is a 404 (the replay checks every answer)."""
    found = exchanges()
    registered = [e for e in found if e.method == "POST" and e.target.endswith("/partnerManagement/v4/partner")
                  and '"party"' in e.body and e.status == 201]
    assert registered, "the guide registers no partner acting for a party"
    hers = [(e.method, e.target.split("?")[0], e.status) for e in found
            if e.headers.get("Authorization", "").removeprefix("Bearer ").strip() == "<ana key>"]
    assert ("GET", "/tmf-api/customerBillManagement/v4/customerBill", 200) in hers
    assert ("GET", "/tmf-api/customerBillManagement/v4/appliedCustomerBillingRate", 200) in hers
    assert any(status == 404 and "/customerBill/" in target for _, target, status in hers)


@pytest.mark.parametrize("pair", ARITHMETIC, ids=[f"line {b.line}:{i}" for i, (b, _) in enumerate(ARITHMETIC)])
def test_worked_arithmetic_is_exact(pair: tuple[Block, str]) -> None:
    block, line = pair
    problem = check_arithmetic(line)
    assert problem is None, f"{block.where}: {problem}"


@pytest.mark.parametrize("block", EXCERPTS, ids=[f"line {b.line}" for b in EXCERPTS])
def test_yaml_excerpts_are_verbatim(block: Block) -> None:
    path = ROOT / block.info.split(None, 1)[1]
    assert path.is_file(), f"{block.where}: no file {path}"
    assert block.text in path.read_text(encoding="utf-8"), f"{block.where} is not an excerpt of {path.name}"


def test_the_matcher_binds_and_catches_mistakes() -> None:
    months = month_shift(dt.datetime(2028, 2, 5, tzinfo=dt.timezone.utc))
    assert months == {"2026-11": "2027-12", "2026-12": "2028-01", "2027-01": "2028-02", "2027-02": "2028-03"}
    matcher = Matcher(months)
    key = "bss_0123456789ab_" + "A" * 43
    problems: list[str] = []
    documented = '{"apiKey": "<x key>", "key": [{"id": "<x key id>"}], "period": "2026-12", "n": 5.00}'
    actual = '{"apiKey": "%s", "key": [{"id": "0123456789ab"}], "period": "2028-01", "n": 5.00}' % key
    matcher.compare(_loads(shifted(documented, months)), _loads(actual), "$", problems, trimmed=False)
    assert problems == []
    assert matcher.substitute("Bearer <x key> /key/<x key id> 2026-11-01") == \
        f"Bearer {key} /key/0123456789ab 2027-12-01"
    for documented, actual in (('{"n": 5.00}', '{"n": 5.0}'), ('{"id": "<x key id>"}', '{"id": "ffffffffffff"}'),
                               ('{"a": 1}', '{"a": 1, "b": 2}'), ('{"k": "<y key>"}', '{"k": "not a key"}')):
        found: list[str] = []
        matcher.compare(_loads(documented), _loads(actual), "$", found, trimmed=False)
        assert found, (documented, actual)
    uuid_a, uuid_b = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
    found = []
    matcher.compare([{"id": uuid_a, "k": "x"}, {"id": uuid_b, "k": "y"}],
                    [{"id": "11111111-1111-4111-8111-111111111111", "k": "y"},
                     {"id": "22222222-2222-4222-8222-222222222222", "k": "x"}], "$", found, False, any_order=True)
    assert found == [] and matcher.uuids[uuid_a].startswith("2222") and matcher.uuids[uuid_b].startswith("1111")
    found = []
    matcher.compare([{"k": "x"}, {"k": "x"}], [{"k": "x"}, {"k": "y"}], "$", found, False, any_order=True)
    assert found


def test_the_guide_replays_against_the_app(guide_server: Replay) -> None:
    problems: list[str] = []
    for step in steps():
        problems += guide_server.exchange(step) if isinstance(step, Exchange) else guide_server.event(step)
    assert not problems, "docs/partner-guide.md does not match the API:\n" + "\n".join(problems)
