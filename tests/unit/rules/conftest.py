"""Shared helpers for the rule language tests: example catalogs as texts, a project loader
over in-memory texts, and the diagnostics of a broken rules file."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

import pytest

from bssrules.errors import Diagnostic, InvalidSource
from bssrules.rules.project import Project, load_project_texts

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
UTC = dt.timezone.utc


def catalog_texts(example: str) -> dict[str, str]:
    """The catalog files of an example, by name ("catalog/<file>")."""
    folder = EXAMPLES / example / "catalog"
    return {f"catalog/{p.name}": p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}


def example_texts(example: str) -> dict[str, str]:
    """Every file of an example (catalog and rules), by its path inside the example."""
    folder = EXAMPLES / example
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.yaml"))}


LoadRules = Callable[..., Project]
RuleDiagnostics = Callable[..., list[Diagnostic]]


@pytest.fixture
def load_rules() -> LoadRules:
    """``load_rules(text, catalog="devices")``: the project of one rules file (``rules.yaml``)
    beside an example catalog (``catalog=None``: no catalog at all)."""

    def load(text: str, catalog: str | None = "devices", **more: str) -> Project:
        texts = dict(catalog_texts(catalog)) if catalog else {}
        texts["rules.yaml"] = text
        texts.update(more)
        return load_project_texts(texts)

    return load


@pytest.fixture
def rule_diagnostics(load_rules: LoadRules) -> RuleDiagnostics:
    """``rule_diagnostics(text, catalog="devices")``: every diagnostic of a project that must not load."""

    def diagnostics(text: str, catalog: str | None = "devices", **more: str) -> list[Diagnostic]:
        with pytest.raises(InvalidSource) as caught:
            load_rules(text, catalog, **more)
        return caught.value.diagnostics

    return diagnostics


@pytest.fixture
def example_project() -> Callable[[str], Project]:
    """``example_project("ppv")``: an example folder (catalog and rules) loaded from its texts."""
    return lambda example: load_project_texts(example_texts(example))
