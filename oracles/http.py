"""The JSON plumbing shared by the oracles' two small HTTP servers (node and aggregator intake).

Both use the standard library's server on loopback; this base gives them one way to answer JSON and
RFC 9457 problems, one way to read a JSON body within limits, and routes the server's access log to
debug logging.

`read_json_body` never lets a parser see a body that is too large (413, refused by its
Content-Length before reading) or nested deeper than `max_json_depth` (400, scanned without
recursion: see `ledger.jsonlimits`): Python's JSON parser recurses in C once per level, and with
the recursion limit py_ecc sets at import a body of 100,000 `[` used to crash the process.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from ledger.jsonlimits import DEFAULT_MAX_JSON_DEPTH, JsonDepthScanner, JsonLimitError

logger = logging.getLogger(__name__)


READ_CHUNK_BYTES = 1024 * 1024


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON, and problem+json for errors."""

    max_json_depth = DEFAULT_MAX_JSON_DEPTH

    def read_json_body(self, max_bytes: int, *, hint: str = "split the batch") -> bytes | None:
        """The request body within `max_bytes` and `max_json_depth`, scanned but not parsed; or
        None once a problem has been answered (the caller returns)."""
        raw = self.headers.get("Content-Length")
        if raw is None:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                self._problem(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
                return None
            raw = "0"
        if not raw.strip().isdigit():
            self._problem(HTTPStatus.BAD_REQUEST, "Content-Length must be a non-negative integer")
            return None
        length = int(raw)
        if length <= 0:
            self._problem(HTTPStatus.BAD_REQUEST, "a JSON body is required")
            return None
        if length > max_bytes:
            self.close_connection = True
            self._problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body exceeds {max_bytes} bytes; {hint}")
            return None
        scanner = JsonDepthScanner(self.max_json_depth)
        chunks: list[bytes] = []
        remaining = length
        while remaining:
            chunk = self.rfile.read(min(remaining, READ_CHUNK_BYTES))
            if not chunk:
                self._problem(HTTPStatus.BAD_REQUEST, "the body ended before its Content-Length")
                return None
            try:
                scanner.feed(chunk)
            except JsonLimitError as exc:
                self.close_connection = True
                self._problem(HTTPStatus.BAD_REQUEST, exc.reason)
                return None
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

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
