"""Online rating's read finds each subscription once (issue 12: batches at charging-system speed).

``bssrules_online_read`` (migration 0014) looked each subscription of a call up three times:
to lock it, to find those passed over, and again for its revision, which the lock had read
already; and it kept the buckets and totals of the subscriptions not passed over by testing
each one against the array of those kept (``x.sub = ANY(subs_)``: a hundred by a hundred
comparisons for a batch). Now:

- the lock reads the revision it locks: a row locked ``FOR UPDATE`` is the newest version
  (after waiting for a transaction that held it, PostgreSQL locks and returns the row as that
  transaction left it; with ``SKIP LOCKED`` there is nothing to wait for);
- those passed over are looked for only when some subscription was not locked (passed over,
  or without a row): in the common case every one is;
- the buckets and totals are kept by ``NOT x.sub = ANY(passed)``, which an empty array
  answers at once.

The answers are the same, part by part (``tests/integration/test_online_read_fewer_lookups.py``
compares both functions on locked, passed-over and unknown subscriptions). Measured on the
benchmark's database (1,000 subscriptions), calls naming 95–100 of them: 13.1 µs of the
call's time per subscription before, 9.4 µs after (best of 40 calls, six rounds alternated).

Same signature as 0014's (a worker of the previous version calls it and gets what it got);
the 7-argument function of before 0014 is left as it is. The downgrade puts 0014's back.
Nothing on SQLite.

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

import importlib

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_PREVIOUS = importlib.import_module("bssrules.store.migrations.versions.0014_online_read_skip_locked")

_LOCK = """    IF skip THEN  -- those another transaction holds: passed over, read again later by the caller
        SELECT coalesce(json_agg(json_build_array(s.id, s.revision) ORDER BY s.id), '[]'::json),
               coalesce(array_agg(s.id ORDER BY s.id), '{}') INTO locked, held
          FROM (SELECT id, revision FROM subscription WHERE id = ANY(subs) ORDER BY id FOR UPDATE SKIP LOCKED) AS s;
        IF cardinality(held) = cardinality(subs) THEN  -- (subs: distinct ids) every one locked
            passed := '{}';
        ELSE  -- some passed over, or without a row (read for as without skip)
            SELECT coalesce(array_agg(s.id ORDER BY s.id), '{}') INTO passed
              FROM subscription AS s WHERE s.id = ANY(subs) AND NOT s.id = ANY(held);
        END IF;
    ELSE
        -- (a row locked after waiting is the version the transaction that held it left)
        SELECT coalesce(json_agg(json_build_array(s.id, s.revision) ORDER BY s.id), '[]'::json),
               coalesce(array_agg(s.id ORDER BY s.id), '{}') INTO locked, held
          FROM (SELECT id, revision FROM subscription WHERE id = ANY(subs) ORDER BY id FOR UPDATE) AS s;
        passed := '{}';
    END IF;
"""
_REPLACED = ((_PREVIOUS._SKIPPING_LOCK, _LOCK),
             (" AND x.sub = ANY(subs_)", " AND NOT x.sub = ANY(passed)"),
             ("     WHERE x.sub = ANY(subs_);\n", "     WHERE NOT x.sub = ANY(passed);\n"),
             ("    subs_ text[];\n", ""))
READ = _PREVIOUS.READ
for _old, _new in _REPLACED:
    assert _old in READ, _old
    READ = READ.replace(_old, _new)
assert "subs_" not in READ


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(READ)
    _PREVIOUS._settings(_PREVIOUS.SIGNATURE)  # (CREATE OR REPLACE drops those ALTER FUNCTION set)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_PREVIOUS.READ)
    _PREVIOUS._settings(_PREVIOUS.SIGNATURE)
