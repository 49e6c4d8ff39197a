"""Any test folders collect together (``pytest tests/unit/configurator tests/api`` failed).

The test folders are no packages (pytest's rootdir-less default): a folder's modules are
imported by their bare names, with the folder on ``sys.path``, and each ``conftest.py`` as
``conftest``, the one loaded last. So a test module must not import ``conftest`` by that name
(it gets whichever folder's conftest was loaded last: tests/api's, given after it), and the
modules that are imported by bare name must have names of their own across tests/."""
from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def _modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_test_module_imports_conftest_by_its_bare_name() -> None:
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{path.relative_to(ROOT)}:{node.lineno}" for name in names if name == "conftest"]
    assert not found, f"`import conftest` / `from conftest import` (the wrong folder's, collected with others): {found}"


def test_modules_imported_by_bare_name_have_names_of_their_own() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in _modules():
        if path.name not in ("conftest.py", "__init__.py") and not (path.parent / "__init__.py").exists():
            by_name[path.stem].append(str(path.relative_to(ROOT)))
    assert not {name: paths for name, paths in by_name.items() if len(paths) > 1}


def _conftest_folders() -> list[str]:
    return sorted(str(p.parent.relative_to(ROOT)) for p in TESTS.rglob("conftest.py") if p.parent != TESTS)


# a folder collected with another folder's conftest.py loaded after its own (given after it):
# the way `pytest tests/unit/configurator tests/api` failed; tests/api itself is slow to collect
@pytest.mark.parametrize(("folder", "other"), [(f, o) for f in ("tests/unit/configurator", "tests/unit/rules")
                                               for o in _conftest_folders() if o != f])
def test_a_folder_collects_with_another_folders_conftest_loaded_after_its_own(folder: str, other: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", folder,
                           f"{other}/conftest.py"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
