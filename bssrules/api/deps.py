"""Running a use case on a unit of work from an async route, and reading JSON bodies."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from bssrules import jsontext
from bssrules.api import tmfspec
from bssrules.dates import DATE_EXPECTED, DATE_TIME_EXPECTED, NotInCalendar, shown
from bssrules.errors import InvalidInput, did_you_mean
from bssrules.services.ports import UnitOfWork, UnitOfWorkFactory
from bssrules.services.records import KeyTaken
from bssrules.services.resources import KINDS, MergePatch

T = TypeVar("T")
JSON_TYPES = ("application/json",)
PATCH_TYPES = ("application/merge-patch+json", "application/json")


def unit_of_work_factory(request: Request) -> UnitOfWorkFactory:
    """The factory of units of work the app was built with (see :func:`bssrules.api.create_app`)."""
    factory: UnitOfWorkFactory = request.app.state.unit_of_work
    return factory


# How often a use case runs again after losing a race for a key (see KeyTaken).
KEY_RACE_RETRIES = 2


async def in_unit_of_work(request: Request, use_case: Callable[..., T], *args: Any) -> T:
    """Run ``use_case(uow, *args)`` in a worker thread, on its own transaction.

    A use case that loses a race for a key (another request inserted the same id after this
    one looked for it: :class:`KeyTaken`) is rolled back whole and run again, on a fresh
    transaction: its own checks then find the row and answer as they would have (the
    stored usage, a 409 naming the id …)."""
    return await run_in_threadpool(in_unit_of_work_here, request, use_case, *args)


def in_unit_of_work_here(request: Request, use_case: Callable[..., T], *args: Any) -> T:
    """:func:`in_unit_of_work` in the calling thread: on the event loop, for a use case that
    only computes and reads an in-process database (SQLite) — no thread to hand it to and
    take it back from, which cost about as much as the database read itself."""
    open_unit_of_work = unit_of_work_factory(request)
    principal = getattr(request.state, "principal", None)
    uow: UnitOfWork
    retries = 0
    while True:
        try:
            with open_unit_of_work(principal) as uow:
                return use_case(uow, *args)
        except KeyTaken:
            if retries == KEY_RACE_RETRIES:
                raise
            retries += 1


def _without_nulls(value: Any) -> Any:
    """A merge patch as the schema judges it: a member set to null removes (left out), in the
    objects merged; an array replaces the array it patches whole (RFC 7386), so what it holds
    is stored as sent — a null in it is a value, judged as one (was: removed here, so that
    ``note: [{"author": null}]`` passed and was stored)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def body_path(path: Any) -> str:
    """A place in a JSON body, as the messages name it: ``relatedParty[0].id`` (``(body)``: all of it)."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(body)"


_EXPECTED = {"date-time": DATE_TIME_EXPECTED, "date": DATE_EXPECTED}


def _problem(error: Any) -> str:
    where = body_path(error.absolute_path)
    if error.validator == "format" and error.validator_value in _EXPECTED:
        quoted = shown(error.instance)  # (format judges text alone) as the services quote a date
        if isinstance(error.cause, NotInCalendar):
            return f"{where}: {quoted} {error.cause}; expected {_EXPECTED[error.validator_value]}"
        return f"{where}: {quoted} is not {_EXPECTED[error.validator_value]}"
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
        return f"{where}: expected {expected}, got {jsontext.dumps(error.instance)[:80]}"
    return f"{where}: {error.message}"


# Definitions whose every date-time their service judges by a stricter rule, naming the problem
# more precisely than the format check would: a bucket's validFor (TMF654) is a date-time that
# names its zone, never a date — spelt as bssrules.dates reads every date, in its words
# (dates.zoned_date_time_problem: "is not a date-time with a time zone", "names no time zone").
DATES_JUDGED_BY_THEIR_SERVICE = frozenset({"Bucket_Create"})

# The merge patches whose bad dates their service judges against the stored resource
# (services.resources.patch: a MergePatch): a date stored before the dates of a body were
# judged (2026-09-01t10:00:00z), sent back as GET gave it, is kept; any other is refused as here.
# (A shopping cart's patch is services.carts': its dates are judged here, as every other body's.)
DATES_SENT_BACK_AS_STORED = frozenset(f"{kind.type}_Update" for kind in KINDS.values() if kind.name != "shoppingCart")

# No TMF resource nests half as deep; deeper JSON is refused before anything walks it.
MAX_DEPTH = 32


async def read_json(request: Request, accepted: tuple[str, ...]) -> Any:
    """The request body parsed as JSON (exact decimals), sent as one of the ``accepted`` media
    types (415 otherwise), not empty, not nested deeper than MAX_DEPTH (400 otherwise)."""
    content_type, *parameters = request.headers.get("content-type", "").split(";")
    content_type = content_type.strip().lower()
    if content_type not in accepted:
        raise UnsupportedMediaType(f"send the body as {' or '.join(accepted)}, not '{content_type or 'nothing'}'")
    for parameter in parameters:  # JSON is UTF-8 (RFC 8259): a body said to be in another charset is not read as one
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"send the body in UTF-8 (charset=utf-8, or no charset), not charset={charset}")
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput("the request body is empty; a JSON object is expected")
    try:
        body = jsontext.loads(raw)
    except RecursionError:
        raise InvalidInput(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from None
    if jsontext.deeper_than(body, MAX_DEPTH):
        raise InvalidInput(f"the body is nested deeper than {MAX_DEPTH} levels")
    # refused here, once for every route: no database keeps it. Only a body that spells an
    # escape (\\u) can hold NUL or a lone surrogate: the parser refuses both spelt raw (a
    # control character in a string, bytes that are not UTF-8), so the walk is skipped otherwise
    unstorable = jsontext.unstorable_text(body) if b"\\u" in raw else None
    if unstorable is not None:
        path, problem = unstorable
        raise InvalidInput(f"{body_path(path)}: {problem}", path=path)
    return body


def id_problem(value: Any) -> str | None:
    """Why a client's ``id`` cannot name a resource, if it cannot: it is text, and it must be
    readable back at ``…/{id}`` — a "/" would make two path segments, "." and ".." are
    removed from a path by clients and proxies."""
    if value is None:
        return None
    if not isinstance(value, str):
        return (f"id is a string, not {jsontext.dumps(value)[:40]}: give the id as text "
                "(\"id\": \"5\") or leave it out to have one made")
    if "/" in value or value in (".", ".."):
        return (f"id {jsontext.dumps(value)[:60]} cannot be read back at …/{{id}}: an id holds no \"/\" "
                "and is not \".\" or \"..\" (leave it out to have one made)")
    return None


async def json_body(request: Request, accepted: tuple[str, ...], definition: str | None,
                    merge_patch: bool = False, spec: tmfspec.TmfSpec = tmfspec.TMF620,
                    closed: bool = False) -> dict[str, Any]:
    """The request body as JSON (exact decimals), checked against a TMF definition.

    In a merge patch, ``null`` means "remove": nulls are left out of the schema check.
    ``closed``: top-level attributes the definition does not have are refused (the TMF
    definitions allow any; the services that keep the body as it came need this)."""
    body = await read_json(request, accepted)
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    problem = id_problem(body.get("id"))  # every id of these APIs is text, read back at …/{id}
    if problem is not None:
        raise InvalidInput(problem, path=("id",))
    if definition is None:  # no official definition for this operation (TMF760 v5 ships none)
        return body
    if closed:
        known = spec.definitions[definition].get("properties", {})
        unknown = sorted(set(body) - set(known) - {"id", "@type"})
        if unknown:
            raise InvalidInput(f"unsupported attribute{'s' if len(unknown) > 1 else ''} "
                               f"{', '.join(map(repr, unknown))} for {definition}", path=(unknown[0],),
                               suggestion=did_you_mean(unknown[0], known))
    checked = _without_nulls(body) if merge_patch else body
    validator = spec.validator(definition) if definition in DATES_JUDGED_BY_THEIR_SERVICE \
        else spec.body_validator(definition)  # (format: date-time and date checked)
    errors = sorted(validator.iter_errors(checked), key=lambda e: list(map(str, e.absolute_path)))
    if merge_patch:  # a patch names only what changes: attributes the definition requires may be absent
        errors = [e for e in errors if not (e.validator == "required" and not e.absolute_path)]
    if errors:
        details = [_problem(e) for e in errors]
        if all(e.validator == "format" for e in errors):  # named as the services name a bad date: "field: …"
            if merge_patch and definition in DATES_SENT_BACK_AS_STORED:  # judged against the stored ones
                patch = MergePatch(body)
                patch.date_problems = tuple((tuple(e.absolute_path), text) for e, text in zip(errors, details))
                return patch
            raise InvalidInput("; ".join(details), path=tuple(errors[0].absolute_path), details=details)
        raise InvalidInput(f"the body does not conform to {definition}: " + "; ".join(details), details=details)
    return body


class UnsupportedMediaType(InvalidInput):
    code = "unsupportedMediaType"
