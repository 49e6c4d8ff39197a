"""The two fast paths of a check say exactly what the slow ones say (issue 15, item 8).

- YAML is read from the C parser's events (positions computed only when asked for); the
  composer reads what the events leave to it. Both give the same data, positions and
  repeated-key reports.
- A schema compiled into a validity test says "valid" exactly when jsonschema does; only an
  invalid value is walked by jsonschema for its errors.
"""
from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bssrules import yaml_source
from bssrules.catalog.schema import catalog_schema
from bssrules.rules.schema import rules_schema
from bssrules.schema_errors import NotCompilable, SchemaCheck, compile_schema
from bssrules.yaml_source import parse_text

ROOT = Path(__file__).resolve().parents[2]
# (the projects' files: examples/facts holds facts files for bssrules explain, neither catalog nor rules)
EXAMPLE_FILES = sorted(p for p in (ROOT / "examples").rglob("*.yaml")
                       if ".bssrules-cache" not in p.parts and p.relative_to(ROOT / "examples").parts[0] != "facts")

TRICKY = [
    "a: 1\nb: 1.50\nc: -0x1F\nd: 0o17\ne: 1_000\nf: .inf\ng: -.INF\ni: 1e3\nj: '1'\nk: \"2\"\n",
    "yes: no\non: off\ntrue: false\nnull: ~\n'': x\n? complex\n: value\n",
    "d1: 2024-01-01\nd2: 2024-01-01T10:00:00Z\nd3: 2024-02-30\nt: 12:30\n",
    "s: |\n  line one\n  line two\nf: >\n  folded\n  text\nq: 'it''s'\n",
    "flow: {a: [1, 2, {b: c}], d: []}\nempty:\nlist:\n- x\n-\n- - y\n",
    "# only a comment\n",
    "",
    "- a\n- b\n",
    "just text\n",
    "a: 1\na: 2\nb:\n  c: 1\n  c: {d: 2}\n",
    "base: &b {x: 1, y: 2}\nuse: *b\nmerged:\n  <<: *b\n  y: 3\n",
    "tagged: !!str 123\nset: !!set {a, b}\nother: !custom x\n",
    "%YAML 1.1\n---\na: yes\n",
    "--- \na: 1\n---\nb: 2\n",
    "a: [1, 2\n",
    "a: b: c\n",
    "{a: 1, b: x:y}\n",
    "key: \"\\x41\\u00e9\"\nunicode: é\n",
    "1: one\n2.5: two\ntrue: three\n~: four\n",
    "a:\n  - {id: x, name: 'X'}\n  - {id: y}\n",
]


def read_by_composer(text: str, file: str) -> tuple[Any, ...]:
    original = yaml_source._read_events

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise yaml_source._Unusual("test")

    yaml_source._read_events = refuse  # type: ignore[assignment]
    try:
        return described(*parse_text(text, file))
    finally:
        yaml_source._read_events = original  # type: ignore[assignment]


