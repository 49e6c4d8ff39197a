"""Online rating's two round trips as two PostgreSQL functions (nothing on SQLite).

``bssrules_online_read`` locks the subscriptions' rows (id order) and then, in statements
that each take a new snapshot (a VOLATILE function in READ COMMITTED), so that they read
what the transaction that held a lock wrote, reads the usage ids already stored, the active
buckets, the accumulators asked for and the catalog revision: one call instead of five
statements, answered as one JSON text. ``bssrules_online_save`` takes the whole write as one
JSON text: it checks the revisions still as read, moves each balance and total only where it
is still as read (else raises SQLSTATE ``BSMOV``: the caller's transaction is rolled back
and rated again), and inserts the usages and their charges. Their statements are planned
once per connection (plpgsql caches them) with generic plans.

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# microseconds since the epoch: exact, and free of the session's time zone
_MICROS = "(extract(epoch FROM {0}) * 1000000)::bigint"

READ = f"""
CREATE OR REPLACE FUNCTION bssrules_online_read(subs text[], ids text[], a_sub text[], a_acc text[],
                                                a_period text[])
RETURNS text LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
    locked json;
    usages json;
    buckets json;
    totals json;
    catalog integer;
BEGIN
    SELECT coalesce(json_agg(json_build_array(s.id, s.revision) ORDER BY s.id), '[]'::json) INTO locked
      FROM (SELECT id, revision FROM subscription WHERE id = ANY(subs) ORDER BY id FOR UPDATE) AS s;
    SELECT coalesce(json_agg(json_build_array(u.subscription, u.id, u.status, {_MICROS.format('u.created')},
                                              u.partner_id, u.document::json)), '[]'::json) INTO usages
      FROM usage_record AS u WHERE u.id = ANY(ids);
    SELECT coalesce(json_agg(json_build_array(
               b.subscription, b.id, b.unit, b.remaining, b.scale, b.floor, b.floor_scale, b.precedence,
               b.usage_type, {_MICROS.format('b.valid_from')}, {_MICROS.format('b.valid_to')}, b.status, b.version,
               {_MICROS.format('b.created')}, {_MICROS.format('b.last_update')}, b.partner_id, b.document::json)),
           '[]'::json) INTO buckets
      FROM bucket AS b WHERE b.subscription = ANY(subs) AND b.status = 'active';
    SELECT coalesce(json_agg(json_build_array(a.subscription, a.accumulator, a.period, a.volume, a.volume_scale,
                                              a.amount, a.amount_scale, a.reached::json, a.partner_id)),
           '[]'::json) INTO totals
      FROM accumulator AS a
      JOIN unnest(a_sub, a_acc, a_period) AS x(sub, acc, period)
        ON a.subscription = x.sub AND a.accumulator = x.acc AND a.period = x.period;
    SELECT value INTO catalog FROM counter WHERE name = 'catalog_revision';
    RETURN json_build_array(locked, usages, buckets, totals, coalesce(catalog, 0))::text;
END
$fn$
"""

SAVE = """
CREATE OR REPLACE FUNCTION bssrules_online_save(p text) RETURNS integer
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
    j json := p::json;
    now_ timestamptz := (j->>'now')::timestamptz;
    n bigint;
    made bigint;
BEGIN
    -- the rating contexts still of the revisions read (their rows are locked by this transaction)
    SELECT count(*) INTO n FROM subscription AS s
      JOIN json_array_elements(j->'r') AS e ON s.id = e->>0 AND s.revision = (e->>1)::bigint;
    IF n <> json_array_length(j->'r') THEN
        RAISE EXCEPTION 'a rating context moved since it was read' USING ERRCODE = 'BSMOV';
    END IF;
    -- each balance moved from the value read, and only from it
    UPDATE bucket SET remaining = (e->>4)::bigint, scale = (e->>5)::smallint, version = bucket.version + 1,
                      last_update = now_
      FROM json_array_elements(j->'b') AS e
     WHERE bucket.subscription = e->>0 AND bucket.id = e->>1
       AND bucket.remaining = (e->>2)::bigint AND bucket.scale = (e->>3)::smallint;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> json_array_length(j->'b') THEN
        RAISE EXCEPTION 'a balance moved since it was read' USING ERRCODE = 'BSMOV';
    END IF;
    -- each total moved from the value read, and only from it; made where none was read
    UPDATE accumulator AS a SET volume = (e->>3)::bigint, volume_scale = (e->>4)::smallint,
                                amount = (e->>5)::bigint, amount_scale = (e->>6)::smallint, reached = (e->7)::text,
                                last_update = now_
      FROM json_array_elements(j->'a') AS e
     WHERE e->>9 IS NOT NULL AND a.subscription = e->>0 AND a.accumulator = e->>1 AND a.period = e->>2
       AND a.volume = (e->>9)::bigint AND a.volume_scale = (e->>10)::smallint
       AND a.amount = (e->>11)::bigint AND a.amount_scale = (e->>12)::smallint;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO accumulator (subscription, accumulator, period, volume, volume_scale, amount, amount_scale,
                             reached, created, last_update, partner_id)
    SELECT e->>0, e->>1, e->>2, (e->>3)::bigint, (e->>4)::smallint, (e->>5)::bigint, (e->>6)::smallint,
           (e->7)::text, now_, now_, e->>8
      FROM json_array_elements(j->'a') AS e
     WHERE e->>9 IS NULL
    ON CONFLICT (subscription, accumulator, period) DO NOTHING;
    GET DIAGNOSTICS made = ROW_COUNT;
    IF n + made <> json_array_length(j->'a') THEN
        RAISE EXCEPTION 'a running total moved since it was read' USING ERRCODE = 'BSMOV';
    END IF;
    INSERT INTO usage_record (subscription, id, status, created, partner_id, document)
    SELECT e->>0, e->>1, e->>2, now_, e->>3, (e->4)::text FROM json_array_elements(j->'u') AS e;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO rated_charge (subscriber, usage_id, part, billing_account, payer_role, service, offering, start,
                              amount_minor, currency, volume, volume_scale, unit)
    SELECT e->>0, e->>1, (e->>2)::integer, e->>3, e->>4, e->>5, e->>6, (e->>7)::timestamptz, (e->>8)::bigint,
           e->>9, (e->>10)::bigint, (e->>11)::smallint, e->>12
      FROM json_array_elements(j->'c') AS e;
    RETURN n;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(READ)
    op.execute(SAVE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS bssrules_online_save(text)")
    op.execute("DROP FUNCTION IF EXISTS bssrules_online_read(text[], text[], text[], text[], text[])")
