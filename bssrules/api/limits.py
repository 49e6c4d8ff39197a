"""The request size limit: a body larger than ``BSSRULES_MAX_BODY_BYTES`` (default 4 MiB) is
refused with 413 before it is read into memory.

The largest legitimate body of these APIs, a batch of 1000 usages, is well under a megabyte.
A declared ``Content-Length`` over the limit is answered at once; a body sent without one
(chunked) is read here as it arrives, refused as soon as it passes the limit, else handed on."""
from __future__ import annotations

import os
from typing import Any, Awaitable, Callable

from starlette.types import Message, Receive, Scope, Send

from bssrules.api.responses import error_response
from bssrules.errors import InvalidInput

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


class PayloadTooLarge(InvalidInput):
    code = "payloadTooLarge"


def whole_setting(name: str, default: int, meaning: str) -> int:
    """A whole-number setting of the environment, 1 or more (its default when unset): what a
    value that is none stops the start with (a ValueError naming the variable), where read
    later it would answer 500 to every request, or — 0 leaders — let usages wait for ever."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of {meaning}, 1 or more (default {default}); got {raw!r}")
    return int(raw)


def max_body_bytes() -> int:
    return whole_setting("BSSRULES_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, "bytes of a request body")


def rating_leaders() -> int:
    """How many batches of single usages a worker rates at once (``BSSRULES_RATING_LEADERS``)."""
    return whole_setting("BSSRULES_RATING_LEADERS", 1, "batches of usages a worker rates at once")


class BodySizeLimit:
    """Pure ASGI middleware (it must see the body before any reader buffers it)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int | None = None):
        self.app, self.limit = app, limit if limit is not None else max_body_bytes()

    def _too_large(self, size: int | None = None) -> PayloadTooLarge:
        sent = f" ({size} bytes)" if size is not None else ""
        return PayloadTooLarge(f"the request body{sent} is larger than the limit of {self.limit} bytes; "
                               "send less per request (usages: at most 1000 per batch)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.strip().isdigit():
            if int(declared) > self.limit:
                await self._refuse(scope, receive, send, int(declared))
                return
            await self.app(scope, receive, send)  # the server delivers no more than the declared length
            return
        # No length declared (chunked): read up to the limit here, then replay what was read.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: int | None = None) -> None:
        error = self._too_large(size)
        await error_response(413, error.code, str(error), headers={"Connection": "close"})(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives ``messages`` first, then whatever the client sends next."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
