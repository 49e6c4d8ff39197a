"""Online rating's read gives only the buckets that can serve the usages read for (issue 12).

``bssrules_online_read`` gave every active bucket of a subscription, the allowance buckets
of every past month included (twelve rows a year per allowance, each read and parsed by
every usage). It now takes, per subscription, the earliest start among the usages it reads
for (``since``, aligned with ``subs``) and gives:

- the buckets whose validity has not ended before then (``valid_to`` null or ``>= since``):
  a bucket serves a usage only before its ``valid_to`` (rating checks it again), so none
  left out could serve one of these usages;
- of each allowance's buckets that ended before then, the newest (ids
  ``allowance:…:<YYYY-MM>``; the series is the id without ``:<YYYY-MM>``): a month's bucket
  made now carries over from the newest bucket before its month, and only from it.

A null ``since`` gives all of the subscription's active buckets, as before. The old function
is dropped (one argument more); no table changes. Nothing on SQLite (the same filter runs in
the worker: :mod:`bssrules.store.online`).

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import importlib

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_PREVIOUS = importlib.import_module("bssrules.store.migrations.versions.0010_online_read_partner")
_OLD_SIGNATURE = "bssrules_online_read(text[], text[], text[], text[], text[], text)"

_ARGUMENTS = "                                                a_period text[], partner text)"
_BUCKETS = "      FROM bucket AS b WHERE b.subscription = ANY(subs) AND b.status = 'active';\n"
for _part in (_ARGUMENTS, _BUCKETS):
    assert _part in _PREVIOUS.READ, _part

_SERVING = """      FROM (SELECT b.* FROM bucket AS b JOIN unnest(subs, since) AS x(sub, since_) ON b.subscription = x.sub
             WHERE b.status = 'active' AND (b.valid_to IS NULL OR x.since_ IS NULL OR b.valid_to >= x.since_)
            UNION ALL
            -- the newest of each allowance's buckets ended before: what a month's bucket carries over from
            (SELECT DISTINCT ON (b.subscription, left(b.id, -8)) b.*
               FROM bucket AS b JOIN unnest(subs, since) AS x(sub, since_) ON b.subscription = x.sub
              WHERE b.status = 'active' AND b.id LIKE 'allowance:%' AND b.valid_to < x.since_
              ORDER BY b.subscription, left(b.id, -8), b.id DESC)) AS b;
"""

READ = (_PREVIOUS.READ
        .replace(_ARGUMENTS, "                                                a_period text[], partner text, "
                             "since timestamptz[])")
        .replace(_BUCKETS, _SERVING))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS {_OLD_SIGNATURE}")
    op.execute(READ)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS bssrules_online_read(text[], text[], text[], text[], text[], text, "
               "timestamptz[])")
    op.execute(_PREVIOUS.READ)
