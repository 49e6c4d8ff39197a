"""The core (rules, catalog, configurator, pricing) imports neither FastAPI nor SQLAlchemy."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "bssrules"
CORE = ["rules", "catalog", "configurator", "pricing", "money.py", "errors.py", "yaml_source.py",
        "schema_errors.py", "jsontext.py"]
FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "alembic", "bssrules.store", "bssrules.api", "uvicorn")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _core_files() -> list[Path]:
    files = []
    for entry in CORE:
        path = PACKAGE / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_core_module_imports_no_web_or_database_library(path: Path) -> None:
    bad = [name for name in _imports(path) if name.split(".")[0] in FORBIDDEN or name.startswith(FORBIDDEN)]
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}: keep the core free of the edges"


def test_the_import_linter_contract_holds() -> None:
    """The same rule, transitively, with import-linter (pyproject.toml [tool.importlinter])."""
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                            capture_output=True, text=True, cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_core_does_not_load_fastapi_or_sqlalchemy() -> None:
    code = ("import sys, bssrules, bssrules.catalog, bssrules.rules, bssrules.configurator, bssrules.pricing; "
            "bad = [m for m in ('fastapi', 'sqlalchemy', 'starlette') if m in sys.modules]; "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
