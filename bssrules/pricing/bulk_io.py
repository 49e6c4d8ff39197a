"""Usage files in, rated files out: bulk rating of files of any size in bounded memory.

:func:`rate_file` reads a usage file (CSV, JSON lines or Parquet, told by its extension) in
batches, checks every row (a bad date, a negative or non-numeric volume, a missing id,
subscriber or service make the row ``malformed``: it is kept and rejected, never dropped),
and spreads the rows over partition files by subscriber when the file holds more than one
chunk — so that each partition holds all the usage of its subscribers and can be rated on
its own (:func:`bssrules.pricing.bulk.rate_chunk`) with their balances and totals. Each
rated partition is written out at once, in the format of the output file's extension.
Memory is bounded by the chunk size, whatever the size of the file.

Inputs:

- usage: ``id, subscriber, service, start`` (ISO 8601 with a zone, or a zoned timestamp),
  ``volume``, and optionally ``unit, type, roaming, country``;
- subscribers: ``id, party_id, classification, offering, active_offerings`` (a list, or
  ``;``-separated), ``payers`` (a JSON object role -> billing account, or columns
  ``payer.<role>``), ``split_billing``;
- balances (``--buckets``) and accumulator totals as JSON lines; the new ones are written
  as JSON lines (``buckets.jsonl``, ``accumulators.jsonl``) in the state folder.

Output: the columns of :data:`bssrules.pricing.bulk.RATED_SCHEMA`, partition after
partition, each in rating order (subscriber, start, id); in CSV the nested columns
(``charges``, ``buckets``, ``events``, ``reasons``) are JSON text. Amounts are written
exactly (decimal text in CSV and JSON lines — money with its currency's decimals —, decimal
columns in Parquet). A chunk is written on a thread of its own while the next is rated.
"""
from __future__ import annotations

import csv
import io
import json
import math
import queue
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from bssrules.errors import InvalidInput
from bssrules.money import minor_unit_exponent, quantum
from bssrules.pricing.bulk import (
    ACCUMULATOR_SCHEMA, BUCKET_SCHEMA, MONEY_DIGITS, RATED_SCHEMA, RECORD_SCHEMA, SUBSCRIBER_SCHEMA, VOLUME,
    VOLUME_DIGITS, BulkState, conform, rate_chunk,
)
from bssrules.pricing.rating import MAX_VOLUME
from bssrules.rules.loader import RuleBook

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
DEFAULT_CHUNK_SIZE = 500_000
READ_BATCH = 200_000  # rows read at a time while partitioning
_HASH_SEED = 20260601
# rating.malformed's words for a volume beyond what one record can hold
_TOO_MUCH = "the volume {} is beyond what one record can hold (at most " + f"{MAX_VOLUME:,})"
_DECIMAL_TEXT = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$"


def file_format(path: Path) -> str:
    """``csv``, ``jsonl`` or ``parquet``, by the file's extension."""
    kind = FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        raise InvalidInput(f"{path}: unknown file format '{Path(path).suffix}'; use one of "
                           f"{', '.join(sorted(FORMATS))}", path=(str(path),))
    return kind


def _existing(path: Path) -> Path:
    if not Path(path).is_file():
        raise InvalidInput(f"{path}: no such file", path=(str(path),))
    return Path(path)


# --------------------------------------------------------------------------- reading usage


def read_usage_batches(path: Path, batch_size: int = READ_BATCH) -> Iterator[pl.DataFrame]:
    """The rows of a usage file as they are written, a batch at a time (text stays text)."""
    kind = file_format(_existing(path))
    if kind == "parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
            yield pl.from_arrow(batch)  # type: ignore[misc]
    elif kind == "csv":
        yield from _csv_batches(path, batch_size)
    else:
        yield from _jsonl_batches(path, batch_size)


