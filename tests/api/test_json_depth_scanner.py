"""`ledger.jsonlimits.JsonDepthScanner`: the depth a JSON parser would reach, from raw bytes in
chunks, never fooled by brackets inside strings or by escapes, whatever the chunk boundaries."""

from __future__ import annotations

import json

import pytest

from ledger.jsonlimits import JsonDepthScanner, JsonNotUtf8, JsonTooDeep, check_json_depth


def _fed_in_pieces(body: bytes, cut: int, max_depth: int) -> None:
    scanner = JsonDepthScanner(max_depth)
    scanner.feed(body[:cut])
    scanner.feed(body[cut:])


def test_depth_up_to_the_limit_passes_and_one_more_is_refused() -> None:
    check_json_depth(b"[" * 4 + b"]" * 4, max_depth=4)
    check_json_depth(b'{"a": [{"b": [1]}]}', max_depth=4)
    with pytest.raises(JsonTooDeep, match="deeper than 4"):
        check_json_depth(b"[" * 5, max_depth=4)
    with pytest.raises(JsonTooDeep):
        check_json_depth(b'{"a":' * 5 + b"0" + b"}" * 5, max_depth=4)


def test_siblings_do_not_add_up() -> None:
    check_json_depth(b"[" + b"[[]]," * 10_000 + b"[]]", max_depth=3)


def test_brackets_inside_strings_and_escaped_quotes_are_not_nesting() -> None:
    body = json.dumps({"a": "[[[[[[{{{{", "b": 'say \\"[[[[[[" ok', "c": "\\\\", "d": ["]]]]"]}).encode()
    check_json_depth(body, max_depth=2)
    # an escaped backslash ends before the quote: the string closes, the brackets after it count
    with pytest.raises(JsonTooDeep):
        check_json_depth(b'["\\\\", [[[[', max_depth=3)


def test_every_chunk_boundary_gives_the_same_answer() -> None:
    deep = b'{"s": "a\\"[[[", "t": [[["\\\\"]]], "u": [[[[' + b"]]]]}"
    for cut in range(len(deep) + 1):
        with pytest.raises(JsonTooDeep):
            _fed_in_pieces(deep, cut, max_depth=4)
        _fed_in_pieces(deep, cut, max_depth=5)


def test_utf16_and_nul_bytes_are_refused_as_not_utf8() -> None:
    # json.loads would decode UTF-16, whose code units can hide a quote or a backslash byte
    with pytest.raises(JsonNotUtf8):
        check_json_depth('["\u5c41", [[[[]]]]]'.encode("utf-16-le"))
    with pytest.raises(JsonNotUtf8):
        check_json_depth(b'{"a": 1}\x00')
    check_json_depth('{"名": "[[[[[[[["}'.encode(), max_depth=1)  # UTF-8 text is fine
