"""Online rating's two functions plan their statements as index lookups (issue 12).

``bssrules_online_read`` and ``bssrules_online_save`` run their statements with generic
plans (``plan_cache_mode = force_generic_plan``, migration 0008): planned once per
connection, for arrays whose length the planner does not know (it assumes ten elements).
On tables of a few thousand rows it then chose to read the whole table — the subscriptions
locked, the buckets joined to ``unnest(subs, since)``, the accumulators hashed, the
subscriptions joined to the save's revisions by a merge over their whole index — for a call
that names one subscription. Measured on the benchmark (1,000 subscriptions, single POSTs):
about 5,000 rows read per transaction, 1.1 ms of PostgreSQL's CPU per usage where the floor's
one statement takes 0.15 ms.

What a call names is always a handful of keys (one per usage of the request at most), each
found by a primary key or ``ix_usage_record_id``: so for these two functions only, a
sequential scan, a bitmap scan and hash and merge joins are turned off (``ALTER FUNCTION …
SET``: the settings hold while the function runs, nowhere else). Each statement is then a
nested loop over the request's keys with an index lookup per key — the plan a table of any
size wants for a few keys. The answers are the same (plans only). Every statement has an
index for its lookup, so none falls back to reading a table.

The downgrade resets the settings. Nothing on SQLite.

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

FUNCTIONS = ("bssrules_online_read(text[], text[], text[], text[], text[], text, timestamptz[])",
             "bssrules_online_save(text)")
# the plans a few keys want: a nested loop over them, an index lookup for each
SETTINGS = {"enable_seqscan": "off", "enable_bitmapscan": "off", "enable_hashjoin": "off",
            "enable_mergejoin": "off"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in FUNCTIONS:
        for name, value in SETTINGS.items():
            op.execute(f"ALTER FUNCTION {function} SET {name} = {value}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in FUNCTIONS:
        for name in SETTINGS:
            op.execute(f"ALTER FUNCTION {function} RESET {name}")
