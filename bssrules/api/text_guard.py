"""Text no database keeps, refused where it enters: a path or query parameter that holds NUL
or a lone surrogate is a 400 naming it, before any route runs (the JSON bodies get the same
check when they are read: :func:`bssrules.api.deps.read_json`).

PostgreSQL refuses NUL in text outright, so such an id or filter value would otherwise fail
the query (a 500) instead of finding nothing.
"""
from __future__ import annotations

from typing import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from bssrules import jsontext
from bssrules.api.responses import error_response


def problem_of(scope: Scope) -> str | None:
    """What is wrong with the text of a request's path or query, or None."""
    path = scope.get("path", "")
    found = jsontext.text_problem(path)
    if found is not None:
        return f"the path {jsontext.escaped(path)[:200]} {found}"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):  # as Starlette reads them
        for what, text in (("the name of the query parameter", name), (f"query parameter '{name}'", value)):
            found = jsontext.text_problem(text)
            if found is not None:
                return f"{jsontext.escaped(what)[:200]} {found}"
    return None


class TextGuard:
    """Pure ASGI middleware: refuses a request whose path or query holds unstorable text."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = problem_of(scope)
            if problem is not None:
                await error_response(400, "invalidInput", problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)
