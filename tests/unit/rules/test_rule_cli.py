"""The rule commands of ``bssrules``: test, explain and schema rules."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.rules.schema import SCHEMA_FILE, generate_rules_schema
from bssrules.yaml_source import parse_file

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
BSSRULES = Path(sys.executable).with_name("bssrules")
RULE_FILES = sorted(EXAMPLES.glob("*/rules/*.yaml"))


@pytest.fixture
def ppv_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the PPV example, as the relative folder ``ppv``."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLES / "ppv", tmp_path / "ppv")
    return Path("ppv")


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


# --- bssrules test -------------------------------------------------------------------------


def test_the_rule_tests_of_the_ppv_example_pass_from_the_installed_command() -> None:
    result = subprocess.run([str(BSSRULES), "test", "examples/ppv"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "11 passed, 0 failed"
    assert len([line for line in lines if line.startswith("pass examples/ppv/rules/tests.yaml:")]) == 11
    assert "FAIL" not in result.stdout


@pytest.mark.parametrize("example, count", [("devices", 10), ("connected_car", 20)])
def test_the_rule_tests_of_the_other_examples_pass(example: str, count: int) -> None:
    result = invoke("test", str(EXAMPLES / example))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"{count} passed, 0 failed"


def test_a_failing_rule_test_exits_1_and_shows_what_differed_and_why(ppv_copy: Path) -> None:
    tests = ppv_copy / "rules" / "tests.yaml"
    tests.write_text(tests.read_text(encoding="utf-8") + """\
  - name: "03:00 is wrongly expected at the base rate"
    ruleSet: ppv-normal
    given: {inventory: {activeOfferings: [ppv-service]}, usage: {service: ppv-movie, start: "2026-06-01T03:00:00Z"}}
    expect: {rule: base-rate, amount: 4.00}
""", encoding="utf-8")
    result = invoke("test", str(ppv_copy))
    assert result.exit_code == 1
    out = result.stdout
    assert out.splitlines()[-1] == "11 passed, 1 failed"
    assert "FAIL ppv/rules/tests.yaml:14: 03:00 is wrongly expected at the base rate" in out
    assert "expected rule base-rate, got night-rate" in out
    assert "expected amount 4.00, got 2.50" in out
    # the explanation of the failing test only: which rules fired, each test with the value seen
    assert out.count("usage rule set ppv-normal v1") == 1
    assert "fired night-rate" in out and "fired base-rate" in out
    assert "usage.start timeOfDay 00:01–06:59  (seen: 03:00)" in out
    assert "party.classification eq VIP  (seen: (absent))" in out


def test_verbose_explains_passing_tests_too() -> None:
    result = invoke("test", "--verbose", str(EXAMPLES / "ppv"))
    assert result.exit_code == 0
    assert result.stdout.count("usage rule set ppv-normal v1") == 8
    assert result.stdout.count("usage rule set ppv-vip v1") == 1
    assert result.stdout.count("eligibility rule set ppv-eligibility v1") == 2


def test_a_rule_test_that_cannot_be_decided_fails_with_the_reason(ppv_copy: Path) -> None:
    tests = ppv_copy / "rules" / "tests.yaml"
    tests.write_text(tests.read_text(encoding="utf-8") + """\
  - {name: unknown fact, ruleSet: ppv-normal, given: {usage: {servce: ppv-movie}}, expect: {status: rated}}
  - {name: wrong key, ruleSet: ppv-normal, given: {usage: {service: ppv-movie}}, expect: {payer: me}}
