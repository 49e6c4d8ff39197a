"""The start of a usage record read from its text, by the rules of the online path
(``POST /usage``: ``bssrules.catalog.types.zoned_instant``, which both call), so that a file and the API
accept the same texts and read them as the same instant.

The online rule: a text whose end is a time of day with its zone — ``T`` (or ``t``), hours
and minutes, maybe seconds and a fraction, then ``Z`` or ``±hh:mm`` / ``±hhmm`` — that
:func:`bssrules.catalog.types.parse_instant` (Python's ``datetime.fromisoformat``) reads, and
whose instant exists in UTC. ``2026-06-06T09:00+02:00`` is a start;
``2026-06-06 09:00:00+02:00`` (a space for the ``T``) is not.

Vectorised: the usual texts (``YYYY-MM-DDThh:mm[:ss[.ffffff]](Z|±hh:mm)``, with digits in
range) are read by polars at once; every other text — rare in mediation output — is read by
the online rule itself, one at a time, so that the two cannot differ
(``tests/property/test_bulk_starts_equal_online.py`` checks it on generated texts).
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from bssrules.catalog.types import zoned_instant

UTC = pl.Datetime("us", "UTC")
# texts both rules read alike: ASCII digits in range (polars would take a 60th second, an
# offset of 24 hours), years whose instant stays within 1..9999 in UTC, at most microseconds
_USUAL = (r"^([1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
          r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")


def usage_start(value: object) -> dt.datetime | None:
    """The online rule on one value (:func:`~bssrules.catalog.types.zoned_instant`): the
    instant in UTC, or None when it is no start."""
    parsed = zoned_instant(value)
    return None if parsed is None else parsed.astimezone(dt.timezone.utc)


def usage_starts(texts: pl.Series) -> pl.Series:
    """:func:`usage_start` of each text, as ``Datetime("us", "UTC")`` (null: no start)."""
    usual = texts.str.contains(_USUAL).fill_null(False)
    iso = texts.str.replace(r"Z$", "+00:00")
    starts = pl.select(pl.when(usual).then(iso.str.strptime(UTC, "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False))) \
        .to_series()
    no_seconds = usual & starts.is_null()  # hh:mm without seconds: few, read on their own
    if no_seconds.any():
        rows = no_seconds.arg_true()
        starts = starts.scatter(rows, iso.gather(rows).str.strptime(UTC, "%Y-%m-%dT%H:%M%:z", strict=False))
    others = (~usual & texts.is_not_null()).arg_true()
    if others.len():  # the rest by the online rule itself (a date in range that polars refused included)
        values = [usage_start(texts[row]) for row in others.to_list()]
        starts = starts.scatter(others, pl.Series(values, dtype=UTC))
    refused = usual & starts.is_null()  # in the usual form, but no date (30 February): the rule says
    if refused.any():
        rows = refused.arg_true()
        starts = starts.scatter(rows, pl.Series([usage_start(texts[r]) for r in rows.to_list()], dtype=UTC))
    return starts.alias(texts.name)


def usage_starts_expr(texts: pl.Expr) -> pl.Expr:
    """:func:`usage_starts` as an expression over a text column."""
    return texts.map_batches(usage_starts, return_dtype=UTC)


__all__ = ["usage_start", "usage_starts", "usage_starts_expr"]
