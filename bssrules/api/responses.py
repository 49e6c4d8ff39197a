"""JSON responses with exact decimal amounts."""
from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from bssrules import jsontext


class TMFJSONResponse(JSONResponse):
    """Renders Decimals as exact JSON numbers (9.99 stays 9.99)."""

    def render(self, content: Any) -> bytes:
        return jsontext.dumps(content).encode("utf-8")


# the reason phrase of each status our TMF Error bodies carry
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
           422: "Unprocessable Entity", 500: "Internal Server Error"}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> TMFJSONResponse:
    """The TMF Error body with its status (and any headers, e.g. Allow or WWW-Authenticate)."""
    body: dict[str, Any] = {"code": code, "reason": REASONS.get(status, "Error"), "message": message,
                            "status": str(status), "@type": "Error"}
    return TMFJSONResponse(body, status_code=status, headers=headers)
