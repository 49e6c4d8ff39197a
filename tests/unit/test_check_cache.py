"""The check cache (issue 15, item 8): what each file says on its own is kept beside the
project, keyed by content and by this bssrules; the checks across files are always made
again; a damaged, stale or foreign entry is never trusted."""
from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.rules import check_cache
from bssrules.rules.check_cache import CACHE_FOLDER, CheckCache, content_key
from bssrules.rules.project import RESULT_TYPES, check_project

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the devices example (catalog and rules), checked from its parent folder."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLES / "devices", tmp_path / "project", ignore=shutil.ignore_patterns(CACHE_FOLDER))
    return Path("project")


def entries(folder: Path) -> list[Path]:
    return sorted((folder / CACHE_FOLDER).glob("*.check"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_second_check_takes_every_file_from_the_cache_and_says_the_same(project: Path) -> None:
    first = check_project(project)
    files = len(list(project.rglob("*.yaml")))
    assert (first.files, first.from_cache) == (files, 0)
    assert len(entries(project)) == files
    assert (project / CACHE_FOLDER / ".gitignore").read_text().splitlines()[-1] == "*"
    again = check_project(project)
    assert (again.files, again.from_cache) == (files, files)
    assert (again.diagnostics, again.entities, again.rule_sets, again.tests) == (
        first.diagnostics, first.entities, first.rule_sets, first.tests)


def test_only_the_changed_file_is_checked_again_and_the_others_see_the_change(project: Path) -> None:
    check_project(project)
    # the category renamed in products.yaml: offerings.yaml (from the cache) now refers to nothing
    edit(project / "catalog" / "products.yaml", "  - {id: devices, name: Devices}", "  - {id: handsets, name: Devices}")
    result = check_project(project)
    assert result.from_cache == result.files - 1
    assert [(d.file, d.line, d.column, d.message) for d in result.errors] == [
        ("project/catalog/offerings.yaml", line, 18, "unknown category 'devices'") for line in (25, 33, 43, 53)] + [
        ("project/catalog/products.yaml", 41, 26, "unknown category 'devices'")]
    assert result.diagnostics == check_project(project, cache=False).diagnostics


def test_a_cached_file_keeps_its_own_errors_and_names_them_as_seen_from_here(project: Path, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    edit(project / "catalog" / "offerings.yaml", "    lifecycleStatus: Retired", "    lifecycleStatus: Retird")
    first = check_project(project)
    assert [str(d).split(":")[0] for d in first.errors] == ["project/catalog/offerings.yaml"]
    monkeypatch.chdir(tmp_path / "project")
    again = check_project(Path("."))
    assert again.from_cache == again.files
    assert [(d.file, d.line, d.column, d.message) for d in again.errors] == [
        ("catalog/offerings.yaml", d.line, d.column, d.message) for d in first.errors]


def test_no_cache_neither_reads_nor_writes_the_cache(project: Path) -> None:
    result = check_project(project, cache=False)
    assert result.from_cache == 0 and not (project / CACHE_FOLDER).exists()
    assert CliRunner().invoke(app, ["check", "--no-cache", str(project)]).exit_code == 0
    assert not (project / CACHE_FOLDER).exists()


def test_check_on_the_command_line_uses_the_cache(project: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["check", str(project)])
    assert first.exit_code == 0 and entries(project)
    again = runner.invoke(app, ["check", str(project)])
    assert again.stdout == first.stdout and again.exit_code == 0


def test_entries_of_contents_no_longer_in_the_project_are_removed(project: Path) -> None:
    check_project(project)
    before = {p.name for p in entries(project)}
    (project / "rules" / "discounts.yaml").unlink()
    check_project(project)
    after = {p.name for p in entries(project)}
    assert after < before and len(before - after) == 1


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "empty"])
def test_a_damaged_entry_is_ignored_and_written_again(project: Path, damage: str) -> None:
    clean = check_project(project, cache=False)
    check_project(project)
    for entry in entries(project):
        data = entry.read_bytes()
        entry.write_bytes({"truncated": data[:len(data) // 2], "flipped": data[:-5] + bytes([data[-5] ^ 1]) + data[-4:],
                           "garbage": os.urandom(200), "empty": b""}[damage])
    result = check_project(project)
    assert result.from_cache == 0 and result.diagnostics == clean.diagnostics
    assert check_project(project).from_cache == result.files  # written again


def test_an_entry_of_another_bssrules_is_stale(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_project(project)
    monkeypatch.setattr(check_cache, "fingerprint", lambda: b"0" * 64)
    assert check_project(project).from_cache == 0


def test_the_fingerprint_covers_the_code_of_the_checks_and_the_schemas() -> None:
    check_cache.fingerprint.cache_clear()
    assert len(check_cache.fingerprint()) == 64
    package = Path(check_cache.__file__).parents[1]
    for name in ("catalog/loader.py", "rules/lint.py", "yaml_source.py", "schema_errors.py",
                 "schemas/catalog.schema.json"):
        assert (package / name).is_file(), name
    assert set(check_cache._CHECK_CODE) >= {"catalog", "rules", "schemas", "yaml_source.py", "schema_errors.py"}


def test_an_entry_that_would_run_code_is_refused(project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    check_project(project)

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps(Exploit())
    cache = CheckCache(project, RESULT_TYPES)
    for entry in entries(project):
        key = entry.name.removesuffix(".check")
        head = entry.read_bytes().split(b"\n", 3)  # magic, fingerprint, seal, payload
        # even sealed with this machine's key (as if written here), the entry runs nothing
        entry.write_bytes(b"\n".join(head[:2] + [check_cache._seal(payload) or b"", payload]))
        assert cache.get(key) is None
    assert check_project(project).from_cache == 0
    assert not marker.exists()


def test_an_entry_written_elsewhere_is_not_trusted(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_project(project)
    monkeypatch.setattr(check_cache, "_key", lambda: b"k" * 32)  # another machine's key
    assert check_project(project).from_cache == 0


def test_without_a_key_nothing_is_cached(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check_cache, "_key", lambda: None)
    assert check_project(project).errors == [] and not entries(project)


def test_a_folder_that_cannot_be_written_is_checked_all_the_same(project: Path) -> None:
    (project / CACHE_FOLDER).write_text("not a folder")  # where the cache would go
    result = check_project(project)
    assert result.errors == [] and result.from_cache == 0


def test_the_key_of_an_entry_is_the_content_of_its_file() -> None:
    assert content_key(b"a: 1\n") == content_key(b"a: 1\n") != content_key(b"a: 2\n")


def test_a_large_check_in_worker_processes_says_what_one_process_says(tmp_path: Path) -> None:
    # in a fresh interpreter: worker processes are forked only from a process with no other thread
    shutil.copytree(EXAMPLES / "connected_car", tmp_path / "project", ignore=shutil.ignore_patterns(CACHE_FOLDER))
    edit(tmp_path / "project" / "catalog" / "offerings.yaml", "productSpecification: split-billing",
         "productSpecification: split-biling")
    script = (
        "import sys\n"
        "from bssrules.rules import project as p\n"
        "alone = [str(d) for d in p.check_project(sys.argv[1], cache=False).diagnostics]\n"
        "p.PARALLEL_FROM_BYTES = 0\n"
        "seen = []\n"
        "original = p._Run._check_in_processes\n"
        "p._Run._check_in_processes = lambda self, todo: (seen.append(len(todo)), original(self, todo))[1]\n"
        "together = [str(d) for d in p.check_project(sys.argv[1], cache=False).diagnostics]\n"
        "import resource\n"
        "assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime > 0, 'no worker process ran'\n"
        "assert seen and alone == together and alone, (seen, alone, together)\n"
        "print(len(together))\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "project")], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
