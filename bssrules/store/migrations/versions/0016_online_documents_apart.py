"""Online rating's round trips carry the documents apart from the rows (issue 12: batches).

**The save takes the usages' documents apart.** ``bssrules_online_save(p text)`` got each
usage's document as a JSON string inside its write, which it parses once as ``jsonb``: for a
batch of 100 the write is about 94 KB, nine tenths of it those documents, every quote of them
escaped — and parsing them was the largest single cost of the save (measured on the
benchmark's database, one call of 100 usages: 0.65 ms of the parse out of about 3.5 ms; the
same texts split by ``string_to_array``: 0.06 ms). ``bssrules_online_save(p text, docs
text)`` takes them as one text, the documents joined by the character 30 (the ASCII record
separator, which a JSON text never holds unescaped), paired in order with the usages of
``p`` (whose rows then have four elements); ``docs`` null: the documents are in ``p``, as
before. A count that does not pair is refused (SQLSTATE 22023), nothing written. The
one-argument function stays for workers of the previous version (a rolling restart).

**The read answers a bucket's document only when rating needs it**: that of a bucket whose
``usage_type`` is null and whose document names ``"usageTypes"`` (an allowance serving
several usage types lists them there; a null usage type is otherwise any service);
otherwise an empty object. Rating reads nothing else of it, and the documents were most of
the read's answer (parsed as ``json`` by the function and again by the worker). A worker of
the previous version reads the document only of such a bucket too (and finds the others
empty: an object, as it expects).

Same signatures otherwise; the read is replaced (its plan settings set again: CREATE OR
REPLACE drops them). The downgrade drops the two-argument save and puts 0015's read back.
Nothing on SQLite (it runs the same rows as statements).

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

import importlib

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_PREVIOUS_READ = importlib.import_module("bssrules.store.migrations.versions.0015_online_read_fewer_lookups")
_PREVIOUS_SAVE = importlib.import_module("bssrules.store.migrations.versions.0013_online_functions_index_plans")
_SKIPPING = importlib.import_module("bssrules.store.migrations.versions.0014_online_read_skip_locked")
SAVE_SIGNATURE = "bssrules_online_save(text, text)"
SEPARATOR = "\x1e"  # chr(30): never unescaped in a JSON text

_DOCUMENT = "b.partner_id, b.document::json)"
READ = _PREVIOUS_READ.READ.replace(
    _DOCUMENT, "b.partner_id,\n               CASE WHEN b.usage_type IS NULL AND strpos(b.document, '\"usageTypes\"') > 0 "
               "THEN b.document::json ELSE '{}'::json END)")
assert _DOCUMENT in _PREVIOUS_READ.READ and READ != _PREVIOUS_READ.READ

_HEAD = "CREATE OR REPLACE FUNCTION bssrules_online_save(p text) RETURNS integer"
_DECLARE = "    made bigint;\n"
_USAGES = ("    INSERT INTO usage_record (subscription, id, status, created, partner_id, document)\n"
           "    SELECT e->>0, e->>1, e->>2, now_, e->>3, CASE jsonb_typeof(e->4) WHEN 'string' THEN e->>4 "
           "ELSE (e->4)::text END FROM jsonb_array_elements(j->'u') AS e;\n")
_APART = """    IF docs IS NULL THEN  -- the documents inside the write (as the one-argument save takes them)
""" + _USAGES.replace("    ", "        ", 2) + """    ELSE  -- apart, joined by chr(30), in the order of the usages
        texts := string_to_array(docs, chr(30));
        IF coalesce(cardinality(texts), 0) <> jsonb_array_length(j->'u') THEN
            RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the usages and their documents do not pair: '
                || jsonb_array_length(j->'u') || ' usages, ' || coalesce(cardinality(texts), 0) || ' documents';
        END IF;
        INSERT INTO usage_record (subscription, id, status, created, partner_id, document)
        SELECT x.e->>0, x.e->>1, x.e->>2, now_, x.e->>3, x.doc
          FROM unnest(ARRAY(SELECT u.v FROM jsonb_array_elements(j->'u') WITH ORDINALITY AS u(v, i) ORDER BY u.i),
                      texts) AS x(e, doc);
    END IF;
"""
for _part in (_HEAD, _DECLARE, _USAGES):
    assert _PREVIOUS_SAVE.SAVE.count(_part) == 1, _part
SAVE = (_PREVIOUS_SAVE.SAVE
        .replace(_HEAD, "CREATE OR REPLACE FUNCTION bssrules_online_save(p text, docs text) RETURNS integer")
        .replace(_DECLARE, _DECLARE + "    texts text[];\n")
        .replace(_USAGES, _APART))


_settings = _SKIPPING._settings  # (the plan settings of 0013, on a function of that signature)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(SAVE)  # (beside the one-argument save, which workers of the previous version call)
    _settings(SAVE_SIGNATURE)
    op.execute(READ)
    _settings(_SKIPPING.SIGNATURE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS {SAVE_SIGNATURE}")
    op.execute(_PREVIOUS_READ.READ)
    _settings(_SKIPPING.SIGNATURE)
