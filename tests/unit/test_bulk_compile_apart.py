"""`bssrules rate` after an install: the kernels compiled in a process of their own, so that
the compiler's memory is not held by the process that rates (its peak: 1,057 MB with it,
918 MB without, 5,000,000 records)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bssrules.pricing import bulk_warm


def test_an_empty_numba_cache_holds_no_kernel(tmp_path: Path) -> None:
    check = "from bssrules.pricing.bulk_warm import kernels_cached; print(kernels_cached())"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_cold_cache_is_filled_by_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[tuple[list[str], dict[str, str]]] = []

    def run(command: list[str], **keywords: Any) -> subprocess.CompletedProcess[str]:
        runs.append((command, keywords["env"]))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(bulk_warm, "kernels_cached", lambda: False)
    monkeypatch.setattr(subprocess, "run", run)
    said: list[bool] = []
    done = bulk_warm.compile_apart(lambda: said.append(True))
    assert done.compiled and done.seconds >= 0 and said == [True]
    [(command, env)] = runs
    assert command[0] == sys.executable and "warm_up()" in command[-1]
    here = str(Path(bulk_warm.__file__).resolve().parents[2])  # the child imports this bssrules
    assert env["PYTHONPATH"].split(os.pathsep)[0] == here


def test_a_warm_cache_or_a_failed_child_compiles_nothing_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[list[str]] = []

    def run(command: list[str], **keywords: Any) -> subprocess.CompletedProcess[str]:
        runs.append(command)
        return subprocess.CompletedProcess(command, 1)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(bulk_warm, "kernels_cached", lambda: True)
    assert not bulk_warm.compile_apart(lambda: None).compiled and runs == []
    monkeypatch.setattr(bulk_warm, "kernels_cached", lambda: False)
    assert not bulk_warm.compile_apart().compiled and len(runs) == 1  # compiled on first use, as before
