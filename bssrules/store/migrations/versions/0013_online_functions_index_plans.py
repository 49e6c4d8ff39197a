"""Online rating's two functions plan their statements as index lookups, and the save reads
its write as ``jsonb`` (issue 12).

**Plans.** ``bssrules_online_read`` and ``bssrules_online_save`` run their statements with
generic plans (``plan_cache_mode = force_generic_plan``, migration 0008): planned once per
connection, for arrays whose length the planner does not know (it assumes ten elements).
On tables of a few thousand rows it then chose to read the whole table — the subscriptions
locked, the buckets joined to ``unnest(subs, since)``, the accumulators hashed, the
subscriptions joined to the save's revisions by a merge over their whole index — for a call
that names one subscription. Measured on the benchmark (1,000 subscriptions, single POSTs):
about 5,000 rows read per transaction, and a usage's BEGIN + read + save + COMMIT took about
1.9 ms of the server's CPU, 0.95 ms with index lookups (the floor's one statement: 0.3 ms).

What a call names is always a handful of keys (one per usage of the request at most), each
found by a primary key or ``ix_usage_record_id``: so for these two functions only, a
sequential scan, a bitmap scan and hash and merge joins are turned off (``ALTER FUNCTION …
SET``: the settings hold while the function runs, nowhere else). Each statement is then a
nested loop over the request's keys with an index lookup per key — the plan a table of any
size wants for a few keys. The answers are the same (plans only). Every statement has an
index for its lookup, so none falls back to reading a table.

**The save's write as jsonb.** The save took its JSON text as ``json``, which PostgreSQL
keeps as text: every ``j->'b'``, ``e->>4`` parsed it again (about twenty parses of the
document per call). It is now parsed once, as ``jsonb``. The texts stored as they are sent —
a usage's document, a new bucket's document, an accumulator's thresholds reached — come as
JSON strings (``e->>4``: the very text), since ``jsonb`` would rewrite an embedded object
(keys reordered, spaces changed); an object embedded as before (a worker of the previous
version) is still taken, and stored as ``jsonb`` writes it. About 50 µs less of the
server's CPU per call.

The downgrade puts the previous save back (migration 0009) and resets the settings of the
read. Nothing on SQLite.

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

import importlib

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_PREVIOUS_SAVE = importlib.import_module("bssrules.store.migrations.versions.0009_allowance_buckets").SAVE
FUNCTIONS = ("bssrules_online_read(text[], text[], text[], text[], text[], text, timestamptz[])",
             "bssrules_online_save(text)")
# the plans a few keys want: a nested loop over them, an index lookup for each
SETTINGS = {"enable_seqscan": "off", "enable_bitmapscan": "off", "enable_hashjoin": "off",
            "enable_mergejoin": "off"}


_JSONB = (("j json := p::json", "j jsonb := p::jsonb"),
          ("json_array_elements", "jsonb_array_elements"),
          ("json_array_length", "jsonb_array_length"),
          ("'[]'::json)", "'[]'::jsonb)"),
          ("(e->13)::text", "CASE jsonb_typeof(e->13) WHEN 'string' THEN e->>13 ELSE (e->13)::text END"),
          ("(e->7)::text", "CASE jsonb_typeof(e->7) WHEN 'string' THEN e->>7 ELSE (e->7)::text END"),
          ("(e->4)::text", "CASE jsonb_typeof(e->4) WHEN 'string' THEN e->>4 ELSE (e->4)::text END"))
SAVE = _PREVIOUS_SAVE
for _old, _new in _JSONB:
    assert _old in SAVE, _old
    SAVE = SAVE.replace(_old, _new)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SAVE)
    for function in FUNCTIONS:
        for name, value in SETTINGS.items():
            op.execute(f"ALTER FUNCTION {function} SET {name} = {value}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_PREVIOUS_SAVE)  # (its settings: those it is created with)
    for function in FUNCTIONS:
        for name in SETTINGS:
            op.execute(f"ALTER FUNCTION {function} RESET {name}")
