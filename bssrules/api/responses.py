"""JSON responses with exact decimal amounts."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import JSONResponse, Response

from bssrules import jsontext


class TMFJSONResponse(JSONResponse):
    """Renders Decimals as exact JSON numbers (9.99 stays 9.99)."""

    def render(self, content: Any) -> bytes:
        try:
            return jsontext.dumps(content).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in what was stored: sent as its JSON escape
            return jsontext.dumps(content, ensure_ascii=True).encode("ascii")


# what a URI keeps as it is (RFC 3986 reserved and unreserved characters, and "%" of what is
# encoded already); everything else is percent-encoded as UTF-8
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~"


def location(href: str) -> str:
    """A Location header for ``href``: always ASCII (a header cannot carry an emoji, and
    building one must not fail once the resource is committed)."""
    return quote(href, safe=_URI_SAFE)


# the reason phrase of each status our TMF Error bodies carry
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
           422: "Unprocessable Entity", 500: "Internal Server Error", 503: "Service Unavailable"}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> TMFJSONResponse:
    """The TMF Error body with its status (and any headers, e.g. Allow or WWW-Authenticate)."""
    body: dict[str, Any] = {"code": code, "reason": REASONS.get(status, "Error"), "message": message,
                            "status": str(status), "@type": "Error"}
    return TMFJSONResponse(body, status_code=status, headers=headers)


def _text_of(content: Any) -> str | None:
    text = getattr(content, "json", None)
    return text if isinstance(text, str) and text else None


def sent_json(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``content`` as JSON: the text it carries when it was written once already (a usage
    just stored: :class:`bssrules.services.usage.JsonDocument`), else rendered; a list of
    such, their texts joined."""
    if isinstance(content, list):
        texts = [_text_of(item) for item in content]
        text = "[" + ", ".join(t for t in texts if t is not None) + "]" if all(texts) else None
    else:
        text = _text_of(content)
    if text is not None:
        try:
            return Response(text.encode("utf-8"), status_code=status_code, headers=headers,
                            media_type="application/json")
        except UnicodeEncodeError:  # a lone surrogate: rendered with escapes
            pass
    return TMFJSONResponse(content, status_code=status_code, headers=headers)
