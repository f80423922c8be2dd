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
    """`start` to `end`, inclusive; either may be open (None): from the first block, up to the head."""

    start: date | None
    end: date | None

    @classmethod
    def of(cls, start: date | None, end: date | None) -> Period:
        if start is not None and end is not None and start > end:
            raise PeriodError(
                f"the period is reversed: from {start.isoformat()} is after to {end.isoformat()}"
            )
        return cls(start, end)

    @property
    def since(self) -> int:
        """Unix seconds at the start of `start` in Shanghai (inclusive); 0 when open."""
        if self.start is None:
            return 0
        return int(datetime.combine(self.start, time.min, SHANGHAI).timestamp())

    @property
    def until(self) -> int:
        """Unix seconds at the start of the day after `end` in Shanghai (exclusive); 2^62 when open."""
        if self.end is None:
            return 2**62
        return int(datetime.combine(self.end + timedelta(days=1), time.min, SHANGHAI).timestamp())

    @property
    def first(self) -> str:
        return self.start.isoformat() if self.start is not None else "start"

    @property
    def last(self) -> str:
        return self.end.isoformat() if self.end is not None else "head"

    def contains(self, timestamp: int) -> bool:
        return self.since <= timestamp < self.until


def shanghai_date(timestamp: int) -> date:
    """The Asia/Shanghai calendar date of a unix timestamp."""
    return datetime.fromtimestamp(timestamp, SHANGHAI).date()