def _csv_batches(path: Path, batch_size: int) -> Iterator[pl.DataFrame]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        names = next(csv.reader(handle), [])
    if not names:
        return
    bad: list[str] = []

    def keep_bad_row(row: Any) -> str:
        bad.append(row.text)  # the row goes out as malformed, never dropped
        return "skip"

    reader = pacsv.open_csv(
        path, read_options=pacsv.ReadOptions(block_size=1 << 22, encoding="utf-8"),
        parse_options=pacsv.ParseOptions(invalid_row_handler=keep_bad_row),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=True, quoted_strings_can_be_null=True))
    pending: list[pl.DataFrame] = []
    rows = 0
    for batch in reader:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        pending.append(frame)
        rows += frame.height
        if bad:
            pending.append(_unreadable(bad, names))
            bad.clear()
        if rows >= batch_size:
            yield pl.concat(pending, how="diagonal_relaxed")
            pending, rows = [], 0
    if bad:
        pending.append(_unreadable(bad, names))
    if pending:
        yield pl.concat(pending, how="diagonal_relaxed")


def _unreadable(texts: list[str], names: list[str]) -> pl.DataFrame:
    """CSV rows of the wrong length: what fields they have, and why they are malformed."""
    rows = []
    for text in texts:
        fields = next(csv.reader([text]), [])
        row: dict[str, Any] = dict(zip(names, fields))
        row["malformed"] = f"the row has {len(fields)} fields where the header has {len(names)}"
        rows.append(row)
    return pl.DataFrame(rows, schema={**{n: pl.Utf8 for n in names}, "malformed": pl.Utf8})


def _jsonl_batches(path: Path, batch_size: int) -> Iterator[pl.DataFrame]:
    with open(path, "rb") as handle:
        while True:
            lines = [line for line in (handle.readline() for _ in range(batch_size)) if line]
            if not lines:
                return
            yield _jsonl_frame(lines)
            if len(lines) < batch_size:
                return


def _jsonl_frame(lines: list[bytes]) -> pl.DataFrame:
    lines = [line for line in lines if line.strip()]
    try:
        return pl.read_ndjson(io.BytesIO(b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)),
                              infer_schema_length=None)
    except Exception:  # noqa: BLE001 - a bad line, or mixed types: read line by line, keep the bad ones
        rows: list[dict[str, Any]] = []
        for line in lines:
            try:
                value = json.loads(line)
                if not isinstance(value, dict):
                    raise ValueError("not an object")
                rows.append({k: None if v is None else v if isinstance(v, (bool, list, dict)) else str(v)
                             for k, v in value.items()})
            except ValueError:
                rows.append({"malformed": f"a line that is not a JSON object: {line[:200].decode(errors='replace')}"})
        return pl.DataFrame(rows, infer_schema_length=None)


def normalize_usage(raw: pl.DataFrame) -> pl.DataFrame:
    """Rows as read -> :data:`RECORD_SCHEMA`, with ``malformed`` saying what is wrong with a row
    (the first problem, in column order)."""
    columns = set(raw.columns)

    def text(name: str) -> pl.Expr:
        if name not in columns:
            return pl.lit(None, dtype=pl.Utf8)
        return pl.col(name).cast(pl.Utf8)

    def missing(name: str) -> pl.Expr:
        return pl.when(text(name).is_null() | (text(name) == "")).then(pl.lit(f"the record has no {name}"))

    start, start_problem = _start(raw, "start" in columns)
    volume, volume_problem = _volume(raw, "volume" in columns)
    roaming, roaming_problem = _roaming(raw, "roaming" in columns)
    read_problem = pl.col("malformed").cast(pl.Utf8) if "malformed" in columns else pl.lit(None, dtype=pl.Utf8)
    frame = raw.select(id=text("id"), subscriber=text("subscriber"), service=text("service"), start=start,
                       volume=volume, unit=text("unit"), type=text("type"), roaming=roaming,
                       country=text("country"),
                       before_volume=pl.coalesce(read_problem, missing("id"), missing("subscriber"), start_problem),
                       service_problem=pl.when(text("service").is_null())
                       .then(pl.lit("the usage service must be a non-empty text, got None"))
                       .when(text("service") == "").then(pl.lit("the usage service must be a non-empty text, got ''")),
                       volume_problem=volume_problem, after_volume=roaming_problem)
    frame = _scientific_volumes(frame, raw)
    # in the order rating.malformed checks them, so that the labels are the reference's
    frame = frame.with_columns(malformed=pl.coalesce("before_volume", "volume_problem", "service_problem",
                                                     "after_volume"))
    return conform(frame, RECORD_SCHEMA)