""", encoding="utf-8")
    result = invoke("test", str(ppv_copy))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "11 passed, 2 failed"
    assert "could not decide: unknown fact attribute: usage.servce (did you mean 'usage.service'?)" in result.stdout
    assert "'payer' cannot be expected of a usage decision" in result.stdout
    # said at its place, as check says it (it was said without one)
    assert "rules/tests.yaml:15:" in result.stdout and "[at $.tests[12].expect.payer]" in result.stdout


def test_rule_tests_of_a_broken_project_are_not_run(ppv_copy: Path) -> None:
    usage = ppv_copy / "rules" / "usage.yaml"
    usage.write_text(usage.read_text(encoding="utf-8").replace("usage.service: ppv-movie", "usage.servise: ppv-movie",
                                                              1), encoding="utf-8")
    result = invoke("test", str(ppv_copy))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[1] == "1 error"
    assert re.fullmatch(r"ppv/rules/usage\.yaml:17:\d+: unknown attribute 'usage\.servise' \(did you mean "
                        r"'usage\.service'\?\) \[at \$\.ruleSets\[0\]\.rules\[0\]\.when\.usage\.servise\]", lines[0])


# --- bssrules explain ----------------------------------------------------------------------


@pytest.fixture
def night_movie(tmp_path: Path) -> Path:
    path = tmp_path / "facts.yaml"
    path.write_text("inventory: {activeOfferings: [ppv-service]}\n"
                    "usage: {service: ppv-movie, start: \"2026-06-01T03:00:00Z\"}\n", encoding="utf-8")
    return path


def test_explain_prints_the_decision_and_why(night_movie: Path) -> None:
    result = invoke("explain", str(EXAMPLES / "ppv"), str(night_movie), "-r", "ppv-normal", "--as-of", "2026-06-01")
    assert result.exit_code == 0, result.output
    head, tree = result.stdout.split("\nusage rule set ppv-normal v1\n")
    assert head.startswith("decision: ") and "\n" not in head  # one line, however long
    decision = json.loads(head.removeprefix("decision: "))
    assert decision == {"status": "rated", "rule": "night-rate", "rate": {"amount": 2.5, "currency": "EUR",
                                                                           "per": "movie"},
                        "provisioningId": "PPV-NIGHT", "fired": ["night-rate", "base-rate"]}
    assert tree.splitlines()[0].endswith("not fired appliesTo")
    assert "fired night-rate" in tree and "usage.start timeOfDay 00:01–06:59  (seen: 03:00)" in tree


@pytest.mark.parametrize("caller_type, shown", [
    ("customer", "✗ caller.type in [csp, partner]  (seen: customer)"),
    ("[/x]", "✗ caller.type in [csp, partner]  (seen: [/x])"),
], ids=["list-in-condition", "markup-in-value"])
def test_explain_shows_conditions_and_values_exactly_as_written(tmp_path: Path, caller_type: str, shown: str) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"caller": {"type": caller_type},
                                 "offering": {"id": "data-5gb", "categories": ["partner-building-blocks"]}}),
                     encoding="utf-8")
    result = invoke("explain", str(EXAMPLES / "connected_car"), str(facts), "-r", "connected-car-eligibility",
                    "--as-of", "2026-06-01")
    assert result.exit_code == 0
    assert shown in result.stdout


def test_explain_as_json_gives_the_decision_with_its_explanation(night_movie: Path) -> None:
    result = invoke("explain", str(EXAMPLES / "ppv"), str(night_movie), "--rule-set", "ppv-normal",
                    "--as-of", "2026-06-01", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["ruleSet"], data["version"], data["kind"], data["status"], data["rule"]) == (
        "ppv-normal", 1, "usage", "rated", "night-rate")
    explanation = {e["rule"]: e for e in data["explanation"]}
    assert list(explanation) == ["appliesTo", "prerequisite:ppv-service-effective", "night-rate", "base-rate"]
    assert explanation["night-rate"]["fired"] is True
    assert explanation["night-rate"]["when"]["parts"][1] == {
        "condition": "usage.start timeOfDay 00:01–06:59", "result": True, "actual": "03:00"}
    assert explanation["appliesTo"]["when"]["parts"][0]["actual"] == "(absent)"


def test_explain_with_an_unknown_rule_set_exits_1_with_a_suggestion(night_movie: Path) -> None:
    result = invoke("explain", str(EXAMPLES / "ppv"), str(night_movie), "-r", "ppv-normall")
    assert result.exit_code == 1
    assert result.stderr.startswith("--rule-set: no rule set with id 'ppv-normall' (did you mean 'ppv-normal'?)")


def test_explain_says_an_unknown_rule_set_with_the_facts_errors_at_once(tmp_path: Path) -> None:
    """Every error in one run: the unknown rule set was said only once the facts were right."""
    facts = tmp_path / "facts.yaml"
    facts.write_text("party: {clasification: VIP}\n", encoding="utf-8")
    result = invoke("explain", str(EXAMPLES / "ppv"), str(facts), "-r", "ppv-normall")
    assert result.exit_code == 1
    assert "--rule-set: no rule set with id 'ppv-normall' (did you mean 'ppv-normal'?)" in result.stderr
    assert "unknown fact attribute 'party.clasification'" in result.stderr
    assert "2 errors: nothing was decided" in result.stderr


def test_explain_with_facts_that_are_not_a_mapping_exits_1(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text("- party\n- usage\n", encoding="utf-8")
    result = invoke("explain", str(EXAMPLES / "ppv"), str(facts), "-r", "ppv-normal")
    assert result.exit_code == 1
    assert "the facts file must hold a mapping" in result.stderr


def test_explain_before_any_version_is_in_force_exits_1(tmp_path: Path, night_movie: Path) -> None:
    rules = tmp_path / "project"
    rules.mkdir()
    (rules / "rules.yaml").write_text("ruleSets:\n  - {id: later, kind: splitBilling, default: me, "
                                      "validFor: {start: 2030-01-01}}\n", encoding="utf-8")
    result = invoke("explain", str(rules), str(night_movie), "-r", "later", "--as-of", "2026-06-01")
    assert result.exit_code == 1
    assert result.stderr.strip() == "cannot decide: no version of rule set 'later' is in force at 2026-06-01T00:00:00Z"


# --- bssrules schema rules -----------------------------------------------------------------


@pytest.fixture(scope="module")
def printed_schema() -> dict:
    result = CliRunner().invoke(app, ["schema", "rules"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_schema_rules_prints_a_valid_draft_2020_12_schema(printed_schema: dict) -> None:
    Draft202012Validator.check_schema(printed_schema)
    assert printed_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed_schema["properties"]["ruleSets"]["items"]["properties"]["kind"]["enum"] == [
        "eligibility", "compatibility", "usage", "splitBilling", "sla", "discount", "routing", "settlement"]


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_the_printed_schema_accepts_every_example_rules_file(printed_schema: dict, path: Path) -> None:
    doc, problems = parse_file(path)
    assert problems == [] and doc is not None
    validator = Draft202012Validator(printed_schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc.data)]
    assert errors == []


def test_the_example_rules_files_are_all_covered() -> None:
    assert {p.parent.parent.name for p in RULE_FILES} == {"devices", "connected_car", "ppv", "roaming", "allowances"} and len(RULE_FILES) == 11


@pytest.mark.parametrize("data, where", [
    ({"ruleSets": [{"id": "x", "kind": "eligibilty", "rules": []}]}, ["ruleSets", 0, "kind"]),
    ({"ruleSets": [{"id": "x", "kind": "usage", "rules": [{"id": "r", "rate": {"amount": 1, "curency": "EUR"}}]}]},
     ["ruleSets", 0, "rules", 0, "rate"]),
    ({"ruleSets": [{"id": "x", "kind": "sla", "rules": [{"id": "r", "metric": "m", "when": {}, "severity": "bad"}]}]},
     ["ruleSets", 0, "rules", 0, "severity"]),
    ({"rulesets": []}, []),
    ({"tests": [{"name": "t", "ruleSet": "x"}]}, ["tests", 0]),
], ids=["kind", "field", "severity", "section", "expect"])
def test_the_printed_schema_rejects_a_broken_rules_file(printed_schema: dict, data: dict, where: list) -> None:
    errors = list(Draft202012Validator(printed_schema).iter_errors(data))
    assert errors and any(list(e.absolute_path)[:len(where)] == where for e in errors), [e.message for e in errors]


def test_the_shipped_rules_schema_is_the_generated_one(printed_schema: dict) -> None:
    shipped = json.loads((ROOT / "bssrules" / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert shipped == generate_rules_schema()
    assert printed_schema == shipped


def test_schema_of_an_unknown_name_exits_2() -> None:
    result = invoke("schema", "rule")
    assert result.exit_code == 2
    assert "unknown schema 'rule'; available: catalog, rules" in result.stderr
