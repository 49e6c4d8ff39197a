"""Domain errors and HTTP errors, rendered as the TMF ``Error`` body {code, reason, message, status}."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from bssrules.api.deps import UnsupportedMediaType
from bssrules.api.limits import PayloadTooLarge
from bssrules.api.responses import REASONS as _REASONS, TMFJSONResponse
from bssrules.api.responses import error_response as error_response  # where the routers look for it
from bssrules.errors import BssRulesError, Conflict, Forbidden, InvalidInput, InvalidSource, NotFound, UnknownReference
from bssrules.services.orders import OrderRejected
from bssrules.services.records import PartlyStored

log = logging.getLogger("bssrules.api")

_STATUS = {PartlyStored: 503, PayloadTooLarge: 413, Forbidden: 403, OrderRejected: 422, UnsupportedMediaType: 415, InvalidInput: 400, InvalidSource: 400, NotFound: 404, Conflict: 409, UnknownReference: 422}


def _domain_error(_: Request, exc: Exception) -> TMFJSONResponse:
    assert isinstance(exc, BssRulesError)
    status = next((s for t, s in _STATUS.items() if isinstance(exc, t)), 400)
    response = error_response(status, exc.code, str(exc))
    if isinstance(exc, (OrderRejected, PartlyStored)):
        from bssrules import jsontext

        body = jsontext.loads(bytes(response.body))
        if isinstance(exc, OrderRejected):  # every violation, as a configuration check gives them
            body["violation"] = exc.violations
        else:  # what a batch stored before it failed: sent again with these ids, it is stored once
            body["stored"] = [{"index": index, "id": usage_id} for index, usage_id in exc.stored]
        response = TMFJSONResponse(body, status_code=status)
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this path (Starlette reports only the first route's)."""
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def _http_error(request: Request, exc: Exception) -> TMFJSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "notFound", 405: "methodNotAllowed"}.get(exc.status_code, "httpError")
    message = str(exc.detail) if exc.detail else _REASONS.get(exc.status_code, "Error")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed on {request.url.path}; allowed: {', '.join(allowed)}"
    return error_response(exc.status_code, code, message, headers=headers or None)


def _validation_error(_: Request, exc: Exception) -> TMFJSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return error_response(400, "invalidInput", "; ".join(problems))


def _unexpected(_: Request, exc: Exception) -> TMFJSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internalError", "an unexpected error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves the API as a TMF Error body with the matching status."""
    app.add_exception_handler(BssRulesError, _domain_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
