"""Cursor pagination: an opaque base64 cursor naming the last key seen, a `limit`, a `next_cursor`.

List endpoints sort by a unique key (token id, slot, proposal id) and ask for `limit + 1` rows after
the cursor's key; the extra row only says whether there is a next page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from api.errors import Unprocessable

T = TypeVar("T")
K = TypeVar("K", int, str)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: int | str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)["k"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise Unprocessable("cursor is not one this service issued", field="cursor") from exc
    if not isinstance(key, int | str) or isinstance(key, bool):
        raise Unprocessable("cursor is not one this service issued", field="cursor")
    return key


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None

    def after_int(self) -> int | None:
        if self.cursor is None:
            return None
        key = decode_cursor(self.cursor)
        if not isinstance(key, int):
            raise Unprocessable("cursor is not one this service issued", field="cursor")
        return key

    def page(self, rows: Sequence[T], key: Callable[[T], int | str]) -> Page[T]:
        """A page from `rows` fetched with `limit + 1` (already after the cursor, in key order)."""
        items = list(rows[: self.limit])
        more = len(rows) > self.limit
        return Page[T](items=items, next_cursor=encode_cursor(key(items[-1])) if more and items else None)

    def slice(self, rows: Sequence[T], key: Callable[[T], int]) -> Page[T]:
        """A page of an in-memory list sorted by `key` (for queries that return whole lists)."""
        after = self.after_int()
        remaining = [r for r in rows if after is None or key(r) > after]
        return self.page(remaining[: self.limit + 1], key)
