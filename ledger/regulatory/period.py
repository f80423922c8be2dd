"""Reporting periods: whole Asia/Shanghai calendar days (UTC+8, no daylight saving), `from` and `to`
both inclusive. A period covers [from 00:00:00, to + 1 day 00:00:00) China Standard Time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class PeriodError(ValueError):
    """A reporting period that cannot be used; the message says why."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def of(cls, start: date | None, end: date | None) -> Period:
        """The period from `start` to `end` (inclusive); missing ends default to 2000-01-01 and today."""
        first = start or date(2000, 1, 1)
        last = end or datetime.now(SHANGHAI).date()
        if first > last:
            raise PeriodError(
                f"the period is reversed: from {first.isoformat()} is after to {last.isoformat()}"
            )
        return cls(first, last)

    @property
    def since(self) -> int:
        """Unix seconds at the start of `start` in Shanghai (inclusive)."""
        return int(datetime.combine(self.start, time.min, SHANGHAI).timestamp())

    @property
    def until(self) -> int:
        """Unix seconds at the start of the day after `end` in Shanghai (exclusive)."""
        return int(datetime.combine(self.end + timedelta(days=1), time.min, SHANGHAI).timestamp())

    def contains(self, timestamp: int) -> bool:
        return self.since <= timestamp < self.until


def shanghai_date(timestamp: int) -> date:
    """The Asia/Shanghai calendar date of a unix timestamp."""
    return datetime.fromtimestamp(timestamp, SHANGHAI).date()
