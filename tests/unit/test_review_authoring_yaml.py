"""A catalog or rules file whose aliases nest aliases ("billion laughs": a few hundred bytes
that stand for billions of values) is an error at once, not a check that never ends; a file
that uses anchors and aliases in the ordinary way reads as before."""
from __future__ import annotations

import threading

from bssrules.yaml_source import parse_text


def _laughs(levels: int) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + f"\nproductSpecifications:\n  - {{id: s, name: S, description: *a{levels - 1}}}\n"


def test_aliases_that_expand_exponentially_are_an_error_said_at_once() -> None:
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.append(parse_text(_laughs(9), "c.yaml")), daemon=True)
    reader.start()
    reader.join(timeout=20)
    assert found, "reading a file of a few hundred bytes did not end"
    doc, diagnostics = found[0]  # type: ignore[misc]
    assert doc is None
    assert [(d.file, d.line, d.code) for d in diagnostics] == [("c.yaml", 1, "yamlSyntax")]
    assert "aliases (*name) repeat this value too many times" in diagnostics[0].message


def test_ordinary_anchors_and_aliases_still_read() -> None:
    text = _laughs(3) + "".join(f"productOfferings{i}: [*a2, *a2]\n" for i in range(5))
    doc, diagnostics = parse_text(text, "c.yaml")
    assert diagnostics == [] and doc is not None
    assert len(doc.data["a2"]) == 10 and len(doc.data["a2"][0]) == 10
    assert doc.data["productSpecifications"][0]["description"] == doc.data["a2"]


def test_an_error_only_an_alias_makes_is_said_where_the_alias_is(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from bssrules.cli import app

    (tmp_path / "catalog.yaml").write_text("""\
productSpecifications:
  - &spec {id: d, name: D}
  # the same spec again, by mistake
  - *spec
  - {id: e, name: E}
productOfferings:
  - {id: o, name: O, productSpecification: d, channels: &web [web]}
  - {id: o2, name: O2, productSpecification: e, channels: [*web, *web]}
""", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    # the duplicate is the alias's doing (line 4), not the anchor's (line 2, where it is "first defined")
    assert lines[0] == (f"{tmp_path / 'catalog.yaml'}:4:5: duplicate productSpecification id 'd' "
                        f"(first defined at {tmp_path / 'catalog.yaml'}:2) [at $.productSpecifications[1].id]")
    # an alias as an item of a flow list: at its own '*', not at the list's key
    assert lines[1] == (f"{tmp_path / 'catalog.yaml'}:8:60: expected a string, got a list "
                        "[at $.productOfferings[1].channels[0]]"), lines
    assert lines[-1] == "2 errors", lines
