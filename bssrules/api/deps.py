"""Running a use case on a unit of work from an async route, and reading JSON bodies."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from bssrules import jsontext
from bssrules.api import tmfspec
from bssrules.errors import InvalidInput
from bssrules.store.uow import UnitOfWork

T = TypeVar("T")
JSON_TYPES = ("application/json",)
PATCH_TYPES = ("application/merge-patch+json", "application/json")


async def in_unit_of_work(request: Request, use_case: Callable[..., T], *args: Any) -> T:
    """Run ``use_case(uow, *args)`` in a worker thread, on its own transaction."""
    engine = request.app.state.engine
    principal = getattr(request.state, "principal", None)

    def run() -> T:
        with UnitOfWork(engine, principal) as uow:
            return use_case(uow, *args)

    return await run_in_threadpool(run)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _problem(error: Any) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".") or "(body)"
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
        return f"{where}: expected {expected}, got {jsontext.dumps(error.instance)[:80]}"
    return f"{where}: {error.message}"


async def json_body(request: Request, accepted: tuple[str, ...], definition: str | None,
                    merge_patch: bool = False, spec: tmfspec.TmfSpec = tmfspec.TMF620) -> dict[str, Any]:
    """The request body as JSON (exact decimals), checked against a TMF definition.

    In a merge patch, ``null`` means "remove": nulls are left out of the schema check."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in accepted:
        raise UnsupportedMediaType(f"send the body as {' or '.join(accepted)}, not '{content_type or 'nothing'}'")
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput("the request body is empty; a JSON object is expected")
    try:
        body = jsontext.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    if definition is None:  # no official definition for this operation (TMF760 v5 ships none)
        return body
    try:
        checked = _without_nulls(body) if merge_patch else body
    except RecursionError:
        raise InvalidInput("the body is nested too deeply") from None
    errors = sorted(spec.validator(definition).iter_errors(checked), key=lambda e: list(map(str, e.absolute_path)))
    if merge_patch:  # a patch names only what changes: attributes the definition requires may be absent
        errors = [e for e in errors if not (e.validator == "required" and not e.absolute_path)]
    if errors:
        details = [_problem(e) for e in errors]
        raise InvalidInput(f"the body does not conform to {definition}: " + "; ".join(details), details=details)
    return body


class UnsupportedMediaType(InvalidInput):
    code = "unsupportedMediaType"
