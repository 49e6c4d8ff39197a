"""``bssrules explain`` and its facts file: each error of the file once, at file:line:column,
and how many there are; nothing follows from an error (no "must hold a mapping" after a
syntax error)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssrules.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def explain(facts: Path) -> list[str]:
    result = CliRunner().invoke(app, ["explain", str(EXAMPLES / "ppv"), str(facts), "-r", "ppv-normal",
                                      "--as-of", "2026-06-01"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    return result.stderr.splitlines()


@pytest.mark.parametrize("text, expected", [
    ("usage: {service: data\n", ":1:8: YAML syntax error: the '{' here opens a flow mapping that is not closed: "
                                "expected ',' or '}', found the end of the file at line 2, column 1 (its '}' is "
                                "missing)"),
    ("", ":1:1: the facts file must hold a mapping of facts (party, channel, usage, …); it is empty"),
    ("# nothing yet\n", ":1:1: the facts file must hold a mapping of facts (party, channel, usage, …); it is empty"),
    ("- a\n- b\n", ":1:1: the facts file must hold a mapping of facts (party, channel, usage, …); it holds a list"),
    ("\n42\n", ":2:1: the facts file must hold a mapping of facts (party, channel, usage, …); it holds a value"),
    ("usage: {service: ppv-movie}\nusage: {service: ppv-movie}\n", ":2:1: duplicate key 'usage' (first at line 1)"),
])
def test_one_error_with_its_place_and_the_count(tmp_path: Path, text: str, expected: str) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(text, encoding="utf-8")
    assert explain(facts) == [f"{facts}{expected}", "1 error: nothing was decided"]


def test_a_utf16_facts_file_is_one_error(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_bytes("usage: {service: ppv-movie}\n".encode("utf-16"))
    lines = explain(facts)
    assert len(lines) == 2 and lines[0].startswith(f"{facts}:1:1: ") and lines[1] == "1 error: nothing was decided"
