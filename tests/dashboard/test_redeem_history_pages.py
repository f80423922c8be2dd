"""Redeeming (兑付领取) and one's own history (我的流水) in the browser: after the obligor repaid, the
holder, in Chinese, redeems its piece by clicking after a review (face value, settlement token), sees
its settlement balance grow by the payout, then reads the redemption in its history and downloads the
history as CSV; every figure is checked against the chain and the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import ApiWorld, Party
from tests.api.test_history import FINANCED, TO_NAMED, TO_TIER2, settled_obligation
from tests.dashboard.fixtures import LiveServer
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import wait_written

pytestmark = pytest.mark.chain

KEPT = TO_TIER2 - TO_NAMED - FINANCED  # 250,000.00: what tier 2 holds at maturity


def test_a_holder_redeems_a_repaid_piece_and_downloads_its_history(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
    chinese_page: Any,
    tmp_path: Path,
) -> None:
    s = settled_obligation(api, api_world, parties, operator_headers, issue_obligation, redeem=False)
    tier2 = parties["tier2"]
    client = live_server.ctx.client
    before = client.cash_balance("CNY", tier2.address)

    tab = chinese_page
    sign_in(tab, live_server, tier2.api_key)
    tab.wait_for_selector("#panel-redeem[data-status='ready']")
    assert tab.inner_text("#h-redeem") == "兑付领取"
    row = tab.inner_text("#panel-redeem tr.redeem-row")
    assert f"#{s.piece}" in row and "¥250,000.00" in row and "已兑付" in row
    assert "结算余额" in tab.inner_text("#panel-redeem .redeem-balance")
    # keyboard: the redeem button is reached and pressed without a mouse
    tab.focus(f"#panel-redeem button[data-redeem='{s.piece}']")
    tab.keyboard.press("Enter")
    review = tab.wait_for_selector("#redeem-review:not([hidden])").inner_text()
    token = client.w3.to_checksum_address(live_server.ctx.deployment.currencies["CNY"])
    assert "¥250,000.00" in review and "CNY" in review and token[:6] in review
    tab.click("#redeem-back")
    assert tab.is_hidden("#redeem-review")
    assert tab.evaluate("document.activeElement.dataset.redeem") == str(s.piece)
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#redeem-review:not([hidden])")
    tab.click("#redeem-send")
    assert wait_written(tab, "panel-redeem") == "done", tab.inner_text("#panel-redeem .problem")
    assert client.cash_balance("CNY", tier2.address) - before == KEPT
    assert f"¥{KEPT // 100:,}.00" in tab.inner_text("#panel-redeem .outcome")
    tab.wait_for_selector("#panel-redeem[data-status='ready'] .empty")
    balance = tab.inner_text("#panel-redeem .redeem-balance")
    shown = client.cash_balance("CNY", tier2.address)
    assert f"{shown // 100:,}.{shown % 100:02d}" in balance

    # the history, redrawn after the redemption, shows it first (newest first), in Chinese
    tab.wait_for_selector("#panel-history[data-status='ready'] tr.history-row [data-kind='redeemed']")
    kinds = tab.eval_on_selector_all(
        "#panel-history tr.history-row [data-kind]", "els => els.map(e => e.dataset.kind)"
    )
    assert kinds == ["redeemed", "unfrozen", "frozen", "financed", "paid", "received"]
    first = tab.inner_text("#panel-history tr.history-row")
    assert "兑付" in first and "¥250,000.00" in first
    paid = tab.inner_text("#panel-history tr.history-row:nth-child(5)")
    assert "杭州历史测试有限公司" in paid and "¥100,000.00" in paid
    assert "共 6 条记录" in tab.inner_text("#history-count")

    with tab.expect_download() as info:
        tab.click("#history-download")
    saved = tmp_path / "history.csv"
    info.value.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    api_rows = api.get("/v1/participants/me/history", headers=tier2.headers).json()["items"]
    assert [(r["kind"], int(r["value"]), r["tx"]) for r in rows] == [
        (e["kind"], e["value"], e["tx_hash"]) for e in api_rows
    ]
    assert info.value.suggested_filename == "tierchain-history.csv"
    tab.wait_for_selector("#panel-history[data-download='done']")
    assert "tierchain-history.csv" in tab.inner_text("#panel-history .outcome")
