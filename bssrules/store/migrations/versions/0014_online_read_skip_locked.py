"""Online rating's read can leave the subscriptions another transaction holds for later
(issue 12: batches at charging-system speed).

``bssrules_online_read`` locked every subscription a call names (``FOR UPDATE``, in id
order) and waited for each one another transaction held. Batches name many subscriptions
(a batch of 100 usages drawn from 1,000 subscriptions shares about ten with any other
batch in flight), so every batch waited for the one before it to be rated and committed:
the batches of all workers ran one at a time, each holding its locks for the whole of its
rating (measured: 86 batches of 100 per second, the lock held 10.4 ms of each, while the
workers' processes were less than half busy).

The function takes one argument more, ``skip``: when true the subscriptions are locked
``FOR UPDATE SKIP LOCKED`` — those another transaction holds are passed over, not waited
for — and what is read (buckets, totals) is read for the subscriptions locked only. Its
answer gives one element more: the subscriptions that exist and were passed over (a
subscription without a row is in neither list, as before). A batch rates and commits what
it locked, then reads the rest again, waiting as before (``bssrules.services.usage``).
With ``skip`` false the function is the one before.

The new function (one argument more) gets the plan settings of migration 0013. The old one
is kept, untouched: during a rolling restart the workers of the previous version still call
it, and answer as before. The downgrade drops the new one. No table changes; nothing on
SQLite (a database-wide write lock: nothing to pass over).

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import importlib

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_PREVIOUS = importlib.import_module("bssrules.store.migrations.versions.0011_online_read_serving_buckets")
_PLANS = importlib.import_module("bssrules.store.migrations.versions.0013_online_functions_index_plans")
SIGNATURE = "bssrules_online_read(text[], text[], text[], text[], text[], text, timestamptz[], boolean)"

_ARGUMENTS = "a_period text[], partner text, since timestamptz[])"
_DECLARE = "    seen json;\n"
_LOCK = """    SELECT coalesce(json_agg(json_build_array(s.id, s.revision) ORDER BY s.id), '[]'::json) INTO locked
      FROM (SELECT id, revision FROM subscription WHERE id = ANY(subs) ORDER BY id FOR UPDATE) AS s;
"""
_BUCKETS = "JOIN unnest(subs, since) AS x(sub, since_) ON b.subscription = x.sub"
_TOTALS = "        ON a.subscription = x.sub AND a.accumulator = x.acc AND a.period = x.period;\n"
_RETURN = "    RETURN json_build_array(locked, usages, buckets, totals, coalesce(catalog, 0), seen)::text;\n"
for _part in (_ARGUMENTS, _DECLARE, _LOCK, _BUCKETS, _TOTALS, _RETURN):
    assert _part in _PREVIOUS.READ, _part

_SKIPPING_LOCK = """    IF skip THEN  -- those another transaction holds: passed over, read again later by the caller
        SELECT coalesce(array_agg(s.id ORDER BY s.id), '{}') INTO held
          FROM (SELECT id FROM subscription WHERE id = ANY(subs) ORDER BY id FOR UPDATE SKIP LOCKED) AS s;
        SELECT coalesce(array_agg(s.id ORDER BY s.id), '{}') INTO passed
          FROM subscription AS s WHERE s.id = ANY(subs) AND NOT s.id = ANY(held);
        -- read for: all but those passed over (a subscription without a row too, as without skip)
        subs_ := ARRAY(SELECT x FROM unnest(subs) AS x WHERE NOT x = ANY(passed));
    ELSE
        SELECT coalesce(array_agg(s.id ORDER BY s.id), '{}') INTO held
          FROM (SELECT id FROM subscription WHERE id = ANY(subs) ORDER BY id FOR UPDATE) AS s;
        passed := '{}';
        subs_ := subs;
    END IF;
    -- (read after the lock: a new snapshot, which sees what the transaction that held it wrote)
    SELECT coalesce(json_agg(json_build_array(s.id, s.revision) ORDER BY s.id), '[]'::json) INTO locked
      FROM subscription AS s WHERE s.id = ANY(held);
"""

READ = (_PREVIOUS.READ
        .replace(_ARGUMENTS, "a_period text[], partner text, since timestamptz[],\n"
                             "                                                skip boolean)")
        .replace(_DECLARE, _DECLARE + "    held text[];\n    passed text[];\n    subs_ text[];\n")
        .replace(_LOCK, _SKIPPING_LOCK)
        # the buckets and totals of the subscriptions locked only (all of them, without skip)
        .replace(_BUCKETS, _BUCKETS + " AND x.sub = ANY(subs_)")
        .replace(_TOTALS, "        ON a.subscription = x.sub AND a.accumulator = x.acc AND a.period = x.period\n"
                          "     WHERE x.sub = ANY(subs_);\n")
        .replace(_RETURN, "    RETURN json_build_array(locked, usages, buckets, totals, coalesce(catalog, 0), seen, "
                          "to_json(passed))::text;\n"))


def _settings(signature: str) -> None:
    for name, value in _PLANS.SETTINGS.items():
        op.execute(f"ALTER FUNCTION {signature} SET {name} = {value}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(READ)  # (beside the old one, which workers of the previous version call)
    _settings(SIGNATURE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
