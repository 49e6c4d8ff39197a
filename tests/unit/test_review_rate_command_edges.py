"""``bssrules rate`` at its edges (a fresh user's review): a ``--state-out`` that cannot be a
folder is refused before anything is read (it was found after rating: "not rated: [Errno 17]
File exists" with the output written and the state lost); the summary's totals have
thousands separators as its counts do; a project without a usage rule set is said to reject
every record; ``bssrules explain`` with a facts file that is not there is a usage error, not
a traceback; the files the README's commands name exist."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from tests.unit.test_docs_agree_with_code import readme_command_lines
from tests.unit.test_rate_command import folder, kernels, rate  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("where", ["file", "under a file", "the output"])
def test_a_state_out_that_cannot_be_a_folder_is_refused_before_rating(folder: Path, where: str) -> None:  # noqa: F811
    (folder / "stfile").write_text("mine", encoding="utf-8")
    state = {"file": folder / "stfile", "under a file": folder / "stfile" / "state",
             "the output": folder / "rated.csv"}[where]
    result = rate(folder, "--state-out", str(state))
    assert result.exit_code == 2, result.output
    assert "--state-out" in result.output and "Errno" not in result.output
    assert not (folder / "rated.csv").exists()  # nothing rated, nothing written
    assert (folder / "stfile").read_text(encoding="utf-8") == "mine"


def test_a_state_out_folder_to_be_made_is_made(folder: Path) -> None:  # noqa: F811
    result = rate(folder, "--state-out", str(folder / "new" / "state"))
    assert result.exit_code == 0, result.output
    assert {p.name for p in (folder / "new" / "state").iterdir()} == {"buckets.jsonl", "accumulators.jsonl"}


def test_the_totals_have_thousands_separators(folder: Path) -> None:  # noqa: F811
    usage = "id,subscriber,service,start,volume,unit\n" + "".join(
        f"v{i},ann,data,2026-06-0{1 + i}T10:00:00Z,400,MB\n" for i in range(2))
    (folder / "usage.csv").write_text(usage, encoding="utf-8")
    (folder / "project" / "rules.yaml").write_text(
        (folder / "project" / "rules.yaml").read_text(encoding="utf-8").replace("amount: 0.01", "amount: 2.50"),
        encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 0, result.output
    assert "total EUR: 2,000.00" in result.output  # 800 MB at 2.50 EUR/MB


def test_a_project_without_a_usage_rule_set_is_said_to_reject_every_record(folder: Path) -> None:  # noqa: F811
    (folder / "project" / "rules.yaml").write_text("ruleSets: []\n", encoding="utf-8")
    result = rate(folder)
    assert result.exit_code == 0, result.output
    assert "has no usage rule set" in result.output and "rejected noApplicableRate: 4" in result.output


def test_explain_with_a_facts_file_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", str(ROOT / "examples" / "ppv"), str(tmp_path / "facts.yaml"),
                                      "-r", "ppv-vip"])
    assert result.exit_code == 2, result.output  # (a traceback exits 1)
    assert "does not exist" in result.output


def test_the_files_the_readme_commands_name_exist() -> None:
    named = [word for words in readme_command_lines() for word in words[1:] if word.startswith("examples/")]
    assert named and all((ROOT / word).exists() for word in named), [w for w in named if not (ROOT / w).exists()]
