"""Row mappers of the hot tables (bucket, accumulator, usage_record) and the filters their
lists answer: typed columns where the table has them, the JSON document elsewhere.

A filter on a document attribute means what the generic attribute index means (a dotted
path, list items sharing their list's path, alternatives separated by commas): PostgreSQL
asks ``jsonb_path_exists`` (lax mode walks lists), SQLite a function of this module that the
engine registers on every connection (:func:`register_sqlite_functions`).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Sequence

from sqlalchemy import ColumnElement, and_, cast, func, literal, or_, true
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH

from bssrules import jsontext
from bssrules.services.records import (
    StoredAccumulator, StoredBucket, StoredUsage, attribute_matches, scaled, unscaled,
)

SQLITE_MATCH = "bssrules_attribute_matches"


def utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def bucket_of(row: Any) -> StoredBucket:
    """A bucket from its row (any mapping or row with the bucket table's columns)."""
    created, last_update = utc(row.created), utc(row.last_update)
    assert created is not None and last_update is not None  # NOT NULL columns
    return StoredBucket(row.id, row.subscription, row.unit, unscaled(row.remaining, row.scale),
                        None if row.floor is None else unscaled(row.floor, row.floor_scale), row.precedence,
                        row.usage_type, utc(row.valid_from), utc(row.valid_to), row.status, row.version,
                        created, last_update, row.partner_id, jsontext.loads(row.document))


def bucket_values(bucket: StoredBucket) -> dict[str, Any]:
    remaining, scale = scaled(bucket.remaining)
    floor, floor_scale = scaled(bucket.floor) if bucket.floor is not None else (None, 0)
    return {"subscription": bucket.subscription, "id": bucket.id, "unit": bucket.unit, "remaining": remaining,
            "scale": scale, "floor": floor, "floor_scale": floor_scale, "precedence": bucket.precedence,
            "usage_type": bucket.usage_type, "valid_from": utc(bucket.valid_from), "valid_to": utc(bucket.valid_to),
            "status": bucket.status, "version": bucket.version, "created": utc(bucket.created),
            "last_update": utc(bucket.last_update), "partner_id": bucket.partner_id,
            "document": jsontext.dumps(bucket.document, sort_keys=True)}


def accumulator_of(row: Any) -> StoredAccumulator:
    return StoredAccumulator(row.subscription, row.accumulator, row.period, unscaled(row.volume, row.volume_scale),
                             unscaled(row.amount, row.amount_scale), tuple(json.loads(row.reached)), row.partner_id)


def accumulator_values(total: StoredAccumulator, now: dt.datetime) -> dict[str, Any]:
    volume, volume_scale = scaled(total.volume)
    amount, amount_scale = scaled(total.amount)
    return {"subscription": total.subscription, "accumulator": total.accumulator, "period": total.period,
            "volume": volume, "volume_scale": volume_scale, "amount": amount, "amount_scale": amount_scale,
            "reached": json.dumps(list(total.reached)), "created": utc(now), "last_update": utc(now),
            "partner_id": total.partner_id}


def usage_of(row: Any) -> StoredUsage:
    created = utc(row.created)
    assert created is not None
    return StoredUsage(row.id, row.subscription, row.status, created, row.partner_id, jsontext.loads(row.document))


def usage_values(usage: StoredUsage) -> dict[str, Any]:
    return {"subscription": usage.subscription, "id": usage.id, "status": usage.status, "created": utc(usage.created),
            "partner_id": usage.partner_id,
            # the text the use case made once, when it did (it answers with the same text)
            "document": getattr(usage.document, "json", None) or jsontext.dumps(usage.document, sort_keys=True)}


# ------------------------------------------------------------------------ document filters

_PLAIN_KEY = re.compile(r"^[A-Za-z_@][A-Za-z0-9_@]*$")


def _jsonpath(path: str, values: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """A lax-mode JSON path that holds when a leaf at ``path`` equals one of ``values`` (as
    text, or as the number or boolean the text spells: the index keeps leaves as text)."""
    steps = "".join(f".{k}" if _PLAIN_KEY.match(k) else "." + json.dumps(k) for k in path.split("."))
    tests: list[str] = []
    variables: dict[str, Any] = {}
    for n, value in enumerate(values):
        variables[f"s{n}"] = value
        tests.append(f"@ == $s{n}")
        if value in ("true", "false"):
            variables[f"b{n}"] = value == "true"
            tests.append(f"@ == $b{n}")
        else:
            try:
                number = Decimal(value)
            except (InvalidOperation, ValueError):
                number = None
            if number is not None and number.is_finite():
                variables[f"n{n}"] = number
                tests.append(f"@ == $n{n}")
    return f"${steps} ? ({' || '.join(tests)})", variables


def document_filter(dialect: str, document: Any, path: str, values: Sequence[str]) -> ColumnElement[bool]:
    """The condition "the JSON ``document`` has ``path`` equal to one of ``values``"."""
    if dialect == "postgresql":
        expression, variables = _jsonpath(path, values)
        return func.jsonb_path_exists(cast(document, JSONB), cast(literal(expression), JSONPATH),
                                      cast(literal(jsontext.dumps(variables)), JSONB))
    return func.coalesce(getattr(func, SQLITE_MATCH)(document, json.dumps({path: list(values)})), 0) == 1


def filters_condition(dialect: str, document: Any, filters: Mapping[str, Sequence[str]],
                      columns: Mapping[str, Any]) -> ColumnElement[bool]:
    """Every filter, on a typed column where ``columns`` names one, else on the document."""
    conditions: list[ColumnElement[bool]] = []
    for path, values in filters.items():
        if path in columns:
            conditions.append(or_(*[columns[path] == v for v in values]))
        else:
            conditions.append(document_filter(dialect, document, path, values))
    return and_(*conditions) if conditions else true()


def _sqlite_matches(document: str | None, filters: str) -> int:
    if document is None:
        return 0
    return 1 if attribute_matches(jsontext.loads(document), json.loads(filters)) else 0


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """The document filter of SQLite (a Python function the queries call)."""
    dbapi_connection.create_function(SQLITE_MATCH, 2, _sqlite_matches, deterministic=True)
