"""CSV as the regulator's desk opens it: UTF-8 with a byte-order mark (so Excel reads the Chinese
headers right), one header row of `中文(english)` names, money as integer minor units with a
2-decimal yuan display column beside it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

BOM = "\ufeff"


def yuan(minor: int | None) -> str:
    """Minor units (fen) shown as yuan with exactly two decimals, without any float rounding."""
    if minor is None:
        return ""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def render(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The CSV text, BOM first; `None` cells are empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return BOM + out.getvalue()
