"""Shared fixtures of the configurator tests: the three example projects, the inline home
catalog of basket_catalogs.py (with and without its rules) and a shortcut to validate a
basket given as plain JSON-like data."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from bssrules.configurator.validate import ValidationResult, validate_basket
from bssrules.rules.project import Project, load_project, load_project_texts

from basket_catalogs import EXAMPLES, HOME_CATALOG, HOME_RULES, basket

Validate = Callable[..., ValidationResult]


@pytest.fixture(scope="session")
def devices() -> Project:
    return load_project(EXAMPLES / "devices")


@pytest.fixture(scope="session")
def connected_car() -> Project:
    return load_project(EXAMPLES / "connected_car")


@pytest.fixture(scope="session")
def ppv() -> Project:
    return load_project(EXAMPLES / "ppv")


@pytest.fixture(scope="session")
def home() -> Project:
    """The inline home catalog without any rule set."""
    return load_project_texts({"catalog.yaml": HOME_CATALOG})


@pytest.fixture(scope="session")
def home_with_rules() -> Project:
    """The inline home catalog with its eligibility, compatibility and split billing rules."""
    return load_project_texts({"catalog.yaml": HOME_CATALOG, "rules.yaml": HOME_RULES})


@pytest.fixture(scope="session")
def validate() -> Validate:
    """``validate(project, data, explain=True)``: validate a basket (given as data) against
    the project's catalog and rules."""

    def run(project: Project, data: dict[str, Any], explain: bool = True) -> ValidationResult:
        return validate_basket(basket(data), project.catalog, project.rules, explain=explain)

    return run
