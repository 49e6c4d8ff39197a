"""A Dask worker keeps the rule books of the projects it rated, by their texts' digest, so that
each partition does not load the project again; a long-lived worker that rates many projects (or
many versions of one) kept every one for its lifetime, and grew. It keeps the latest few."""
from __future__ import annotations

import pytest

pytest.importorskip("distributed")

from bssrules.pricing import bulk_dask  # noqa: E402

RULES = """\
ruleSets:
  - id: u{n}
    kind: usage
    rules:
      - id: standard
        rate: {{amount: 1.00, currency: EUR, per: min}}
"""


def test_a_worker_keeps_the_latest_rule_books_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_dask, "_BOOKS", {})
    texts = [{"rules.yaml": RULES.format(n=n)} for n in range(bulk_dask._BOOKS_KEPT + 3)]
    digests = [bulk_dask._digest(t) for t in texts]
    first = bulk_dask._book(texts[0], digests[0])
    for t, d in zip(texts[1:], digests[1:]):
        bulk_dask._book(t, d)
        assert bulk_dask._book(texts[0], digests[0]) is first  # used again: kept, and the latest now
    assert len(bulk_dask._BOOKS) == bulk_dask._BOOKS_KEPT
    assert digests[0] in bulk_dask._BOOKS and digests[1] not in bulk_dask._BOOKS
    assert list(bulk_dask._BOOKS)[-1] == digests[0]
