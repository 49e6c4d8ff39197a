"""An entry repeated with spaces around it ("speed " after "speed") is the same entry — the
catalog's model strips texts — and is said as repeated in the same run as the other errors,
at the second entry (a catalog manager's review: it came a run later, at the entity)."""
from __future__ import annotations

import pytest

from bssrules.catalog import load_catalog_text
from bssrules.errors import InvalidSource

CATALOG = """\
productSpecifications:
  - id: line
    name: Line
    characteristics:
      - {name: speed, valueType: string, values: [fast, slow]}
      - {name: "speed ", valueType: string}
productOfferings:
  - {id: o1, name: O1, productSpecification: linex, terms: [{name: t, duration: {amount: 1, units: month}, atEnd: end},
                                                           {name: " t", duration: {amount: 1, units: month}, atEnd: end}]}
"""


def test_a_repeat_written_with_spaces_is_said_at_once_at_the_second_entry() -> None:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text(CATALOG, "catalog.yaml")
    found = [f"{d.line}:{d.column}: {d.message}" for d in caught.value.diagnostics]
    assert "6:16: characteristic name listed more than once: speed (first at line 5, column 16)" in found
    assert "9:67: term listed more than once: t (first at line 8, column 68)" in found
    assert any("linex" in f for f in found)  # the offering's other error, in the same run
    assert len(found) == len(set(found))
