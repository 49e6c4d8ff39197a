"""Online rating's read also gives the calling partner's version (issue 12: the API key kept
by a worker).

A worker keeps the API keys it has checked, with the version and creation time of the
partner resource they opened. ``POST /usage`` then checks the key against the database in
its own first round trip: ``bssrules_online_read`` takes the partner's id and answers its
row's ``(version, created)`` (a primary-key read in the same call), and a usage whose
partner is no longer as kept is rolled back and authenticated in full. The function takes
one argument more (the old one is dropped); no table changes. Nothing on SQLite.

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import importlib

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_PREVIOUS = importlib.import_module("bssrules.store.migrations.versions.0008_online_functions")
_OLD_SIGNATURE = "bssrules_online_read(text[], text[], text[], text[], text[])"

_ARGUMENTS = "                                                a_period text[])"
_DECLARE = "    catalog integer;\n"
_CATALOG = "    SELECT value INTO catalog FROM counter WHERE name = 'catalog_revision';\n"
_RETURN = "    RETURN json_build_array(locked, usages, buckets, totals, coalesce(catalog, 0))::text;\n"
for _part in (_ARGUMENTS, _DECLARE, _CATALOG, _RETURN):
    assert _part in _PREVIOUS.READ, _part

READ = (_PREVIOUS.READ
        .replace(_ARGUMENTS, "                                                a_period text[], partner text)")
        .replace(_DECLARE, _DECLARE + "    seen json;\n")
        .replace(_CATALOG, _CATALOG + "    -- the calling partner as it is now (null: gone, or none asked for)\n"
                 "    SELECT json_build_array(r.version, " + _PREVIOUS._MICROS.format("r.created") + ") INTO seen\n"
                 "      FROM resource AS r WHERE r.kind = 'partner' AND r.id = partner;\n")
        .replace(_RETURN, "    RETURN json_build_array(locked, usages, buckets, totals, coalesce(catalog, 0), seen)::text;\n"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS {_OLD_SIGNATURE}")
    op.execute(READ)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS bssrules_online_read(text[], text[], text[], text[], text[], text)")
    op.execute(_PREVIOUS.READ)
