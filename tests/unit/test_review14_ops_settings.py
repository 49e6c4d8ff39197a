"""A setting read when its module is imported — ``BSSRULES_DECISION_CACHE``, read with the
rules — that is wrong stops any command in one line, exit 2 (was: ``bssrules check``,
``test``, ``load`` … ended in a traceback of the import)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ppv"


def bssrules(*args: str, cache: str) -> subprocess.CompletedProcess[str]:
    # a process of its own: the setting is read once, when the rules are first imported
    env = {**os.environ, "BSSRULES_DECISION_CACHE": cache}
    return subprocess.run([sys.executable, "-m", "bssrules.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("command", [["check", str(EXAMPLE)], ["test", str(EXAMPLE)]])
def test_a_decision_cache_that_is_no_number_is_said_in_one_line(command: list[str]) -> None:
    done = bssrules(*command, cache="a lot")
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: BSSRULES_DECISION_CACHE must be a whole number of decisions (0: no cache), "
                                   "got 'a lot'")


def test_a_decision_cache_that_is_a_number_is_taken() -> None:
    done = bssrules("check", str(EXAMPLE), cache="100")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")
