"""The examples of docs/rules-format.md are true.

The page's fenced blocks, by their info string:

* ```yaml rules — a complete rules file. Its first line is ``# with: examples/NAME/catalog``.
  It is saved as ``myproject/rules/rules.yaml`` next to a copy of that catalog in
  ``myproject/catalog/``; :func:`bssrules.rules.project.load_project` must accept the folder, the
  rule tests of the block must pass and there must be no warning — unless the very next
  block is a ```console block that runs ``bssrules check myproject`` (for warnings) or
  ``bssrules test myproject`` (for failing tests), which then shows them exactly.
* ```yaml rules-invalid — the same, but the folder must be refused with exactly the lines of
  the ```text block that follows: every diagnostic as ``bssrules check`` prints it, then the
  count of errors.
* ```yaml condition — one condition, which must parse without any problem.
* ```yaml facts — a facts file for ``bssrules explain``; its first line is ``# file: NAME.yaml``
  and its attributes must all be known and well typed.
* ```console — commands (``$ bssrules ...``) each followed by its exact output (stdout and
  stderr together, in order). They run in a fresh folder holding a copy of ``examples/``,
  ``myproject/`` made from the last ```yaml rules or rules-invalid block above the console
  block, and every facts file defined above it. ``> FILE`` redirects the output to a file.
  The exit status must be 1 when the output ends with an error count or failed tests, else 0.

Any other info string must be one of :data:`UNTESTED` (plain snippets, JSON, shell lines, trees).

The page also agrees with the code: it counts and lists every kind of rule set of
:data:`bssrules.rules.model.RULE_SET_TYPES`, each with its section, a complete example whose
rule tests pass, and a row of the rule-test table naming exactly what its decisions can be
tested on; its table of facts lists every attribute of
:data:`bssrules.rules.facts.FACT_ATTRIBUTES` and no other.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bssrules.errors import InvalidSource
from bssrules.rules.facts import FACT_ATTRIBUTES
from bssrules.rules.model import RULE_SET_TYPES
from bssrules.rules.project import load_project
from bssrules.rules.conditions import parse_condition
from bssrules.rules.decisions import fact_values
from bssrules.rules.testing import run_tests, summary
from bssrules.yaml_source import parse_text

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rules-format.md"
PROJECT = "myproject"
RULES_FILE = f"{PROJECT}/rules/rules.yaml"
TESTED = {"yaml rules", "yaml rules-invalid", "text", "console", "yaml condition", "yaml facts"}
UNTESTED = {"yaml", "json", "sh", "text tree"}

# Fences may be indented (inside a list item): the block's text is dedented by the fence's indentation.
_FENCE = re.compile(r"^([ \t]*)```([^\n`]*)\n(.*?)^\1```[ \t]*$", re.MULTILINE | re.DOTALL)
_WITH = re.compile(r"^# with: (examples/[a-z_]+/catalog)[ \t]*$")
_FILE = re.compile(r"^# file: ([A-Za-z0-9_.-]+\.ya?ml)[ \t]*$")
_ERROR_COUNT = re.compile(r"^\d+ errors?$")
_FAILED_TESTS = re.compile(r"^\d+ passed, [1-9]\d* failed$")


@dataclass(frozen=True)
class Block:
    info: str
    text: str
    line: int  # line of the opening fence
    index: int  # position among the blocks of the page

    @property
    def where(self) -> str:
        return f"line {self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [Block(m.group(2).strip(), _dedent(m.group(3), m.group(1)), text.count("\n", 0, m.start()) + 1, i)
            for i, m in enumerate(_FENCE.finditer(text))]


def _dedent(text: str, indent: str) -> str:
    return "".join(line[len(indent):] if line.startswith(indent) else line
                   for line in text.splitlines(keepends=True))


BLOCKS = fenced_blocks(DOC)
RULES = [b for b in BLOCKS if b.info == "yaml rules"]
INVALID = [b for b in BLOCKS if b.info == "yaml rules-invalid"]
CONDITIONS = [b for b in BLOCKS if b.info == "yaml condition"]
FACTS = [b for b in BLOCKS if b.info == "yaml facts"]
CONSOLES = [b for b in BLOCKS if b.info == "console"]


def _next(block: Block) -> Block | None:
    return BLOCKS[block.index + 1] if block.index + 1 < len(BLOCKS) else None


def catalog_of(block: Block) -> Path:
    first = block.text.splitlines()[0] if block.text else ""
    match = _WITH.match(first)
    assert match, f"the block at {block.where} must start with '# with: examples/NAME/catalog'"
    folder = ROOT / match.group(1)
    assert folder.is_dir(), f"{match.group(1)} (block at {block.where}) is not a folder"
    return folder


def write_project(where: Path, block: Block) -> None:
    """``myproject/``: a copy of the block's catalog and the block as its rules file."""
    project = where / PROJECT
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(catalog_of(block), project / "catalog")
    (project / "rules").mkdir()
    (project / "rules" / "rules.yaml").write_text(block.text, encoding="utf-8")


