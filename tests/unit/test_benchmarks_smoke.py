"""The benchmark command runs end to end in --quick mode and prints its figures.

Only the shape of the output is checked, never a time value: the figures depend on the machine.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,]+(?:\.\d+)?"


def test_catalog_benchmark_quick_prints_its_figures() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BSSRULES_BENCH_POSTGRES_URL", "BSSRULES_DATABASE_URL")}
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "catalog", "--quick"], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    output = result.stdout
    assert result.returncode == 0, f"exit {result.returncode}\n{output}\n{result.stderr}"

    assert re.search(rf"Python 3\.\d+\.\d+ .*\d+ cores", output), output
    assert re.search(rf"^catalog: {NUMBER} product offerings, {NUMBER} entities in \d+ YAML files", output, re.M)
    for phase in (r"generate \+ dump YAML \(catalog\.dump\)", r"load_catalog: parse \+ schema \+ checks"):
        assert re.search(rf"^{phase}\s+-\s+{NUMBER}\s+{NUMBER}$", output, re.M), (phase, output)
    for phase in (r"services\.load_catalog: first load", r"services\.load_catalog: re-load \(no change\)"):
        assert re.search(rf"^{phase}\s+SQLite [\d.]+ file\s+{NUMBER}\s+{NUMBER}$", output, re.M), (phase, output)
    for request in (r"GET productOffering/\{id\}", r"GET productOffering\?limit=20&offset=<random>",
                    r"GET productOffering\?lifecycleStatus=Active&category\.id=<id>&limit=20"):
        # request, n, p50, p99, mean, req/s, items; and no "(N errors)" after them
        figures = r"\s+".join([r"\d+"] + [NUMBER] * 5)
        assert re.search(rf"^{request}\s+{figures}$", output, re.M), (request, output)
    assert re.search(r"^total: [\d.]+ s$", output, re.M), output
    assert "errors)" not in output and "FAILED" not in output, output
