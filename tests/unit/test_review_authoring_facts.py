"""An unknown fact attribute close to no known one ('basket', 'party.loyaltyTier') is said
with what may be written instead: the facts, or the attributes of that fact — the author
otherwise has only the docs to guess from."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.rules.testing import given_findings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_an_unknown_fact_close_to_none_lists_the_facts() -> None:
    [(path, message, hint)] = given_findings({"basket": {"items": []}})
    assert path == ("given", "basket") and hint is None
    assert message.startswith("unknown fact attribute 'basket'; the facts are: accumulated, caller, channel, ")
    assert ", party, " in message and message.endswith(", usage")


def test_an_unknown_attribute_of_a_known_fact_lists_its_attributes() -> None:
    [(_, message, hint)] = given_findings({"party": {"zzzzzzzz": "GOLD"}})
    assert hint is None
    assert message == ("unknown fact attribute 'party.zzzzzzzz'; party has: age, classification, country, id, "
                       "isCustomer, segment, type")


def test_a_close_one_is_still_said_as_a_suggestion_alone(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text("party: {clasification: GOLD}\nbasket: {}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", str(EXAMPLES / "ppv"), str(facts), "-r", "ppv-vip"])
    assert result.exit_code == 1
    assert f"{facts}:1:24: unknown fact attribute 'party.clasification' (did you mean 'party.classification'?)" \
        in result.output
    assert f"{facts}:2:1: unknown fact attribute 'basket'; the facts are: " in result.output