def facts_file(block: Block) -> str:
    first = block.text.splitlines()[0] if block.text else ""
    match = _FILE.match(first)
    assert match, f"the facts block at {block.where} must start with '# file: NAME.yaml'"
    return match.group(1)


def _shown_by(block: Block, command: str) -> bool:
    """Whether the next block is a console block running ``bssrules COMMAND myproject``."""
    following = _next(block)
    return following is not None and following.info == "console" and any(
        line.startswith(f"$ bssrules {command} ") and PROJECT in line.split()
        for line in following.text.splitlines())


def _count_line(count: int) -> str:
    return f"{count} error{'s' if count != 1 else ''}"


# ------------------------------------------------------------------------------ the page


def test_page_has_examples() -> None:
    assert len(RULES) >= 10
    assert len(INVALID) >= 3
    assert len(CONDITIONS) >= 4
    assert FACTS and CONSOLES
    kinds = {m for b in RULES for m in re.findall(r"^\s+kind: (\w+)", b.text, re.M)}
    assert set(RULE_SET_TYPES) <= kinds
    commands = {line.split()[2] for b in CONSOLES for line in b.text.splitlines() if line.startswith("$ bssrules ")}
    assert {"check", "test", "explain", "schema"} <= commands
    with_catalogs = {catalog_of(b).parent.name for b in RULES + INVALID}
    assert {"ppv", "devices"} <= with_catalogs


def test_every_block_is_known() -> None:
    unknown = [f"```{b.info} at {b.where}" for b in BLOCKS if b.info not in TESTED | UNTESTED]
    assert not unknown, f"blocks neither tested nor declared untested: {unknown}"


def test_invalid_blocks_are_followed_by_their_errors() -> None:
    for block in INVALID:
        following = _next(block)
        assert following is not None and following.info == "text", (
            f"the ```yaml rules-invalid block at {block.where} must be followed by a ```text block")


# ----------------------------------------------------------- every kind the product knows

KINDS = sorted(RULE_SET_TYPES)
PAGE = DOC.read_text(encoding="utf-8")


# The page with its fenced blocks blanked (same length): a "# with:" line is no heading.
_PROSE = _FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), PAGE)


def _section(heading: str) -> str:
    """The text under a ``## heading`` (or ``### heading``), up to the next heading of its level or above."""
    match = re.search(rf"^(#+) {re.escape(heading)}[ \t]*$", _PROSE, re.M)
    assert match, f"{DOC.name} has no heading '{heading}'"
    level = len(match.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.M).search(_PROSE, match.end())
    return PAGE[match.end():end.start() if end else len(PAGE)]


def _table_rows(text: str) -> dict[str, str]:
    """The rows of the tables of ``text``: first cell (without backticks and links) -> the rest."""
    rows = {}
    lines = text.splitlines()
    for line, following in zip(lines, lines[1:] + [""]):
        if following.startswith("|---"):
            continue  # the header row
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) >= 2 and not set(cells[0]) <= set("-: "):
            rows[re.sub(r"\[`?([^`\]]+)`?\]\([^)]*\)|`", lambda m: m.group(1) or "", cells[0])] = " | ".join(cells[1:])
    return rows


