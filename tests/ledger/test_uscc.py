"""The unified social credit code check (GB 32100-2015) and the exports' money and period helpers."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.regulatory.csvout import BOM, render, yuan
from ledger.regulatory.period import Period, PeriodError, shanghai_date
from ledger.regulatory.uscc import check_character, uscc_problem


def test_a_published_code_passes_and_its_check_character_is_computed() -> None:
    assert uscc_problem("91350100M000100Y43") is None
    assert check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y44", "check character is '4'"),
        ("91350100I000100Y43", "'I'"),
        ("91350100m000100Y43", "'m'"),
    ],
)
def test_bad_codes_are_refused_with_the_reason(code: str, says: str) -> None:
    problem = uscc_problem(code)
    assert problem is not None and says in problem


def test_yuan_shows_two_decimals_exactly() -> None:
    assert [yuan(0), yuan(5), yuan(123_456_789_01), yuan(-150)] == ["0.00", "0.05", "123456789.01", "-1.50"]


def test_csv_has_a_bom_and_crlf_rows() -> None:
    text = render(["名称(name)"], [["华信"], [None]])
    assert text.startswith(BOM) and text == BOM + '名称(name)\r\n华信\r\n""\r\n'


def test_periods_are_shanghai_days_inclusive() -> None:
    p = Period.of(date(2026, 1, 1), date(2026, 1, 1))
    assert p.until - p.since == 86_400
    assert shanghai_date(p.since) == date(2026, 1, 1) and shanghai_date(p.since - 1) == date(2025, 12, 31)
    assert p.contains(p.since) and not p.contains(p.until)
    with pytest.raises(PeriodError, match="reversed"):
        Period.of(date(2026, 1, 2), date(2026, 1, 1))


def test_open_periods_run_from_the_first_block_to_the_head() -> None:
    p = Period.of(None, None)
    assert (p.first, p.last, p.since) == ("start", "head", 0) and p.contains(4_102_444_800)
