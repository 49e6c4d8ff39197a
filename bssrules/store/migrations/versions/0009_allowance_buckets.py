"""Online rating's save inserts the allowance buckets a usage made (issue 15, item 1).

``bssrules_online_save`` gets a section ``n``: the allowance buckets of a month made by the
month's first usage of a product, inserted before the balances move (``ON CONFLICT DO
NOTHING``; one found already made raises ``BSMOV``: the usage is rated again and finds it).
The subscription is locked by the read, so two usages of one product never both make it.
No table changes: an allowance bucket is a row of ``bucket`` like any other. Nothing on SQLite.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import importlib

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_PREVIOUS = importlib.import_module("bssrules.store.migrations.versions.0008_online_functions")

_BALANCES = "    -- each balance moved from the value read, and only from it\n"
_NEW_BUCKETS = """    -- the allowance buckets made by these usages, where absent (else: rate again, and find them)
    INSERT INTO bucket (subscription, id, unit, remaining, scale, floor, floor_scale, precedence, usage_type,
                        valid_from, valid_to, status, version, created, last_update, partner_id, document)
    SELECT e->>0, e->>1, e->>2, (e->>3)::bigint, (e->>4)::smallint, (e->>5)::bigint, (e->>6)::smallint,
           (e->>7)::integer, e->>8, (e->>9)::timestamptz, (e->>10)::timestamptz, e->>11, 1, now_, now_, e->>12,
           (e->13)::text
      FROM json_array_elements(coalesce(j->'n', '[]'::json)) AS e
    ON CONFLICT (subscription, id) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> json_array_length(coalesce(j->'n', '[]'::json)) THEN
        RAISE EXCEPTION 'an allowance bucket was made since it was read' USING ERRCODE = 'BSMOV';
    END IF;
"""
assert _BALANCES in _PREVIOUS.SAVE
SAVE = _PREVIOUS.SAVE.replace(_BALANCES, _NEW_BUCKETS + _BALANCES)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SAVE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_PREVIOUS.SAVE)
