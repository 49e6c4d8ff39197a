"""The configurator benchmark runs end to end in --quick mode and prints its figures.

Only the shape of the output is checked, never a time value: the figures depend on the
machine (and whether a target is met is a figure too).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,]+(?:\.\d+)?"


def test_configurator_benchmark_quick_prints_its_figures() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BSSRULES_BENCH_POSTGRES_URL", "BSSRULES_DATABASE_URL")}
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "configurator", "--quick"], cwd=ROOT,
                            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    output = result.stdout
    assert result.returncode == 0, f"exit {result.returncode}\n{output}\n{result.stderr}"

    assert re.search(r"Python 3\.\d+\.\d+ .*\d+ cores", output), output
    assert re.search(rf"^project: {NUMBER} product offerings, {NUMBER} entities; {NUMBER} rules \({NUMBER} "
                     rf"eligibility, {NUMBER} compatibility, {NUMBER} split billing\); \d+ YAML files", output, re.M)
    assert re.search(rf"^baskets: {NUMBER} distinct of 20 items .* {NUMBER}% valid", output, re.M), output
    for phase in (r"generate \+ dump YAML \(catalog, rules\)", r"project\.load_project: .*",
                  r"make the baskets \(.*\)", r"services\.load_project into SQLite \(.*\)",
                  r"HTTP: parties, customers, accounts, inventory \(.*\)", r"HTTP: first check \(.*\)"):
        assert re.search(rf"^{phase}\s+{NUMBER}$", output, re.M), (phase, output)
    # validation, n, p50, p99, mean, per s, then the target (and no "(N errors)" after it)
    figures = r"\s+".join([r"\d+"] + [NUMBER] * 4)
    for line, target in ((r"in process: validate_basket\(explain=False\)", r"p99 < 1 ms: (met|MISSED)"),
                         (r"in process: validate_basket\(explain=True\), as the API", r"p99 < 2 ms: (met|MISSED)"),
                         (r"HTTP checkProductConfiguration: 1 client, sequential", r"p99 < 25 ms: (met|MISSED)"),
                         (r"HTTP checkProductConfiguration: \d+ client threads",
                          r">= 50% of the floor and p99 < 25 ms: (met|MISSED)"),
                         (r"JSON floor: 1 client, sequential", r"floor"),
                         (r"JSON floor: \d+ client threads", r"floor")):
        assert re.search(rf"^{line}\s+{figures}\s+{target}$", output, re.M), (line, output)
    for line in (r"in process: validate_basket\(explain=False\)", r"in process: validate_basket\(explain=True\), as the API"):
        assert re.search(rf"^{line}: CPU time of the validating thread p50 {NUMBER} ms, p99 {NUMBER} ms$", output, re.M)
    # the floor, measured in the same run, and bssrules' share of it
    assert re.search(rf"^JSON floor: FastAPI endpoint parsing the same bodies, answering {NUMBER} bytes", output, re.M)
    for name in (r"1 client, sequential", r"\d+ client threads"):
        assert re.search(rf"^ratio to the floor, {name}: {NUMBER}/s of {NUMBER}/s = {NUMBER}%$", output, re.M), output
    agreed = re.search(r"^HTTP answers agree with the in-process validation on (\d+) of (\d+) baskets$", output, re.M)
    assert agreed and agreed.group(1) == agreed.group(2) and int(agreed.group(2)) > 0, output
    assert re.search(r"^total: [\d.]+ s$", output, re.M), output
    assert "errors)" not in output and "FAILED" not in output, output
