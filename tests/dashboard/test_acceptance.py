"""Bill mode in the browser (签收 / 拒收 / 撤回): a supplier sees the payments waiting for its acceptance with
the payer's legal name, the value, the obligor and the deadline, accepts one and refuses another by
clicking (in zh-CN), each after a review saying what will happen; the payer withdraws a third from its
"awaiting the receiver" list (in English). Every outcome is read back from the chain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import Party
from tests.dashboard.fixtures import LiveServer
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import wait_written

pytestmark = pytest.mark.chain


def _pay(api: TestClient, payer: Party, token: int, to: Party, value: int) -> int:
    answer = api.post(
        f"/v1/tokens/{token}/split",
        json={"pieces": [{"to": to.address, "value": value}]},
        headers=payer.headers,
    )
    assert answer.status_code == 200, answer.text
    piece: int = answer.json()["result"]["token_id"]
    return piece


def _act(page: Any, token: int, action: str) -> str:
    page.click(f"#panel-incoming button[data-move='{token}'][data-action='{action}']")
    review = page.wait_for_selector("#incoming-review:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "incoming-review"
    shown: str = review.inner_text()
    page.click("#incoming-send")
    assert wait_written(page, "panel-incoming") == "done", page.inner_text("#panel-incoming .problem")
    return shown


def test_a_supplier_accepts_and_refuses_payments_and_the_payer_withdraws_one(
    live_server: LiveServer,
    api: TestClient,
    parties: dict[str, Party],
    issue_obligation: Callable[..., dict[str, Any]],
    chinese_page: Any,
    page: Any,
    screenshots: Path,
) -> None:
    tier1, tier2 = parties["tier1"], parties["tier2"]
    chosen = api.put("/v1/policy/settlement-mode", json={"mode": "bill"}, headers=parties["core"].headers)
    assert chosen.status_code == 200, chosen.text
    root = int(issue_obligation(face=900_000_00)["token_id"])
    values = (300_000_00, 200_000_00, 100_000_00)
    accepted, refused, withdrawn = (_pay(api, tier1, root, tier2, v) for v in values)
    client = live_server.ctx.client
    assert {client.owner_of(t).lower() for t in (accepted, refused, withdrawn)} == {tier1.address.lower()}
    live_server.ctx.sync()

    tab = chinese_page
    tab.set_viewport_size({"width": 1280, "height": 800})
    sign_in(tab, live_server, tier2.api_key)
    tab.wait_for_selector("#panel-incoming[data-status='ready']")
    assert tab.inner_text("#h-incoming") == "待签收"
    rows = tab.eval_on_selector_all(
        "#panel-incoming tr.incoming-row td.token-id", "els => els.map(e => e.textContent)"
    )
    assert sorted(rows) == sorted(f"#{t}" for t in (accepted, refused, withdrawn))
    row = tab.inner_text(f"#panel-incoming tr:has(button[data-move='{accepted}'])")
    assert "¥300,000.00" in row
    tab.locator("#panel-incoming").screenshot(path=str(screenshots / "tier2-incoming-zh-CN.png"))

    shown = _act(tab, accepted, "accept")
    assert "签收凭证" in shown and "¥300,000.00" in shown
    assert "已签收" in tab.inner_text("#panel-incoming .outcome")
    assert client.owner_of(accepted).lower() == tier2.address.lower()
    tab.wait_for_selector(f"#panel-holdings td.token-id:text-is('#{accepted}')")

    shown = _act(tab, refused, "refuse")
    assert "拒收" in shown and "退回" in shown
    assert not client.exists(refused)  # merged back into the payer's piece and burned
    assert client.balance_of(root) == 900_000_00 - 300_000_00 - 100_000_00
    tab.wait_for_selector("#panel-incoming[data-status='ready']")
    left = tab.eval_on_selector_all(
        "#panel-incoming tr.incoming-row td.token-id", "els => els.map(e => e.textContent)"
    )
    assert left == [f"#{withdrawn}"]

    # The payer, in English, withdraws the last one from its own list.
    sign_in(page, live_server, tier1.api_key)
    if page.get_attribute("html", "lang") != "en":
        page.select_option("#lang-switch", "en")
        page.wait_for_selector("body[data-state='ready']")
    page.wait_for_selector("#panel-incoming[data-status='ready']")
    assert "None of your payments" not in page.inner_text("#panel-incoming .outgoing-body")
    page.click(f"#panel-incoming button[data-move='{withdrawn}'][data-action='withdraw']")
    review = page.wait_for_selector("#incoming-review:not([hidden])").inner_text()
    assert "Withdraw piece" in review and "100,000.00" in review
    page.click("#incoming-send")
    assert wait_written(page, "panel-incoming") == "done", page.inner_text("#panel-incoming .problem")
    assert "withdrawn" in page.inner_text("#panel-incoming .outcome")
    assert not client.exists(withdrawn)
    assert client.balance_of(root) == 900_000_00 - 300_000_00
