"""The catalog benchmark checks its project (catalog and rules) as ``bssrules check`` does:
cold, after one file changed, with nothing changed (issue 15, item 8). Only the shape of
the figures is checked here, never their values: they depend on the machine."""
from __future__ import annotations

from pathlib import Path

from benchmarks.catalog_bench import CHANGED_FILE, QUICK, measure_check, write_catalog, write_rules
from bssrules.rules.check_cache import CACHE_FOLDER


def test_the_benchmark_project_checks_clean_cold_and_warm(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    _, _, entities = write_catalog(folder, QUICK.offerings)
    assert write_rules(folder, QUICK) > 0
    original = (folder / CHANGED_FILE).read_text(encoding="utf-8")
    figures = measure_check(folder, runs=1)
    assert [label for label, _ in figures] == ["bssrules check: cold (no check cache)",
                                               "bssrules check: one file changed", "bssrules check: nothing changed"]
    for _, run in figures:
        assert run.wall_s > 0 and run.cpu_s > 0
        assert run.output == (f"ok {folder}: {entities} catalog entities ({QUICK.offerings} offerings, "
                              f"{run.output.split('offerings, ')[1].split(' prices')[0]} prices), 2 rule sets, "
                              "0 rule tests")
    assert (folder / CHANGED_FILE).read_text(encoding="utf-8") == original  # put back as it was
    assert any((folder / CACHE_FOLDER).iterdir())
