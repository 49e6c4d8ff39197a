"""The subscribers file's payer check looks only at the rows where an account may be blank
(:func:`bssrules.pricing.bulk_read._rows_with_blank_accounts`): the problems it reports are
those of looking at every row, for every kind of blank Python's ``str.strip`` removes."""
from __future__ import annotations

import polars as pl
import pytest

from bssrules.pricing import bulk_read

PAYERS = pl.List(pl.Struct({"role": pl.Utf8, "account": pl.Utf8}))
MAP = pl.List(pl.Struct({"key": pl.Utf8, "value": pl.Utf8}))
SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]


def _every_row(raw: pl.DataFrame, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    with monkeypatch.context() as patch:
        patch.setattr(bulk_read, "_rows_with_blank_accounts", lambda column: None)
        return list(bulk_read._payer_problems(raw))


@pytest.mark.parametrize("dtype, role, account", [(PAYERS, "role", "account"), (MAP, "key", "value")])
def test_the_rows_looked_at_give_the_problems_of_every_row(monkeypatch: pytest.MonkeyPatch, dtype: pl.DataType,
                                                           role: str, account: str) -> None:
    values = [[{role: "payer", account: "BA-1"}], None, [], [{role: "payer", account: None}],
              [{role: "payer", account: "BA-2 "}, {role: "employer", account: ""}]]
    values += [[{role: "payer", account: "BA-3"}, {role: "employer", account: space * 2}] for space in SPACES]
    raw = pl.DataFrame({"id": [f"s{i}" for i in range(len(values))], "payers": pl.Series(values, dtype=dtype)})
    problems = list(bulk_read._payer_problems(raw))
    assert problems == _every_row(raw, monkeypatch)
    assert [row for row, _ in problems] == [4] + list(range(5, 5 + len(SPACES)))


def test_a_column_of_json_texts_is_looked_at_row_by_row() -> None:
    assert bulk_read._rows_with_blank_accounts(pl.Series(['{"payer": " "}'])) is None
