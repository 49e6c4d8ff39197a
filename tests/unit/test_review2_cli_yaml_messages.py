"""YAML syntax and encoding errors said in the author's terms, at the same place: a line
indented out of its block, a tab in the indentation, a file saved as UTF-16."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.yaml_source import parse_file, parse_text

OUT_OF_BLOCK = "this line's indentation does not match the block above it"


@pytest.mark.parametrize("text, where, found", [
    ("productOfferings:\n  - id: s1\n    name: x\n  id: s2\n", (4, 3), "found a key where the list goes on or ends"),
    ("productOfferings:\n  - id: s1\n    name: x\n   id: s2\n", (4, 4), "found a mapping where the list"),
    ("a:\n  b: 1\n c: 2\n", (3, 2), "found a mapping where the mapping"),
    ("a: 1\n- b\n", (2, 1), "found a list item where the mapping"),
])
def test_a_line_out_of_its_block_says_so_without_parser_tokens(text: str, where: tuple[int, int], found: str) -> None:
    _, problems = parse_text(text, "f.yaml")
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.line, problem.column) == where
    assert problem.message.startswith(f"YAML syntax error: {OUT_OF_BLOCK} (") and found in problem.message
    assert "'?'" not in problem.message and "<block" not in problem.message


@pytest.mark.parametrize("text, where", [("a: 1\n\tb: 2\n", (2, 1)), ("a:\n  \t- 1\n", (2, 3))])
def test_a_tab_in_the_indentation_says_to_indent_with_spaces(text: str, where: tuple[int, int]) -> None:
    _, problems = parse_text(text, "f.yaml")
    assert [(p.line, p.column, p.message) for p in problems] == [
        (*where, "YAML syntax error: a tab in the indentation: indent with spaces, not tabs")]


def test_other_syntax_errors_are_said_as_before() -> None:
    _, problems = parse_text("a: @b\n", "f.yaml")
    assert problems[0].message == "YAML syntax error: while scanning for the next token found character '@' " \
                                  "that cannot start any token"


@pytest.mark.parametrize("encoding, named", [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32")])
def test_a_file_with_a_utf16_or_utf32_byte_order_mark_is_named_so(tmp_path: Path, encoding: str, named: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_bytes(("\ufeff" if encoding == "utf-16-be" else "") .encode(encoding) + "ruleSets: []\n".encode(encoding))
    _, problems = parse_file(path, "rules.yaml")
    assert [str(p) for p in problems] == [
        f"rules.yaml:1:1: not UTF-8 text: the file is {named} (it begins with a {named} byte order mark); "
        "save it as UTF-8"]


def test_check_says_it_of_a_utf16_rules_file(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yaml").write_bytes("ruleSets: []\n".encode("utf-16"))
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert result.exit_code == 1
    assert "rules/rules.yaml:1:1: not UTF-8 text: the file is UTF-16 (it begins with a UTF-16 byte order mark); " \
           "save it as UTF-8" in result.stderr


def test_a_latin1_byte_is_still_said_at_its_place() -> None:
    from bssrules.yaml_source import not_utf8

    data = "a: caf".encode() + b"\xe9\n"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        assert str(not_utf8("f", data, exc)).startswith("f:1:7: not UTF-8 text: byte 0xe9")


@pytest.mark.parametrize("key, shown", [("[a, b]", "[a, b]"), ("{x: 1}", "{x: 1}"), ("[a,\n      b]", "[a, b]")])
def test_a_key_that_is_a_list_or_a_mapping_is_named_as_written(key: str, shown: str) -> None:
    doc, problems = parse_text(f"productSpecifications:\n  - id: s\n    ? {key}\n    : c\n", "f.yaml", located=True)
    assert doc is not None and not problems
    entry = doc.data["productSpecifications"][0]
    assert entry == {"id": "s", shown: "c"}
    assert doc.key_positions[("productSpecifications", 0, shown)] == (3, 7)


def test_check_names_a_list_key_as_written(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text("productSpecifications:\n  - id: s\n    name: S\n    ? [a, b]\n    : c\n",
                                           encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{tmp_path.name}/catalog.yaml:4:7: unknown field '[a, b]'") or \
        first.startswith(f"{tmp_path}/catalog.yaml:4:7: unknown field '[a, b]'")
    assert "ScalarNode" not in result.stderr
