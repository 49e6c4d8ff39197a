"""A project's YAML files are found whatever the case of their extension: ``rules/usage.YAML``
or ``catalog.Yml`` (as Windows tools and some editors save them) was passed over without a
word — its rule sets or offerings missing from the project, ``bssrules check`` all green, and
a folder holding only such files said to have "no .yaml or .yml file". They are read as the
lower-case ones are (the rate command reads its data files' extensions in any case too).
Other files (``.yaml.bak``, ``.json``) and hidden folders are still passed over.

And a rule set written with ``rules: []`` is refused as every empty list the format requires
is, at the line and column of its ``rules`` key, naming its path."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bssrules.catalog.loader import load_catalog
from bssrules.errors import InvalidSource
from bssrules.rules.project import check_project, load_project, load_project_texts
from bssrules.yaml_source import yaml_files

ROAMING = Path(__file__).resolve().parents[2] / "examples" / "roaming"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "roaming"
    shutil.copytree(ROAMING, folder)
    return folder


def test_yaml_files_are_found_whatever_the_case_of_their_extension(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.YAML", "c.Yml", "d.yml", "e.yaml.bak", "f.json", "g.YAMLX", ".hidden/h.YAML"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    assert [p.name for p in yaml_files(tmp_path)] == ["a.yaml", "b.YAML", "c.Yml", "d.yml"]


@pytest.mark.parametrize("suffix", [".YAML", ".YML", ".Yaml"])
def test_a_rules_file_with_an_upper_case_extension_is_loaded(project: Path, suffix: str) -> None:
    loaded = load_project(project).rules
    (project / "rules" / "usage.yaml").rename(project / "rules" / f"usage{suffix}")
    renamed = load_project(project)
    assert renamed.rules.versions.keys() == loaded.versions.keys() and renamed.rules.versions
    assert str(project / "rules" / f"usage{suffix}") in renamed.files


def test_a_catalog_file_with_an_upper_case_extension_is_loaded_and_checked(project: Path) -> None:
    expected = load_catalog(project / "catalog")
    (project / "catalog" / "catalog.yaml").rename(project / "catalog" / "catalog.YML")
    renamed = load_catalog(project / "catalog")  # (a folder of .YML alone was "empty")
    assert renamed.entities == expected.entities and len(renamed) > 0
    assert {o.file for o in renamed.origins.values()} == {str(project / "catalog" / "catalog.YML")}
    assert load_project(project).catalog.entities == expected.entities
    text = (project / "catalog" / "catalog.YML").read_text()
    (project / "catalog" / "catalog.YML").write_text(text.replace("currency: EUR", "currency: EURO", 1))
    assert check_project(project, cache=False).errors  # its errors are found, not passed over


def test_an_empty_rules_list_is_refused_at_its_key() -> None:
    with pytest.raises(InvalidSource) as raised:
        load_project_texts({"rules.yaml": "ruleSets:\n  - id: a\n    kind: usage\n    rules: []\n"})
    assert [str(d) for d in raised.value.errors] == [
        "rules.yaml:4:5: expected a non-empty list, got [] [at $.ruleSets[0].rules]"]
    with pytest.raises(InvalidSource) as raised:
        load_project_texts({"rules.yaml": "ruleSets: [{id: a, kind: eligibility, rules: []}]\n"})
    assert [(d.line, d.column, d.path) for d in raised.value.errors] == [(1, 39, ("ruleSets", 0, "rules"))]
