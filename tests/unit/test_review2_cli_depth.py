"""Nesting has limits, said at file:line:column: all / any / not at most 32 deep in a
condition, mappings and lists at most 100 deep in a YAML file. Past them, ``check``, ``test``
and ``explain`` report an error; they never end in a RecursionError."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.rules.conditions import MAX_DEPTH, Not, parse_condition
from bssrules.yaml_source import MAX_DEPTH as MAX_YAML_DEPTH
from bssrules.yaml_source import parse_text


def nested(kind: str, depth: int) -> str:
    inner = "{usage.service: data}"
    if kind == "not":
        return "{not: " * depth + inner + "}" * depth
    return f"{{{kind}: [" * depth + inner + "]}" * depth


def usage_project(tmp_path: Path, when: str) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yaml").write_text(f"""\
ruleSets:
  - id: u
    kind: usage
    rules:
      - id: r
        when: {when}
        rate: {{amount: 1, currency: EUR, per: MB}}
tests:
  - {{name: t, ruleSet: u, asOf: 2026-07-01, given: {{usage: {{service: data}}}}, expect: {{status: rated}}}}
""", encoding="utf-8")
    return tmp_path


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_the_limits_are_far_beyond_real_rules() -> None:
    assert MAX_DEPTH == 32 and MAX_YAML_DEPTH == 100


@pytest.mark.parametrize("kind", ["not", "all", "any"])
def test_a_condition_at_the_limit_is_read_and_one_past_it_is_an_error_at_its_place(kind: str) -> None:
    import yaml

    found: list[tuple[tuple[object, ...], str]] = []
    at_limit = parse_condition(yaml.safe_load(nested(kind, MAX_DEPTH)), ("when",), lambda p, m, s: found.append((p, m)))
    assert at_limit is not None and not found
    past = parse_condition(yaml.safe_load(nested(kind, MAX_DEPTH + 1)), ("when",),
                           lambda p, m, s: found.append((p, m)))
    assert past is None and len(found) == 1
    path, message = found[0]
    assert path[-1] == kind and path.count(kind) == MAX_DEPTH + 1
    assert "nest too deeply" in message and "32" in message


def test_330_nested_nots_are_an_error_of_check_not_a_traceback(tmp_path: Path) -> None:
    # 330 levels: more than the condition's limit and the file's (no recursion error either way)
    result = invoke("check", "--no-cache", str(usage_project(tmp_path, nested("not", 330))))
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{tmp_path.name}/rules/rules.yaml:6:") or ":6:" in lines[0]
    assert "nested too deeply" in lines[0] and "100" in lines[0]
    assert lines[-1] == "1 error"


def test_33_nested_nots_are_reported_at_the_33rd(tmp_path: Path) -> None:
    when = nested("not", MAX_DEPTH + 1)
    result = invoke("check", "--no-cache", str(usage_project(tmp_path, when)))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    column = when.index("not", len("{not: ") * MAX_DEPTH) + len("        when: ") + 1
    assert f"rules.yaml:6:{column}: conditions nest too deeply" in first and "at most 32 deep" in first


@pytest.mark.parametrize("kind", ["all", "any", "not"])
def test_450_nested_combinators_fail_check_and_test_without_traceback(tmp_path: Path, kind: str) -> None:
    folder = usage_project(tmp_path, nested(kind, 450))
    for command in (["check", "--no-cache"], ["test"]):
        result = invoke(*command, str(folder))
        assert result.exit_code == 1, (command, result.output)
        assert isinstance(result.exception, SystemExit), result.exception
        assert "nested too deeply" in result.output


def test_a_condition_just_within_both_limits_is_checked_tested_and_explained(tmp_path: Path) -> None:
    folder = usage_project(tmp_path / "p", nested("all", MAX_DEPTH)) if (tmp_path / "p").mkdir() is None else tmp_path
    assert invoke("check", "--no-cache", str(folder)).exit_code == 0
    result = invoke("test", "-v", str(folder))
    assert result.exit_code == 0, result.output
    facts = tmp_path / "facts.yaml"
    facts.write_text("usage: {service: data}\n", encoding="utf-8")
    assert invoke("explain", str(folder), str(facts), "-r", "u", "--as-of", "2026-07-01").exit_code == 0


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 990, 50_000])
@pytest.mark.parametrize("anchored", [False, True])  # an anchor: the composer reads the file
def test_yaml_nested_past_the_limit_is_an_error_where_the_too_deep_node_starts(depth: int, anchored: bool) -> None:
    prefix = "a: &x 1\n" if anchored else ""
    text = prefix + "b: " + "[" * depth + "1" + "]" * depth + "\n"
    doc, problems = parse_text(text, "f.yaml")
    assert doc is None and len(problems) == 1
    problem = problems[0]
    line = 2 if anchored else 1
    assert (problem.line, problem.column) == (line, len("b: ") + MAX_YAML_DEPTH)  # the 101st level: a list
    assert "nested too deeply" in problem.message and "100" in problem.message


def test_yaml_at_the_limit_is_read() -> None:
    depth = MAX_YAML_DEPTH - 1  # with the document's mapping: 100 levels
    doc, problems = parse_text("b: " + "[" * depth + "1" + "]" * depth + "\n", "f.yaml", located=True)
    assert doc is not None and not problems


def test_deep_facts_of_explain_are_an_error_of_the_facts_file(tmp_path: Path) -> None:
    folder = usage_project(tmp_path / "p", "{usage.service: data}") if (tmp_path / "p").mkdir() is None else tmp_path
    facts = tmp_path / "facts.yaml"
    facts.write_text("usage: " + "{a: " * 500 + "1" + "}" * 500 + "\n", encoding="utf-8")
    result = invoke("explain", str(folder), str(facts), "-r", "u")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines()[0].startswith(f"{facts}:1:") and "nested too deeply" in result.stderr


def test_not_is_kept_as_written() -> None:
    found: list[str] = []
    parsed = parse_condition({"not": {"usage.service": "data"}}, (), lambda p, m, s: found.append(m))
    assert isinstance(parsed, Not) and not found
