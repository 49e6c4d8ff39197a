"""docs/bulk-rating.md is true: its examples are replayed in the order they are written.

In an empty folder holding a copy of examples/roaming and examples/allowances:

- a fenced block ``<lang> file=NAME`` is written to NAME;
- a ```python run block is executed there;
- each ``$ bssrules …`` line of a ```console block is run (the command line, in process)
  and what it prints (stdout and stderr) must be the lines that follow it, the time and
  records per second of the summary aside; a command whose expected output ends with
  ``wrote …`` must exit 0, any other must fail and write no ``--output``;
- a block ``csv output=NAME columns=a,b`` must be those columns of the CSV file NAME, and a
  block ``jsonl output=NAME`` exactly the lines of NAME.

Also: every option of ``bssrules rate`` is in the page's option table, and the page is
linked from the README.
"""
from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from bssrules.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "bulk-rating.md"
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_TIMING = re.compile(r"\(\d+\.\d+ s, [\d,]+ records/s\)")


def blocks() -> list[tuple[str, dict[str, str], str]]:
    """(language, attributes, text) of each fenced block of the page, in order."""
    found = []
    for match in _FENCE.finditer(DOC.read_text(encoding="utf-8")):
        words = match.group(1).split()
        language = words[0] if words else ""
        attributes = dict(w.split("=", 1) if "=" in w else (w, "") for w in words[1:])
        found.append((language, attributes, match.group(2)))
    return found


def _commands(text: str) -> list[tuple[list[str], list[str]]]:
    """(arguments after ``bssrules``, expected lines) of each ``$`` line of a console block."""
    commands: list[tuple[list[str], list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            words = shlex.split(line[2:])
            assert words[0] == "bssrules", line
            commands.append((words[1:], []))
        else:
            assert commands, f"output before any command: {line}"
            commands[-1][1].append(line)
    return commands


def _option(arguments: list[str], name: str) -> str | None:
    return arguments[arguments.index(name) + 1] if name in arguments else None


def test_the_examples_of_the_bulk_rating_page_are_true(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples" / "roaming", tmp_path / "examples" / "roaming")
    shutil.copytree(ROOT / "examples" / "allowances", tmp_path / "examples" / "allowances")
    monkeypatch.chdir(tmp_path)
    checked = {"file": 0, "run": 0, "command": 0, "output": 0}
    for language, attributes, text in blocks():
        if "file" in attributes:
            (tmp_path / attributes["file"]).write_text(text, encoding="utf-8")
            checked["file"] += 1
        elif language == "python" and "run" in attributes:
            exec(compile(text, str(DOC), "exec"), {})  # noqa: S102 - the page's own example
            checked["run"] += 1
        elif language == "console":
            for arguments, expected in _commands(text):
                output = _option(arguments, "--output")
                result = CliRunner().invoke(app, arguments)
                printed = _TIMING.sub("(… s, … records/s)", result.output).splitlines()
                assert printed == [_TIMING.sub("(… s, … records/s)", line) for line in expected], \
                    f"bssrules {shlex.join(arguments)}"
                if expected and expected[-1].startswith("wrote "):
                    assert result.exit_code == 0
                else:
                    assert result.exit_code != 0
                    assert output is None or not (tmp_path / output).exists(), "a refused run wrote its output"
                checked["command"] += 1
        elif "output" in attributes:
            path = tmp_path / attributes["output"]
            if language == "csv":
                frame = pl.read_csv(path, infer_schema=False).select(attributes["columns"].split(","))
                assert frame.write_csv() == text, attributes["output"]
            else:
                assert path.read_text(encoding="utf-8") == text, attributes["output"]
            checked["output"] += 1
    assert checked["file"] >= 5 and checked["run"] >= 1 and checked["command"] >= 4 and checked["output"] >= 3, checked


def test_the_page_lists_every_option_of_the_rate_command() -> None:
    import typer.main

    command = typer.main.get_command(app).commands["rate"]  # type: ignore[attr-defined]
    table = DOC.read_text(encoding="utf-8").split("## A first run")[0]
    missing = [o for p in command.params for o in (*p.opts, *p.secondary_opts)
               if o.startswith("--") and f"`{o}" not in table and o != "--help"]
    assert not missing, missing


def test_the_readme_links_the_bulk_rating_page() -> None:
    assert "(docs/bulk-rating.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
