"""``bssrules rate --output`` naming one of the files it reads is refused before anything is
read or written (exit 2, a message naming both): rating writes its output while it still reads
its inputs, so ``-o usage.csv -i usage.csv`` would overwrite the usage, unwarned. The same file
is found however it is written: ``./`` or ``..`` in the path, a symbolic link, a hard link.
Another output file rates as before."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bssrules.cli import app

RULES = """\
ruleSets:
  - id: mobile
    kind: usage
    rules:
      - id: data
        when: {usage.service: data}
        rate: {amount: 0.01, currency: EUR, per: MB}
"""
USAGE = "id,subscriber,service,start,volume,unit\nu1,ann,data,2026-06-01T10:00:00Z,600,MB\n"
SUBSCRIBERS = 'id,activeOfferings,payers\nann,data-plan,"{""payer"": ""BA-ANN""}"\n'
BUCKETS = '{"id": "b1", "subscriber": "ann", "unit": "MB", "remaining": 100}\n'
ACCUMULATORS = ""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "rules.yaml").write_text(RULES, encoding="utf-8")
    for name, text in (("usage.csv", USAGE), ("subscribers.csv", SUBSCRIBERS), ("buckets.jsonl", BUCKETS),
                       ("accumulators.jsonl", ACCUMULATORS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the paths below are written as a user types them
    return tmp_path


def _rate(output: str, *more: str, project: str = "project") -> Any:
    return CliRunner().invoke(app, ["rate", project, "-i", "usage.csv", "-s", "subscribers.csv", "-o", output,
                                    "--no-progress", *more])


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("output, more, option, named", [
    ("usage.csv", (), "--input", "usage.csv"),
    ("./usage.csv", (), "--input", "usage.csv"),
    ("project/../usage.csv", (), "--input", "usage.csv"),
    ("subscribers.csv", (), "--subscribers", "subscribers.csv"),
    ("buckets.jsonl", ("--buckets", "buckets.jsonl"), "--buckets", "buckets.jsonl"),
    ("./accumulators.jsonl", ("--accumulators", "accumulators.jsonl"), "--accumulators", "accumulators.jsonl"),
])
def test_an_output_that_is_an_input_is_refused_and_nothing_is_written(folder: Path, output: str, more: tuple[str, ...],
                                                                    option: str, named: str) -> None:
    before = _contents(folder)
    result = _rate(output, *more)
    assert result.exit_code == 2, result.output
    assert f"--output {Path(output)} is the {option} file {named}: rating would overwrite what it reads; " \
           "give another output file" in result.output
    assert _contents(folder) == before


def test_a_symbolic_or_hard_link_to_an_input_is_the_same_file(folder: Path) -> None:
    os.symlink(folder / "usage.csv", folder / "rated.csv")
    os.link(folder / "subscribers.csv", folder / "rated-too.csv")
    before = _contents(folder)
    for output, option in (("rated.csv", "--input"), ("rated-too.csv", "--subscribers")):
        result = _rate(output)
        assert result.exit_code == 2, result.output
        assert f"--output {output} is the {option} file" in result.output
    assert _contents(folder) == before


def test_the_clash_is_found_before_the_project_is_read(folder: Path) -> None:
    result = _rate("usage.csv", project="no-such-project")
    assert result.exit_code == 2, result.output
    assert "--output usage.csv is the --input file usage.csv" in result.output


def test_another_output_file_rates(folder: Path) -> None:
    result = _rate("rated.csv")
    assert result.exit_code == 0, result.output
    assert (folder / "rated.csv").read_text(encoding="utf-8").startswith("id,")
    assert (folder / "usage.csv").read_text(encoding="utf-8") == USAGE
