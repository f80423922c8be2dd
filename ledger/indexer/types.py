"""Column types shared by the models and the migrations.

`U256` keeps EVM integers exact on every database: NUMERIC(78,0) on PostgreSQL (78 digits hold any
uint256) and, on SQLite, TEXT zero-padded to 78 digits — SQLite's NUMERIC turns integers above 2^63
into lossy REALs, while fixed-width digit strings compare and sort exactly like the numbers they
hold. SQLite cannot SUM such text exactly, so the queries add money up in Python.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

U256_DIGITS = 78


class U256(TypeDecorator[int]):
    """An unsigned EVM integer (up to 2^256 - 1), exact on PostgreSQL and SQLite; Python `int`."""

    impl = Numeric(U256_DIGITS, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(U256_DIGITS))
        return dialect.type_descriptor(Numeric(U256_DIGITS, 0, asdecimal=True))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = int(value)
        if value < 0:
            raise ValueError(f"U256 cannot store a negative value: {value}")
        if dialect.name == "sqlite":
            return str(value).zfill(U256_DIGITS)
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(value)

    def process_literal_param(self, value: int | None, dialect: Dialect) -> str:
        bound = self.process_bind_param(value, dialect)
        return "NULL" if bound is None else (f"'{bound}'" if isinstance(bound, str) else str(bound))

    @property
    def python_type(self) -> type[int]:
        return int
