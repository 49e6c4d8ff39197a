"""The rating benchmark runs end to end on a tiny file and prints its figures.

Only the shape of the output is checked, never a time value: the figures depend on the machine.
"""
from __future__ import annotations

import re

import pytest

from benchmarks import rating_bench

NUMBER = r"[\d,]+(?:\.\d+)?"


def test_the_rating_benchmark_rates_a_tiny_file_and_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    sizes = rating_bench.Sizes(records=3_000, subscribers=40, chunk_size=1_000, twice=False)
    rows = rating_bench.run_sizes(sizes, isolated=False)  # no second interpreter: a few seconds
    output = capsys.readouterr().out

    assert len(rows) == 1 and rows[0]["records"] == 3_000
    assert re.search(rf"^usage file: 3,000 records .* \d+ partitions of about 1,000 records$", output, re.M), output
    assert re.search(rf"^rated: {NUMBER}; rejected: .*; by the reference path: 0; totals: EUR {NUMBER}$", output,
                     re.M), output
    for stage in ("read and partition", "order", "conditions", "tiers", "split decisions", "scan", "assemble",
                  r"write \(in the background\)"):
        assert re.search(rf"^{stage}\s+{NUMBER}\s+{NUMBER}%$", output, re.M), (stage, output)
    assert re.search(rf"^Parquet -> Parquet: 3,000 records in {NUMBER} s = {NUMBER} records/s \(target "
                     rf"1,000,000/s: (met|MISSED)\); peak RSS {NUMBER} MB \(target 1,024 MB: (met|MISSED)\)$",
                     output, re.M), output
    # the floor is measured in the same run, on the same file, and the ratio printed
    assert re.search(rf"^floor \(polars: read, price, sort by subscriber and time, running total per subscriber, "
                     rf"write Parquet\): {NUMBER} s = {NUMBER} records/s, {NUMBER} per CPU-second, peak RSS "
                     rf"{NUMBER} MB$", output, re.M), output
    assert re.search(r"^bssrules / floor: \d+% \(target 60%: (met|MISSED)\); per CPU-second: \d+% ", output,
                     re.M), output
    # what reading and writing alone cost, beside the floor (no target)
    assert re.search(rf"^reading the usage and writing the rated file's rows alone, nothing computed \(no target: "
                     rf"the floor writes 9 columns, the rated file 25\): {NUMBER} s = {NUMBER} records/s, {NUMBER} s "
                     rf"of CPU — \d+% of the floor's time, \d+% of rating's CPU$", output, re.M), output
    assert re.search(rf"^ +3,000 +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER} +\d+% +\d+% +{NUMBER} MB$", output,
                     re.M), output
    assert 0 < rows[0]["ratio"] and rows[0]["floor_per_s"] > 0