def _scientific_volumes(frame: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """Volumes written with an exponent (``1e-7``, as floats print), read exactly in Python:
    they are few, and polars would read them through a float."""
    if "volume" not in raw.columns or raw.schema["volume"].is_integer() or isinstance(raw.schema["volume"], pl.Decimal):
        return frame
    given = raw["volume"].cast(pl.Utf8).str.strip_chars()
    odd = given.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$").fill_null(False)
    if not odd.any():
        return frame
    volumes, problems = frame["volume"].to_list(), frame["volume_problem"].to_list()
    for row in odd.arg_true().to_list():
        number = Decimal(given[row])
        volumes[row], problems[row] = None, None
        if number < 0:
            problems[row] = f"the volume must be a number of at least 0, got {given[row]}"
            exact = number.normalize().as_tuple().exponent >= -VOLUME_DIGITS  # type: ignore[operator]
            volumes[row] = number if exact else None
        elif number > MAX_VOLUME:
            problems[row] = _TOO_MUCH.replace("{}", given[row])
        elif number.normalize().as_tuple().exponent < -VOLUME_DIGITS:  # type: ignore[operator]
            problems[row] = f"the volume has more than {VOLUME_DIGITS} decimals"
        elif abs(number) >= Decimal(10) ** (38 - VOLUME_DIGITS):
            problems[row] = f"the volume {given[row]} is too large"
        else:
            volumes[row] = number
    return frame.with_columns(pl.Series("volume", volumes, dtype=VOLUME),
                              pl.Series("volume_problem", problems, dtype=pl.Utf8))


def _start(raw: pl.DataFrame, present: bool) -> tuple[pl.Expr, pl.Expr]:
    if not present:
        return pl.lit(None, dtype=pl.Datetime("us", "UTC")), pl.lit("the record has no start")
    dtype = raw.schema["start"]
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:  # a timestamp without zone: the usage start has no time zone
            return pl.lit(None, dtype=pl.Datetime("us", "UTC")), \
                pl.when(pl.col("start").is_not_null()).then(pl.lit("the usage start has no time zone")) \
                .otherwise(pl.lit("the record has no start"))
        value = pl.col("start").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        return value, pl.when(value.is_null()).then(pl.lit("the record has no start"))
    given = pl.col("start").cast(pl.Utf8).str.strip_chars()
    iso = given.str.replace(r"^(\d{4}-\d{2}-\d{2})[ t]", "${1}T").str.replace(r"[zZ]$", "+00:00")
    zoned = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us", time_zone="UTC")
    naive = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    problem = pl.when(given.is_null() | (given == "")).then(pl.lit("the record has no start")) \
        .when(zoned.is_null() & naive.is_not_null()).then(pl.lit("the usage start has no time zone")) \
        .when(zoned.is_null()).then(pl.format("the usage start must be a date-time, got '{}'", given))
    return zoned, problem


def _volume(raw: pl.DataFrame, present: bool) -> tuple[pl.Expr, pl.Expr]:
    if not present:
        return pl.lit(None, dtype=VOLUME), pl.lit("the record has no volume")
    dtype = raw.schema["volume"]
    column = pl.col("volume")
    negative = pl.format("the volume must be a number of at least 0, got {}", column.cast(pl.Utf8))
    if dtype.is_integer():
        return column.cast(VOLUME), pl.when(column.is_null()).then(pl.lit("the record has no volume")) \
            .when(column < 0).then(negative) \
            .when(column > MAX_VOLUME).then(pl.format(_TOO_MUCH, column.cast(pl.Utf8)))
    if isinstance(dtype, pl.Decimal):
        scale = dtype.scale or 0
        fits = pl.lit(True) if scale <= VOLUME_DIGITS else \
            (column.to_physical() % pl.lit(10 ** (scale - VOLUME_DIGITS), dtype=pl.Int128)) == 0
        return column.cast(VOLUME, strict=False), \
            pl.when(column.is_null()).then(pl.lit("the record has no volume")) \
            .when(column < 0).then(negative) \
            .when(column > MAX_VOLUME).then(pl.format(_TOO_MUCH, column.cast(pl.Utf8))) \
            .when(~fits).then(pl.lit(f"the volume has more than {VOLUME_DIGITS} decimals"))
    # floats are read by their shortest text (as the rules read them); text as written
    given = column.cast(pl.Utf8).str.strip_chars()
    plain = given.str.contains(_DECIMAL_TEXT)
    decimals = given.str.extract(r"\.(\d*?)0*\s*$", 1).str.len_chars().fill_null(0)
    # a negative volume is kept (the record says what it says) and rejected
    value = pl.when(plain & (decimals <= VOLUME_DIGITS)).then(given.str.strip_chars_start("+")) \
        .cast(VOLUME, strict=False)
    number = given.cast(pl.Float64, strict=False)
    problem = pl.when(given.is_null() | (given == "")).then(pl.lit("the record has no volume")) \
        .when(plain & (decimals > VOLUME_DIGITS)).then(pl.lit(f"the volume has more than {VOLUME_DIGITS} decimals")) \
        .when(plain & value.is_null()).then(pl.format("the volume {} is too large", given)) \
        .when(plain & (value < 0)).then(pl.format("the volume must be a number of at least 0, got {}", given)) \
        .when(plain & (value > MAX_VOLUME)).then(pl.format(_TOO_MUCH, given)) \
        .when(~plain & (number < 0)).then(pl.format("the volume must be a number of at least 0, got {}", given)) \
        .when(~plain).then(pl.format("the volume must be a number of at least 0, got {}", given))
    return value, problem


def _roaming(raw: pl.DataFrame, present: bool) -> tuple[pl.Expr, pl.Expr]:
    if not present:
        return pl.lit(None, dtype=pl.Boolean), pl.lit(None, dtype=pl.Utf8)
    if raw.schema["roaming"] == pl.Boolean:
        return pl.col("roaming"), pl.lit(None, dtype=pl.Utf8)
    given = pl.col("roaming").cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    value = pl.when(given.is_in(["true", "1", "yes"])).then(True).when(given.is_in(["false", "0", "no"])) \
        .then(False).otherwise(pl.lit(None, dtype=pl.Boolean))
    problem = pl.when(given.is_not_null() & (given != "") & value.is_null()) \
        .then(pl.format("the usage roaming flag must be true or false, got '{}'", pl.col("roaming").cast(pl.Utf8)))
    return value, problem


# ------------------------------------------------------------------ subscribers and state


def read_subscribers(path: Path) -> pl.DataFrame:
    """A subscribers file (CSV, JSON lines or Parquet) as :data:`SUBSCRIBER_SCHEMA`."""
    kind = file_format(_existing(path))
    if kind == "jsonl":
        rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        raw = pl.DataFrame([{k: (json.dumps(v) if k == "payers" and isinstance(v, dict) else v)
                             for k, v in row.items()} for row in rows], infer_schema_length=None)
    elif kind == "csv":
        raw = pl.read_csv(path, infer_schema=False)
    else:
        raw = pl.read_parquet(path)
    if "id" not in raw.columns:
        raise InvalidInput(f"{path}: the subscribers need an 'id' column", path=(str(path),))
    return _normalize_subscribers(raw)


def _normalize_subscribers(raw: pl.DataFrame) -> pl.DataFrame:
    def text(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.Utf8) if name in raw.columns else pl.lit(None, dtype=pl.Utf8)

    offerings: pl.Expr = pl.lit([], dtype=pl.List(pl.Utf8))
    if "active_offerings" in raw.columns:
        if isinstance(raw.schema["active_offerings"], pl.List):
            offerings = pl.col("active_offerings").cast(pl.List(pl.Utf8))
        else:
            offerings = pl.col("active_offerings").cast(pl.Utf8).str.split(";") \
                .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
    frame = raw.select(id=text("id"), party_id=text("party_id"), classification=text("classification"),
                       offering=text("offering"), active_offerings=offerings.fill_null(pl.lit([], pl.List(pl.Utf8))),
                       split_billing=text("split_billing"))
    return conform(frame.with_columns(payers=_payers(raw)), SUBSCRIBER_SCHEMA)


def _payers(raw: pl.DataFrame) -> pl.Series:
    """Payer role -> billing account per subscriber, in the order given."""
    payers: list[list[dict[str, str]]] = [[] for _ in range(raw.height)]
    if "payers" in raw.columns:
        column = raw["payers"]
        if isinstance(column.dtype, pl.Struct):
            for i, value in enumerate(column.to_list()):
                payers[i] += [{"role": k, "account": str(v)} for k, v in (value or {}).items() if v is not None]
        elif isinstance(column.dtype, pl.List) and column.dtype == SUBSCRIBER_SCHEMA["payers"] \
                and not any(c.startswith("payer.") for c in raw.columns):
            return column.fill_null(pl.lit([], dtype=SUBSCRIBER_SCHEMA["payers"]))  # already [{role, account}]
        elif isinstance(column.dtype, pl.List):  # [{role, account}] or a Parquet map [{key, value}]
            for i, value in enumerate(column.to_list()):
                payers[i] += [{"role": str(e.get("role", e.get("key"))),
                               "account": str(e.get("account", e.get("value")))} for e in value or ()]
        else:
            for i, value in enumerate(column.cast(pl.Utf8).to_list()):
                if value:
                    try:
                        mapping = json.loads(value)
                    except ValueError:
                        raise InvalidInput(f"subscriber {raw['id'][i]}: payers must be a JSON object "
                                           f"role -> billing account, got {value!r}") from None
                    payers[i] += [{"role": k, "account": str(v)} for k, v in mapping.items() if v is not None]
    for name in raw.columns:
        if name.startswith("payer."):
            role = name.split(".", 1)[1]
            for i, value in enumerate(raw[name].cast(pl.Utf8).to_list()):
                if value:
                    payers[i].append({"role": role, "account": value})
    return pl.Series("payers", payers, dtype=SUBSCRIBER_SCHEMA["payers"])


def _decimal(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{what}: expected a number, got {value!r}") from None
    if not number.is_finite():
        raise InvalidInput(f"{what}: expected a finite number, got {value!r}")
    return number


def _instant(value: Any, what: str) -> Any:
    if value is None:
        return None
    from bssrules.catalog.types import parse_instant

    try:
        return parse_instant(value)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {exc}") from None


def read_buckets(path: Path) -> pl.DataFrame:
    """Balances from JSON lines: ``id, subscriber, unit, remaining`` and optionally
    ``precedence`` (100), ``services``, ``valid_from``, ``valid_to``, ``floor`` (0 when
    absent; null: no limit). Amounts are read exactly (as decimals, never floats)."""
    columns: dict[str, list[Any]] = {name: [] for name in BUCKET_SCHEMA}
    for number, data in _json_lines(path):
        where = f"{path}:{number}"
        try:
            columns["id"].append(str(data["id"]))
            columns["subscriber"].append(str(data["subscriber"]))
            columns["unit"].append(str(data["unit"]))
            columns["remaining"].append(_decimal(data["remaining"], where))
        except KeyError as exc:
            raise InvalidInput(f"{where}: a bucket needs {exc.args[0]!r}") from None
        columns["precedence"].append(int(data.get("precedence", 100)))
        columns["services"].append([str(x) for x in data.get("services") or ()])
        columns["valid_from"].append(_instant(data.get("valid_from", data.get("validFrom")), where))
        columns["valid_to"].append(_instant(data.get("valid_to", data.get("validTo")), where))
        floor = data["floor"] if "floor" in data else 0  # absent: 0, never below zero; null: no limit
        columns["floor"].append(None if floor is None else _decimal(floor, where))
    return pl.DataFrame([pl.Series(name, values, dtype=BUCKET_SCHEMA[name]) for name, values in columns.items()])


def read_accumulators(path: Path) -> pl.DataFrame:
    """Accumulator totals from JSON lines (as :func:`write_state` writes them)."""
    columns: dict[str, list[Any]] = {name: [] for name in ACCUMULATOR_SCHEMA}
    for number, data in _json_lines(path):
        where = f"{path}:{number}"
        try:
            for name in ("accumulator", "subscriber", "period"):
                columns[name].append(str(data[name]))
        except KeyError as exc:
            raise InvalidInput(f"{where}: an accumulator total needs {exc.args[0]!r}") from None
        columns["volume"].append(_decimal(data.get("volume", 0), where))
        columns["amount"].append(_decimal(data.get("amount", 0), where))
        columns["reached"].append([str(x) for x in data.get("reached") or ()])
    return pl.DataFrame([pl.Series(name, values, dtype=ACCUMULATOR_SCHEMA[name])
                         for name, values in columns.items()])


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of a JSON lines file; numbers as decimals."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    with open(_existing(path), encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = decoder.decode(line)
            except ValueError as exc:
                raise InvalidInput(f"{path}:{number}: not JSON: {exc}") from None
            if not isinstance(data, dict):
                raise InvalidInput(f"{path}:{number}: expected a JSON object")
            yield number, data


def write_state(state: BulkState, folder: Path) -> None:
    """``buckets.jsonl`` and ``accumulators.jsonl`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    _decimals_as_text(state.buckets).write_ndjson(folder / "buckets.jsonl")
    _decimals_as_text(state.accumulators).write_ndjson(folder / "accumulators.jsonl")


# ------------------------------------------------------------------------------- writing


def _plain_text(column: pl.Expr) -> pl.Expr:
    """A decimal as text without the trailing zeros of its column's scale."""
    return column.cast(pl.Utf8).str.replace(r"(\.\d*?)0+$", "${1}").str.replace(r"\.$", "")


def _money_text(amount: pl.Expr, currency: pl.Expr, currencies: list[str]) -> pl.Expr:
    """An amount with the decimals of its currency's minor unit (2.50 EUR, 3 JPY, 1.250 KWD);
    ``currencies``: those the column holds."""
    exponents = {c: minor_unit_exponent(c) for c in currencies}
    exponent = currency.replace_strict(exponents, default=0, return_dtype=pl.Int64)  # no currency: no charge
    minor = amount.to_physical() // pl.lit(10, pl.Int128).pow(pl.lit(MONEY_DIGITS) - exponent)
    magnitude = minor.abs()
    power = pl.lit(10, pl.Int128).pow(exponent)
    whole = (magnitude // power).cast(pl.Utf8)
    fraction = (magnitude % power).cast(pl.Utf8).str.zfill(exponent)
    sign = pl.when(minor < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.when(amount.is_null()).then(pl.lit(None, pl.Utf8)) \
        .when(exponent == 0).then(pl.concat_str([sign, whole])) \
        .otherwise(pl.concat_str([sign, whole, pl.lit("."), fraction]))


def _decimals_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(_plain_text(pl.col(name)) for name, dtype in frame.schema.items()
                              if isinstance(dtype, pl.Decimal))


def _text_output(frame: pl.DataFrame, nested_as_json: bool) -> pl.DataFrame:
    """The rated frame for CSV or JSON lines: exact decimal text, currency decimals for money."""
    element = pl.element()
    currencies = frame["currency"].drop_nulls().unique().to_list()
    out = frame.with_columns(
        _plain_text(pl.col("volume")), _plain_text(pl.col("rated_volume")),
        _money_text(pl.col("amount"), pl.col("currency"), currencies).alias("amount"),
        _money_text(pl.col("prepaid"), pl.col("currency"), currencies).alias("prepaid"),
        _charges_text(frame, currencies),
        pl.col("buckets").list.eval(element.struct.with_fields(taken=_plain_text(element.struct.field("taken")))),
        pl.col("events").list.eval(element.struct.with_fields(value=_plain_text(element.struct.field("value")))),
        pl.col("start").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
    )
    if nested_as_json:
        out = out.with_columns(
            pl.concat_str([pl.lit("["), pl.col(name).list.eval(element.struct.json_encode()).list.join(","),
                           pl.lit("]")]).alias(name)
            for name in ("charges", "buckets", "events", "reasons"))
    return out


def _charges_text(frame: pl.DataFrame, currencies: list[str]) -> pl.Series:
    """The charges with their amounts in the decimals of the record's currency."""
    parts = frame.select(pl.int_range(pl.len()).alias("row"), "currency", "charges").explode("charges") \
        .filter(pl.col("charges").is_not_null()).unnest("charges")
    parts = parts.with_columns(_money_text(pl.col("amount"), pl.col("currency"), currencies).alias("amount"))
    lists = parts.group_by("row", maintain_order=True).agg(charges=pl.struct("payer", "billing_account", "amount"))
    joined = pl.DataFrame({"row": pl.int_range(frame.height, eager=True)}).join(lists, on="row", how="left",
                                                                                maintain_order="left")
    empty = pl.lit([], dtype=pl.List(pl.Struct({"payer": pl.Utf8, "billing_account": pl.Utf8, "amount": pl.Utf8})))
    return joined.select(pl.col("charges").fill_null(empty))["charges"]


_FEW_VALUES = ["service", "unit", "type", "country", "status", "rule_set", "rule", "provisioning_id", "currency",
               "reason_code", "reason_label", "rated_by"]


class RatedWriter:
    """Writes rated frames one after the other into one file of the format of its extension."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.kind = file_format(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._parquet: pq.ParquetWriter | None = None
        self._handle: Any = None
        self._header = True

    def write(self, frame: pl.DataFrame) -> None:
        frame = conform(frame, RATED_SCHEMA)
        if self.kind == "parquet":
            table = frame.to_arrow()
            if self._parquet is None:
                # dictionaries for the columns of few values only: building one for ids and times costs
                # more than it saves; no statistics (nobody filters rated files by min/max here)
                self._parquet = pq.ParquetWriter(self.path, table.schema, compression="snappy",
                                                 use_dictionary=_FEW_VALUES, write_statistics=False)
            self._parquet.write_table(table.cast(self._parquet.schema))
            return
        if self._handle is None:
            self._handle = open(self.path, "wb")
        if self.kind == "csv":
            _text_output(frame, nested_as_json=True).write_csv(self._handle, include_header=self._header)
            self._header = False
        else:
            _text_output(frame, nested_as_json=False).write_ndjson(self._handle)

    def close(self) -> None:
        if self._parquet is None and self._handle is None:
            self.write(pl.DataFrame(schema=RATED_SCHEMA))  # an empty input still gives a valid file
        if self._parquet is not None:
            self._parquet.close()
        if self._handle is not None:
            self._handle.close()


# -------------------------------------------------------------------------------- rating


@dataclass
class RatingSummary:
    """What a run did: records in, rated, rejected by reason, totals per currency, time."""

    records: int = 0
    rated: int = 0
    rejected: Counter = field(default_factory=Counter)
    totals: dict[str, Decimal] = field(default_factory=dict)
    by_reference: int = 0
    partitions: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def add(self, frame: pl.DataFrame) -> None:
        self.records += frame.height
        statuses = frame["status"]
        self.rated += int((statuses == "rated").sum())
        self.by_reference += int((frame["rated_by"] == "reference").sum())
        for code, count in frame.filter(pl.col("status") == "rejected").group_by("reason_code").len().iter_rows():
            self.rejected[code] += count
        for currency, amount in frame.filter(pl.col("status") == "rated").group_by("currency") \
                .agg(pl.col("amount").sum()).iter_rows():
            total = self.totals.get(currency, Decimal(0)) + Decimal(amount)
            self.totals[currency] = total.quantize(quantum(currency))


class _BackgroundWriter:
    """Writes rated chunks on a thread of its own while the next chunk is rated (the
    writers release the GIL); at most one chunk waits, so memory stays bounded."""

    def __init__(self, writer: RatedWriter, summary: RatingSummary):
        self.writer, self.summary = writer, summary
        self.queue: queue.Queue[pl.DataFrame | None] = queue.Queue(maxsize=1)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bssrules-rated-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (frame := self.queue.get()) is not None:
            if self.failure is not None:
                continue  # drain, so that put() never blocks forever
            try:
                began = time.perf_counter()
                self.writer.write(frame)
                self.summary.add(frame)
                self.summary.timings["write (in the background)"] = \
                    self.summary.timings.get("write (in the background)", 0.0) + time.perf_counter() - began
            except BaseException as exc:  # noqa: BLE001 - handed to the rating thread
                self.failure = exc

    def put(self, frame: pl.DataFrame) -> None:
        if self.failure is not None:
            raise self.failure
        self.queue.put(frame)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        try:
            self.writer.close()
        finally:
            if self.failure is not None:
                raise self.failure


def _row_count(path: Path, kind: str) -> int:
    """Rows in a usage file (lines for text files, counted without parsing)."""
    if kind == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    count = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            count += block.count(b"\n")
    return count


def _partition_of(subscriber: pl.Expr, partitions: int) -> pl.Expr:
    return (subscriber.hash(seed=_HASH_SEED) % partitions).cast(pl.Int64).fill_null(0)


def rate_file(book: RuleBook, usage: Path, subscribers: Path, output: Path, *, buckets: Path | None = None,
              accumulators: Path | None = None, state_out: Path | None = None,
              chunk_size: int = DEFAULT_CHUNK_SIZE) -> RatingSummary:
    """Rate a usage file into ``output``; write the new balances and totals into
    ``state_out`` when given. At most about ``chunk_size`` records are rated at once."""
    if chunk_size < 1:
        raise InvalidInput("the chunk size must be at least 1")
    began = time.perf_counter()
    summary = RatingSummary()
    timings = summary.timings
    kind = file_format(_existing(usage))
    file_format(output)
    stopwatch = time.perf_counter()
    subscriber_frame = read_subscribers(subscribers)
    state = BulkState(read_buckets(buckets) if buckets else pl.DataFrame(schema=BUCKET_SCHEMA),
                      read_accumulators(accumulators) if accumulators else pl.DataFrame(schema=ACCUMULATOR_SCHEMA))
    timings["read subscribers and state"] = time.perf_counter() - stopwatch
    partitions = max(1, math.ceil(_row_count(usage, kind) / chunk_size))
    summary.partitions = partitions
    writer = _BackgroundWriter(RatedWriter(output), summary)
    new_states: list[BulkState] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bssrules-rating-") as spill:
            for index, records in enumerate(_partitions(usage, partitions, Path(spill), timings)):
                mine = state
                if partitions > 1:  # only the balances and totals of this partition's subscribers
                    mine = BulkState(
                        state.buckets.filter(_partition_of(pl.col("subscriber"), partitions) == index),
                        state.accumulators.filter(_partition_of(pl.col("subscriber"), partitions) == index))
                rated, new_state = rate_chunk(records, subscriber_frame, book, mine, timings)
                new_states.append(new_state)
                stopwatch = time.perf_counter()
                writer.put(rated)
                timings["wait for the writer"] = timings.get("wait for the writer", 0.0) \
                    + time.perf_counter() - stopwatch
    finally:
        stopwatch = time.perf_counter()
        writer.close()
        timings["wait for the writer"] = timings.get("wait for the writer", 0.0) + time.perf_counter() - stopwatch
    if state_out is not None:
        stopwatch = time.perf_counter()
        final = BulkState(pl.concat([s.buckets for s in new_states]) if new_states else state.buckets,
                          pl.concat([s.accumulators for s in new_states]) if new_states else state.accumulators)
        write_state(final, Path(state_out))
        timings["write state"] = time.perf_counter() - stopwatch
    summary.seconds = time.perf_counter() - began
    return summary


def _partitions(usage: Path, partitions: int, spill: Path, timings: dict[str, float]) -> Iterator[pl.DataFrame]:
    """The checked records of the file, one partition of subscribers at a time."""
    stopwatch = time.perf_counter()
    if partitions == 1:
        frames = [normalize_usage(raw) for raw in read_usage_batches(usage)]
        timings["read"] = timings.get("read", 0.0) + time.perf_counter() - stopwatch
        # one contiguous chunk: gathers over many small ones cost several times more
        yield pl.concat(frames, rechunk=True) if frames else pl.DataFrame(schema=RECORD_SCHEMA)
        return
    paths = [spill / f"part-{i:05d}.arrow" for i in range(partitions)]
    schema = pl.DataFrame(schema=RECORD_SCHEMA).to_arrow().schema
    writers = [ipc.new_stream(str(p), schema) for p in paths]
    try:
        for raw in read_usage_batches(usage):
            records = normalize_usage(raw).with_columns(part=_partition_of(pl.col("subscriber"), partitions))
            for (part,), frame in records.partition_by("part", as_dict=True, include_key=False).items():
                writers[int(part)].write_table(frame.to_arrow().cast(schema))  # type: ignore[call-overload]
    finally:
        for writer in writers:
            writer.close()
    timings["read and partition"] = timings.get("read and partition", 0.0) + time.perf_counter() - stopwatch
    for path in paths:
        stopwatch = time.perf_counter()
        with ipc.open_stream(str(path)) as reader:
            table = reader.read_all()
        frame = pl.from_arrow(table.combine_chunks())  # one contiguous chunk, not one per batch written
        assert isinstance(frame, pl.DataFrame)
        timings["read partitions"] = timings.get("read partitions", 0.0) + time.perf_counter() - stopwatch
        yield frame
        path.unlink()


__all__ = ["rate_file", "RatingSummary", "RatedWriter", "read_usage_batches", "normalize_usage", "read_subscribers",
           "read_buckets", "read_accumulators", "write_state", "file_format", "FORMATS", "DEFAULT_CHUNK_SIZE"]