def _names(cell: str) -> set[str]:
    """The backticked names of a cell, leaving out what its parentheses say of them."""
    return set(re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", cell)))


def test_the_page_counts_the_kinds_the_product_knows() -> None:
    count = {5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}[len(KINDS)]
    assert f"bssrules knows {count}\nkinds of rule sets" in PAGE or f"bssrules knows {count} kinds" in PAGE
    assert f"## The {count} kinds" in PAGE
    stale = set(re.findall(r"\b(five|six|seven|eight|nine|ten)\s+kinds\b", PAGE)) - {count}
    assert not stale, f"a stale count of kinds: {stale}"
    intro = _table_rows(PAGE.split("## How to try the examples")[0])
    assert set(intro) == set(KINDS), "the table of kinds at the top of the page"
    kind_field = _table_rows(_section("Rule sets"))["kind"]
    assert set(re.findall(r"`(\w+)`", kind_field.split("|")[0])) == set(KINDS), "the kind field's values"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_its_section(kind: str) -> None:
    assert _section(kind).strip(), f"no section for {kind}"
    assert re.search(rf"^\s+kind: {kind}$", _section(kind), re.M), f"the {kind} section has no example"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_rule_test_row_naming_what_its_decision_says(kind: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys the rule-test table allows a kind are those its decisions can be tested on."""
    row = _table_rows(_section("Rule tests")).get(kind)
    assert row is not None, f"the rule-test table has no {kind} row"
    block = next(b for b in RULES if re.search(rf"^\s+kind: {kind}$", b.text, re.M))
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, block)
    results = [r for r in run_tests(load_project(PROJECT).rules) if r.decision and r.decision.kind == kind]
    assert results, f"the {kind} example at {block.where} has no rule test of a {kind} rule set"
    assert _names(row) == set(summary(results[0].decision)), f"keys of expect for {kind}"


def test_the_table_of_what_a_played_record_may_expect_is_what_rating_tests_check() -> None:
    from bssrules.rules.testing import RATING_EXPECTATIONS, RECORD_EXPECTATIONS

    rows = set(_table_rows(_section("Tests that play records")))
    fields = {"records", "subscriber", "accumulators", "expect"}
    assert fields <= rows, "the fields of a test that plays records"
    assert rows - fields == set(RECORD_EXPECTATIONS), "the keys a played record's expectation may state"
    assert set(RATING_EXPECTATIONS) <= fields


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_an_example_whose_rule_tests_pass(kind: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in RULES if re.search(rf"^\s+kind: {kind}$", b.text, re.M) and not _shown_by(b, "test")]
    assert blocks, f"no complete example of a {kind} rule set whose tests all pass"
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, blocks[0])
    results = [r for r in run_tests(load_project(PROJECT).rules) if r.decision and r.decision.kind == kind]
    assert len(results) >= 2, f"the {kind} example at {blocks[0].where} tests too little"
    failed = [f"{r.test.name}: {'; '.join(r.problems)}" for r in results if not r.passed]
    assert not failed, failed


def test_the_facts_table_lists_every_fact_and_no_other() -> None:
    table = _section("Facts")
    documented = {m for m in re.findall(r"^\|[^|]*\| `([a-zA-Z.]+)` \|", table, re.M)}
    assert documented == set(FACT_ATTRIBUTES), (sorted(documented - set(FACT_ATTRIBUTES)),
                                                sorted(set(FACT_ATTRIBUTES) - documented))


_LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)")


def _anchors(path: Path) -> set[str]:
    """The anchors of a page's headings, as GitHub makes them (outside fenced blocks)."""
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def test_links_lead_somewhere() -> None:
    broken = []
    for target, anchor in _LINK.findall(_FENCE.sub("", PAGE)):
        if target.startswith(("http://", "https://")):
            continue
        page = DOC.parent / target if target else DOC
        if not page.is_file():
            broken.append(f"{target}: no such page")
        elif anchor and anchor not in _anchors(page):
            broken.append(f"{target}#{anchor}: no such heading")
    assert not broken, broken


# ----------------------------------------------------------------------------- rules files


@pytest.mark.parametrize("block", RULES, ids=[b.where for b in RULES])
def test_rules_example_is_valid(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, block)
    try:
        project = load_project(PROJECT)
    except InvalidSource as exc:
        pytest.fail(f"the rules example at {block.where} is refused:\n{exc}")
    assert len(project.rules) > 0
    if not _shown_by(block, "check"):
        assert not project.warnings, (f"the rules example at {block.where} has warnings:\n"
                                      + "\n".join(map(str, project.warnings)))
    if not _shown_by(block, "test"):
        failed = [f"{r.test.name}: {'; '.join(r.problems)}" for r in run_tests(project.rules) if not r.passed]
        assert not failed, f"rule tests of the example at {block.where} fail:\n" + "\n".join(failed)


@pytest.mark.parametrize("block", INVALID, ids=[b.where for b in INVALID])
def test_invalid_rules_example_reports_the_documented_errors(block: Block, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, block)
    with pytest.raises(InvalidSource) as caught:
        load_project(PROJECT)
    diagnostics = caught.value.diagnostics
    actual = [str(d) for d in diagnostics] + [_count_line(len(caught.value.errors))]
    expected = _next(block)
    assert expected is not None
    assert actual == expected.text.splitlines(), f"errors of the example at {block.where}"


@pytest.mark.parametrize("block", CONDITIONS, ids=[b.where for b in CONDITIONS])
def test_condition_example_parses(block: Block) -> None:
    doc, problems = parse_text(block.text, "condition.yaml")
    assert doc is not None and not problems, problems
    found: list[str] = []
    condition = parse_condition(doc.data, (), lambda path, message, suggestion: found.append(
        f"{'.'.join(map(str, path))}: {message}"))
    assert condition is not None and not found, f"the condition at {block.where}: {found}"


@pytest.mark.parametrize("block", FACTS, ids=[b.where for b in FACTS])
def test_facts_example_is_well_typed(block: Block) -> None:
    facts_file(block)
    doc, problems = parse_text(block.text, "facts.yaml")
    assert doc is not None and not problems and isinstance(doc.data, dict), problems
    fact_values(doc.data)  # raises on an unknown attribute or a value of the wrong type


# --------------------------------------------------------------------------- console runs


@dataclass
class Run:
    command: str
    expected: list[str]
    actual: list[str]
    returncode: int


def _commands(console: Block) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for line in console.text.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            assert commands, f"the console block at {console.where} starts with a command"
            commands[-1][1].append(line)
    return commands


def prepare_folder(console: Block, where: Path) -> None:
    """The folder a console block runs in (see the module docstring)."""
    shutil.copytree(ROOT / "examples", where / "examples")
    above = BLOCKS[:console.index]
    projects = [b for b in above if b.info in ("yaml rules", "yaml rules-invalid")]
    if projects:
        write_project(where, projects[-1])
    for block in above:
        if block.info == "yaml facts":
            (where / facts_file(block)).write_text(block.text, encoding="utf-8")


def run_console(console: Block, where: Path) -> list[Run]:
    """Run every command of a console block in ``where`` (prepared); return what each printed."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS")}
    env.update(NO_COLOR="1", PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    runs = []
    for command, expected in _commands(console):
        words = shlex.split(command)
        assert words[0] == "bssrules", f"only bssrules commands run (block at {console.where}): {command}"
        target = None
        if ">" in words:
            at = words.index(">")
            words, target = words[:at], words[at + 1]
        result = subprocess.run([sys.executable, "-m", "bssrules.cli", *words[1:]], cwd=where, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, encoding="utf-8", timeout=120)
        output = result.stdout
        if target is not None:
            (where / target).write_text(output, encoding="utf-8")
            output = ""
        runs.append(Run(command, expected, output.splitlines(), result.returncode))
    return runs


def _expected_returncode(lines: list[str]) -> int:
    last = lines[-1] if lines else ""
    return 1 if _ERROR_COUNT.match(last) or _FAILED_TESTS.match(last) else 0


@pytest.mark.parametrize("console", CONSOLES, ids=[b.where for b in CONSOLES])
def test_console_example_matches_a_real_run(console: Block, tmp_path: Path) -> None:
    prepare_folder(console, tmp_path)
    problems = []
    for run in run_console(console, tmp_path):
        if run.actual != run.expected:
            problems.append(f"$ {run.command}\n--- documented\n" + "\n".join(run.expected)
                            + "\n--- actual\n" + "\n".join(run.actual))
        elif run.returncode != _expected_returncode(run.expected):
            problems.append(f"$ {run.command}: exit status {run.returncode}")
    assert not problems, f"the console block at {console.where} of {DOC.name}:\n" + "\n\n".join(problems)


def test_schema_command_prints_the_rules_schema(tmp_path: Path) -> None:
    """The schema the page tells editors to use is the one of rule files."""
    import json

    from bssrules.rules.schema import SCHEMA_ID

    runs = [r for c in CONSOLES for r in _commands(c) if r[0].startswith("bssrules schema rules")]
    assert runs, "the page shows 'bssrules schema rules'"
    result = subprocess.run([sys.executable, "-m", "bssrules.cli", "schema", "rules"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert json.loads(result.stdout)["$id"] == SCHEMA_ID
