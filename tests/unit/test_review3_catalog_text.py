"""Text no store keeps (NUL, a lone surrogate) is an error where it is written, in our words."""
from __future__ import annotations

import pytest

from bssrules.catalog.loader import check_catalog_documents, load_catalog_text
from bssrules.errors import InvalidSource
from bssrules.rules.loader import check_rules_file
from bssrules.yaml_source import parse_text


def _errors(text: str) -> list[str]:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(text, "c.yaml")
    return [str(d) for d in caught.value.diagnostics]


def test_a_nul_in_a_name_is_an_error_at_the_name() -> None:
    assert _errors('categories: [{id: ok3, name: "A\\u0000B"}]\n') == [
        "c.yaml:1:30: the text 'A\\u0000B' holds the NUL character (U+0000) at position 1; text may not contain it "
        "[at $.categories[0].name]"]


def test_a_lone_surrogate_is_said_in_our_words_not_pydantic_s() -> None:
    shown = _errors('categories: [{id: ok3, name: x, description: "bad \\ud800 label"}]\n')
    assert len(shown) == 1, shown
    assert shown[0].startswith("c.yaml:1:46: the text 'bad \\ud800 label' holds a lone surrogate (U+D800) at "
                               "position 4, which is no character"), shown
    assert "unable to parse" not in shown[0] and "Input should" not in shown[0]


def test_bad_text_in_an_id_a_key_or_outside_the_entities_is_one_error_each_and_the_rest_loads() -> None:
    text = ('formatVersion: "1\\0"\n'
            'categories:\n'
            '  - {id: "o\\0k", name: x}\n'
            '  - {id: fine, name: x, "k\\0": 1}\n'
            '  - {id: good, name: Good}\n')
    doc, _ = parse_text(text, "c.yaml", located=True)
    assert doc is not None
    catalog, found = check_catalog_documents([doc])
    assert [(d.line, d.column, d.message.split(" holds")[0]) for d in found] == [
        (1, 16, "the text '1\\u0000'"), (3, 10, "the text 'o\\u0000k'"), (4, 25, "the text 'k\\u0000'")]
    assert [c.id for c in catalog.categories.values()] == ["good"]


def test_a_rule_s_label_with_a_lone_surrogate_is_said_in_our_words() -> None:
    text = ('ruleSets:\n'
            '  - id: movie-ordering\n'
            '    kind: eligibility\n'
            '    rules:\n'
            '      - id: r1\n'
            '        when: {inventory.activeOfferings: {contains: ppv-service}}\n'
            '        reason: {code: noPpv, label: "bad \\ud800 label"}\n')
    doc, _ = parse_text(text, "r.yaml", located=True)
    assert doc is not None
    shown = [str(d) for d in check_rules_file(doc)[0].diagnostics]
    assert shown == ["r.yaml:7:38: the text 'bad \\ud800 label' holds a lone surrogate (U+D800) at position 4, "
                     "which is no character; send text as valid Unicode [at $.ruleSets[0].rules[0].reason.label]"]


@pytest.mark.parametrize(("text", "where", "code"), [
    ('categories: [{id: a, name: "x\x00y"}]\n', "1:30", "U+0000"),
    ('categories:\n  - {id: a, name: x\x07y}\n', "2:20", "U+0007"),
    ('categories:\n  - {id: a, name: "x\ud800"}\n', "2:21", "U+D800"),
])
def test_a_character_yaml_does_not_allow_written_as_is_is_an_error_not_a_traceback(text: str, where: str,
                                                                                     code: str) -> None:
    for located in (True, False):
        doc, problems = parse_text(text, "c.yaml", located=located)
        assert doc is None and [str(p) for p in problems] == [
            f"c.yaml:{where}: YAML syntax error: the character {code} is not allowed in YAML text (write it as an "
            f"escape in a double-quoted string, or remove it)"]


def test_a_file_without_a_backslash_skips_the_walk_and_one_with_an_escape_is_walked() -> None:
    plain, _ = parse_text("categories: [{id: a, name: x}]\n", "c.yaml", located=True)
    escaped, _ = parse_text('categories: [{id: a, name: "x\\ty"}]\n', "c.yaml", located=True)
    assert plain is not None and escaped is not None
    assert not plain.may_hold_escapes and escaped.may_hold_escapes
    assert check_catalog_documents([escaped])[1] == []