def described(doc: yaml_source.SourceDocument | None, problems: list[Any]) -> tuple[Any, ...]:
    if doc is None:
        return None, [str(p) for p in problems]
    return doc.data, doc.positions, doc.key_positions, [str(p) for p in problems]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_examples_read_from_events_as_the_composer_reads_them(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert described(*parse_text(text, "f.yaml")) == read_by_composer(text, "f.yaml")


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky_yaml_reads_as_the_composer_reads_it(text: str) -> None:
    assert described(*parse_text(text, "f.yaml")) == read_by_composer(text, "f.yaml")


def test_a_repeated_key_is_reported_at_the_repetition_and_the_rest_is_read() -> None:
    doc, problems = parse_text("a: 1\nb:\n  c: 2\n  c: {x: 1}\nd: [1, 2]\na: 5\ne: last\n", "f.yaml")
    assert doc is not None
    assert doc.data == {"a": 1, "b": {"c": 2}, "d": [1, 2], "e": "last"}
    assert [str(p) for p in problems] == ["f.yaml:4:3: duplicate key 'c' (first at line 3)",
                                          "f.yaml:6:1: duplicate key 'a' (first at line 1)"]
    assert doc.position(("b", "c")) == (3, 6) and doc.position(("e",)) == (7, 4)


def test_positions_are_read_only_when_asked_for() -> None:
    doc, _ = parse_text("a:\n  - {id: x}\n", "f.yaml")
    assert doc is not None and doc._positions is None
    assert doc.position(("a", 0, "id")) == (2, 10) and doc.key_positions[("a",)] == (1, 1)


def test_ids_of_a_text_that_cannot_be_parsed_are_found_in_its_text() -> None:
    text = "prices:\n  - id: p-1\n    name: x\n  - {id: 'p-2', name: y\n  - \"id\": p-3\nnotid: p-4\n"
    assert parse_text(text, "f.yaml")[0] is None
    assert yaml_source.ids_in_text(text) == {"p-1", "p-2", "p-3"}


# ----------------------------------------------------------------------------- the compiled schema

SCHEMAS = {"catalog": catalog_schema(), "rules": rules_schema()}
EXAMPLE_DATA = {name: [d.data for p in EXAMPLE_FILES for d in [parse_text(p.read_text(encoding="utf-8"), "f")[0]]
                       if d is not None and isinstance(d.data, dict)
                       and (("ruleSets" in d.data or "tests" in d.data) == (name == "rules"))]
                for name in SCHEMAS}
REPLACEMENTS = st.sampled_from(["x", "", "Active", "EUR", "2024-02-30", "2024-01-01", "a b", "recurring", 0, 1, -1,
                                10**30, Decimal("1.5"), Decimal("1.0"), 1.0, True, False, None, [], {}, ["x"],
                                {"id": "x"}, {"unknown": 1}])


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _nodes(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nodes(item, path + (index,))
    return found


@st.composite
def mutated(draw: st.DrawFn, name: str) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(EXAMPLE_DATA[name])))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_nodes(data)))
        if not path:
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = copy.deepcopy(draw(REPLACEMENTS))
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            key = draw(st.sampled_from(["extra", "name", "kind", "when", "validFor"]))
            parent[key] = copy.deepcopy(draw(REPLACEMENTS))
    return data


@pytest.mark.parametrize("name", list(SCHEMAS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_compiled_schema_says_valid_exactly_when_jsonschema_does(name: str, data: st.DataObject) -> None:
    value = data.draw(mutated(name))
    assert compile_schema(SCHEMAS[name])(value) == Draft202012Validator(SCHEMAS[name]).is_valid(value)


def test_the_examples_are_valid_under_the_compiled_schemas() -> None:
    for name, values in EXAMPLE_DATA.items():
        assert values and all(compile_schema(SCHEMAS[name])(v) for v in values), name


def test_a_keyword_the_compiler_does_not_know_leaves_the_decision_to_jsonschema() -> None:
    schema = {"type": "object", "patternProperties": {"^x": {"type": "integer"}}}
    with pytest.raises(NotCompilable):
        compile_schema(schema)
    check = SchemaCheck(schema)
    assert check.is_valid({"xa": 1}) and not check.is_valid({"xa": "one"})


@pytest.mark.parametrize(("schema", "valid", "invalid"), [
    ({"type": "integer"}, [1, 2.0, -5], [True, 1.5, "1", Decimal("1")]),
    ({"type": "number", "minimum": 0}, [0, 1.5, Decimal("2.5")], [-1, True, "1"]),
    ({"enum": ["a", 1, None]}, ["a", 1, None, 1.0], ["b", True, 2]),
    ({"const": 1}, [1, 1.0, Decimal(1)], [True, "1"]),
    ({"anyOf": [{"type": "string", "pattern": "^a"}, {"type": "null"}]}, ["ab", None], ["b", 1]),
    ({"type": "array", "items": {"type": "string"}, "minItems": 1}, [["x"]], [[], [1], "x"]),
    ({"type": "object", "required": ["a"], "additionalProperties": False, "properties": {"a": {}}},
     [{"a": 1}], [{}, {"a": 1, "b": 2}, []]),
    ({"if": {"properties": {"k": {"const": "x"}}}, "then": {"required": ["y"]}}, [{"k": "z"}, {"k": "x", "y": 1}],
     [{"k": "x"}]),
    ({"$defs": {"n": {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#/$defs/n"}}]}},
      "$ref": "#/$defs/n"}, [1, [1, [2, [3]]]], ["x", [1, ["x"]]]),
    ({"type": "string", "minLength": 2, "maxLength": 3}, ["ab", "abc"], ["a", "abcd", 12]),
])
def test_each_keyword_compiles_as_jsonschema_reads_it(schema: dict[str, Any], valid: list[Any],
                                                      invalid: list[Any]) -> None:
    check, reference = compile_schema(schema), Draft202012Validator(schema)
    for value in valid + invalid:
        assert check(value) == reference.is_valid(value) == (value in valid and any(v is value for v in valid)), value
