"""The documentation names what the code does, and nothing else.

* The rejection tables of docs/usage-api.md and docs/pricing.md list exactly the reason
  codes the code can give a usage record. There is no one list of them in the code, so
  they are read from it: every literal code of a rejection (``{"code": "…"}``,
  ``_rejected(record, "…", …)``, the ``pl.lit("…")`` of a bulk ``code`` column, the
  ``("…", label)`` pairs bulk rating collects) in the modules that rate. The usage API
  page lists those of the modules the usage service reaches (``bssrules.services.usage``
  and what it imports); the pricing page lists those of every rating module, bulk included.
  The codes catalog managers write (a prerequisite's or a block threshold's ``reason``)
  are rows of their own in both tables.
* The README's command list shows every command of ``bssrules`` (and no other), each with
  options the command has, and shows how to give the tests a PostgreSQL server.
"""
from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Any

import typer

from bssrules import cli

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "bssrules"
README = ROOT / "README.md"
USAGE_API = ROOT / "docs" / "usage-api.md"
PRICING = ROOT / "docs" / "pricing.md"

# ---------------------------------------------------------------------- rejection codes

_CODE = re.compile(r"^[a-z][A-Za-z]+$")
# Where a usage record's reasons come from: the rating core, the usage service, and the
# decisions of usage rule sets (notApplicable, noApplicableRate).
RATING_MODULES = ("bssrules.pricing.", "bssrules.services.usage", "bssrules.rules.decisions")


def _module_file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(module: str) -> set[str]:
    """The bssrules modules a module imports, lazily (inside functions) too."""
    path = _module_file(module)
    if path is None:
        return set()
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n for n in names if n.startswith("bssrules") and _module_file(n) is not None}
    return found


def reachable(module: str) -> set[str]:
    """The module and every bssrules module it imports, directly or not."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += sorted(_imports(current) - seen)
    return seen


def _is_rating(module: str) -> bool:
    return any(module == m or (m.endswith(".") and module.startswith(m)) for m in RATING_MODULES)


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def codes_in(path: Path) -> set[str]:
    """The literal reason codes a module gives (see the module docstring for the shapes)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if _literal(key) == "code" and _literal(value):
                    found.add(_literal(value) or "")
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "_rejected" and len(node.args) > 1 and _literal(node.args[1]):
                found.add(_literal(node.args[1]) or "")
            if name == "append" and len(node.args) == 1 and isinstance(node.args[0], ast.Tuple):
                pair = node.args[0].elts
                if len(pair) == 2 and _CODE.match(_literal(pair[0]) or "") and \
                        isinstance(pair[1], (ast.JoinedStr, ast.Constant)):
                    found.add(_literal(pair[0]) or "")
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets):
            for call in ast.walk(node.value):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "lit":
                    found |= {c for c in map(_literal, call.args) if c}
    return found


def produced(modules: set[str]) -> dict[str, set[str]]:
    """code -> the modules (among ``modules``, the rating ones) that give it."""
    by_code: dict[str, set[str]] = {}
    for module in sorted(m for m in modules if _is_rating(m)):
        path = _module_file(module)
        assert path is not None
        for code in codes_in(path):
            by_code.setdefault(code, set()).add(module)
    return by_code


def every_rating_module() -> set[str]:
    pricing = {f"bssrules.pricing.{p.stem}" for p in (PACKAGE / "pricing").glob("*.py") if p.stem != "__init__"}
    return pricing | {"bssrules.services.usage", "bssrules.rules.decisions"}


def documented(page: Path, heading: str) -> tuple[set[str], list[str]]:
    """(codes, other first cells) of the table under ``heading``: a first cell made of
    backticked codes only names codes; any other (a prerequisite's code …) is kept as text."""
    text = page.read_text(encoding="utf-8")
    match = re.search(rf"^#+ {re.escape(heading)}[ \t]*$", text, re.M)
    assert match, f"{page.name} has no heading '{heading}'"
    rows = []
    for line in text[match.end():].splitlines():
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append(line.strip().strip("|").split("|")[0].strip())
    rows = rows[1:]  # the header
    assert rows, f"no table under '{heading}' in {page.name}"
    codes, others = set(), []
    for cell in rows:
        if re.fullmatch(r"`[A-Za-z]+`(\s*,\s*`[A-Za-z]+`)*", cell):
            codes |= set(re.findall(r"`([A-Za-z]+)`", cell))
        else:
            others.append(cell)
    return codes, others


