"""The core and the use cases are clean under ``mypy --strict`` (pyproject.toml [tool.mypy]).

Part of ``make test`` so that a signature that lies fails the suite, not a later reader.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict_passes_on_the_core_and_the_use_cases() -> None:
    # the files come from [tool.mypy] files; the cache stays out of the tree's way
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Success" in result.stdout, result.stdout
