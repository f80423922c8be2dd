"""The JSON plumbing shared by the oracles' two small HTTP servers (node and aggregator intake).

Both use the standard library's server on loopback; this base gives them one way to answer JSON and
RFC 9457 problems, and routes the server's access log to debug logging.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

logger = logging.getLogger(__name__)


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON, and problem+json for errors."""

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http %s", format % args)

    def _reply(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        content_type = "application/json" if status < 400 else "application/problem+json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _problem(self, status: HTTPStatus, detail: str) -> None:
        self._reply(status, {"title": status.phrase, "status": int(status), "detail": detail})