def _compare(page: Path, heading: str, codes: dict[str, set[str]]) -> None:
    listed, others = documented(page, heading)
    missing = {c: sorted(m) for c, m in codes.items() if c not in listed}
    stale = sorted(listed - set(codes))
    assert not missing, f"{page.name} ({heading}) does not list these codes, given by: {missing}"
    assert not stale, f"{page.name} ({heading}) lists codes no rating code gives: {stale}"
    assert any("prerequisite" in o for o in others) and any("threshold" in o for o in others), (
        f"{page.name} ({heading}) must have rows for a prerequisite's and a block threshold's own code: {others}")


def test_the_scan_finds_the_codes_of_every_shape() -> None:
    """The collector sees each way the code writes a reason (else the tests below prove little)."""
    codes = produced(every_rating_module())
    assert {"malformed", "unknownSubscriber", "subscriptionNotActive", "noApplicableRate", "notApplicable",
            "unitMismatch", "insufficientBalance", "noSplitBilling", "noPayer", "noBillingAccount"} <= set(codes)
    assert "bssrules.pricing.bulk_output" in codes["unitMismatch"]  # pl.lit in a code column
    assert "bssrules.pricing.bulk_decide" in codes["noBillingAccount"]  # ("code", label) pairs
    assert "bssrules.pricing.rating" in codes["malformed"]  # _rejected(record, "malformed", …)


def test_the_usage_service_reaches_the_reference_rating_and_not_bulk_rating() -> None:
    modules = reachable("bssrules.services.usage")
    assert {"bssrules.pricing.rating", "bssrules.rules.decisions"} <= modules
    assert not any(m.startswith("bssrules.pricing.bulk") for m in modules)


def test_the_usage_api_lists_every_code_a_posted_usage_can_be_rejected_with() -> None:
    _compare(USAGE_API, "Why a usage is rejected", produced(reachable("bssrules.services.usage")))


def test_pricing_lists_every_code_rating_can_reject_a_record_with() -> None:
    _compare(PRICING, "Rejections", produced(every_rating_module()))


def test_both_pages_say_a_threshold_is_reached_at_its_level() -> None:
    """Rating compares ``total >= at`` (bssrules/pricing/rating.py): reached at, not above."""
    source = (PACKAGE / "pricing" / "rating.py").read_text(encoding="utf-8")
    assert re.search(r"value >= threshold\.at", source)
    for page in (USAGE_API, PRICING):
        text = " ".join(page.read_text(encoding="utf-8").split())
        assert not re.search(r"takes the total above `at`|total (is )?(strictly )?(above|over|exceeds) `at`", text), page
    assert "the total of its measure is at least `at`" in " ".join(PRICING.read_text(encoding="utf-8").split())
    assert "takes the total to `at` or beyond" in " ".join(USAGE_API.read_text(encoding="utf-8").split())


# ------------------------------------------------------------------------ README commands


def _commands() -> dict[str, Any]:
    """name -> command of ``bssrules`` (typer's own click: the commands have ``params``)."""
    group: Any = typer.main.get_command(cli.app)
    return dict(group.commands)


def _readme_section(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def readme_command_lines() -> list[list[str]]:
    """The words of each ``bssrules`` command of the README's command list, from the command's name on."""
    section = _readme_section("Commands")
    blocks = re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S)
    assert blocks, "the README's Commands section has no ```sh block"
    lines = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            # a command substitution is a command too: $(bssrules admin-key)
            words = shlex.split(re.sub(r"\$\(([^)]*)\)", r" \1 ", line), comments=True)
            starts = [i for i, word in enumerate(words) if word.split("/")[-1] == "bssrules"]
            for start, end in zip(starts, starts[1:] + [len(words)]):
                if start + 1 < end:
                    lines.append(words[start + 1:end])
    return lines


def test_the_readme_lists_every_command() -> None:
    listed = {words[0] for words in readme_command_lines()}
    commands = set(_commands())
    assert not commands - listed, f"commands missing from the README's command list: {sorted(commands - listed)}"
    assert not listed - commands, f"the README lists commands bssrules does not have: {sorted(listed - commands)}"


def test_the_readme_commands_use_options_their_command_has() -> None:
    commands = _commands()
    wrong = []
    for words in readme_command_lines():
        command = commands[words[0]]
        options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        wrong += [f"bssrules {words[0]} {w}" for w in words[1:]
                  if w.startswith("-") and w.split("=")[0] not in options and w != ">"]
    assert not wrong, wrong


def test_the_readme_shows_how_to_run_the_tests_on_postgresql() -> None:
    tests = _readme_section("Tests")
    assert re.search(r"^BSSRULES_TEST_POSTGRES_URL=postgresql(\+psycopg)?://\S+ make test$", tests, re.M), tests
