"""A flow mapping or list left open (``{id: a, name: b`` and the next line) is reported at
its opening '{' or '[' — the line the author forgot to close — with where the parser
noticed; within one line, where the parser stopped, with the '{' column."""
from __future__ import annotations

import pytest

from bssrules.yaml_source import parse_text


@pytest.mark.parametrize("text, where, found", [
    ("productOfferings:\n  - {id: a, name: b\n  - {id: c, name: d}\n", (2, 5), "found '{' at line 3, column 5"),
    ("a: {b: 1, c: 2\nd: 3\n", (1, 4), "found ':' at line 2, column 2"),
    ("x:\n  a: {b: 1,\n    c: 2\n  d: 3\n", (2, 6), "found ':' at line 4, column 4"),
])
def test_an_unclosed_flow_mapping_is_reported_at_its_opening_brace(text: str, where: tuple[int, int],
                                                                   found: str) -> None:
    _, problems = parse_text(text, "f.yaml")
    assert [(p.line, p.column) for p in problems] == [where]
    assert problems[0].message.startswith("YAML syntax error: the '{' here opens a flow mapping that is not closed: "
                                          "expected ',' or '}', " + found)


def test_an_unclosed_flow_list_is_reported_at_its_opening_bracket() -> None:
    _, problems = parse_text("a: [1, 2\nb: 3\n", "f.yaml")
    assert [(p.line, p.column) for p in problems] == [(1, 4)]
    assert "the '[' here opens a flow list that is not closed" in problems[0].message


def test_a_missing_comma_on_one_line_is_reported_where_the_parser_stopped_with_the_brace_column() -> None:
    _, problems = parse_text("a: {b: 1 c: 2}\n", "f.yaml")
    assert [str(p) for p in problems] == [
        "f.yaml:1:11: YAML syntax error: expected ',' or '}' in the flow mapping opened with '{' at column 4, "
        "found ':' (a ',' between its entries, or its '}', is missing)"]
