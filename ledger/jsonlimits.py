"""Guards for JSON that arrives over the network, shared by the API and the oracles' HTTP servers.

Python's JSON parser recurses once per nesting level, in C. An imported library (py_ecc, through
eth_account) raises the interpreter's recursion limit to 100,000 at import, and at that limit a body
of 100,000 `[` overflows the C stack before Python can raise `RecursionError`: the process dies with a
segmentation fault. Two guards, each enough on its own against that body:

- `JsonDepthScanner` measures the nesting depth of the raw bytes without recursing and without
  parsing, chunk by chunk as they arrive, so a body too deep is refused before anything parses it;
- `restore_recursion_limit` puts the limit back to a value the C stack can honour, so whatever
  recursion slips past still ends in `RecursionError` instead of a crash.
"""

from __future__ import annotations

import sys

SAFE_RECURSION_LIMIT = 10_000
"""Deep enough for every library we use (eth_keys' point multiplication recurses ~256 deep), shallow
enough that 10,000 C-level JSON frames fit the default 8 MiB stack of the main thread and of worker
threads (checked for `json.loads`, `json.dumps` and `repr` of nested lists)."""

DEFAULT_MAX_JSON_DEPTH = 64

_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE, _BACKSLASH, _NUL = ord('"'), ord("\\"), 0


class JsonLimitError(ValueError):
    """The bytes break a limit; `reason` is a sentence for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JsonTooDeep(JsonLimitError):
    pass


class JsonNotUtf8(JsonLimitError):
    pass


def restore_recursion_limit(limit: int = SAFE_RECURSION_LIMIT) -> int:
    """Lower the interpreter's recursion limit to `limit` if an import raised it higher; never raises
    it. Call once the imports are done (app factory, server start). Returns the limit in force."""
    if sys.getrecursionlimit() > limit:
        sys.setrecursionlimit(limit)
    return sys.getrecursionlimit()


class JsonDepthScanner:
    """Tracks the bracket depth of a JSON text fed in chunks, ignoring brackets inside strings.

    It does not validate JSON: it only guarantees that a parser reading these bytes never nests
    deeper than `max_depth`. Wherever the scanner and a parser could disagree the parser has already
    stopped with a syntax error (a `"` outside a string where no value may start, an invalid escape),
    so the depth seen here is never below the parser's. One exception needs handling: `json.loads`
    also decodes UTF-16 and UTF-32, whose code units can contain the bytes of `"` and `\\`; such
    encodings always contain NUL bytes for ASCII characters, which UTF-8 JSON never contains
    (RFC 8259 requires UTF-8 between systems), so a NUL byte is refused.
    """

    __slots__ = ("_escaped", "_in_string", "depth", "max_depth")

    def __init__(self, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> None:
        self.max_depth = max_depth
        self.depth = 0
        self._in_string = False
        self._escaped = False

    def feed(self, chunk: bytes) -> None:
        """Scan the next chunk; raises `JsonTooDeep` or `JsonNotUtf8` as soon as a limit is broken."""
        if _NUL in chunk:
            raise JsonNotUtf8("the body must be UTF-8 encoded JSON (RFC 8259); it contains a NUL byte")
        depth, in_string, escaped = self.depth, self._in_string, self._escaped
        for byte in chunk:
            if in_string:
                if escaped:
                    escaped = False
                elif byte == _BACKSLASH:
                    escaped = True
                elif byte == _QUOTE:
                    in_string = False
            elif byte == _QUOTE:
                in_string = True
            elif byte in _OPEN:
                depth += 1
                if depth > self.max_depth:
                    raise JsonTooDeep(f"JSON nested deeper than {self.max_depth} levels")
            elif byte in _CLOSE and depth > 0:
                depth -= 1
        self.depth, self._in_string, self._escaped = depth, in_string, escaped


def check_json_depth(body: bytes, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> None:
    """`JsonDepthScanner` over a whole body at once."""
    JsonDepthScanner(max_depth).feed(body)
