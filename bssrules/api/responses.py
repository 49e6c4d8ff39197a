"""JSON responses with exact decimal amounts."""
from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from bssrules import jsontext


class TMFJSONResponse(JSONResponse):
    """Renders Decimals as exact JSON numbers (9.99 stays 9.99)."""

    def render(self, content: Any) -> bytes:
        return jsontext.dumps(content).encode("utf-8")
