"""A bank's credit limits in the browser (授信额度): the bank, in Chinese, records a limit on a core
enterprise by clicking (chosen by name, an unreadable amount refused with a sentence first), sees it with
what its financing already uses and what is left, and the chain holds exactly the typed limit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.fixtures import Scene
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import wait_written

pytestmark = pytest.mark.chain


def test_a_bank_records_a_limit_on_a_core_enterprise_by_clicking(scene: Scene, chinese_page: Any) -> None:
    bank, core = scene.parties["bank"], scene.parties["core"]
    tab = chinese_page
    sign_in(tab, scene.server, bank.api_key)
    tab.wait_for_selector("#panel-limits[data-status='ready']")
    assert tab.inner_text("#h-limits") == "授信额度"
    tab.select_option("#limits-kind", "obligor")
    tab.select_option("#limits-party", core.address)
    tab.fill("#limits-amount", "三十万")
    tab.click("#limits-preview")
    assert tab.wait_for_selector("#panel-limits .problem:not([hidden])").inner_text()
    tab.fill("#limits-amount", "300,000.00")
    tab.click("#limits-preview")
    client = scene.server.ctx.client
    used = client.credit_limit(bank.address, core.address, per_obligor=True).used
    review = tab.wait_for_selector("#limits-review:not([hidden])").inner_text()
    assert "300,000.00" in review and f"{used / 100:,.2f}" in review
    tab.click("#limits-send")
    assert wait_written(tab, "panel-limits") == "done", tab.inner_text("#panel-limits .problem")

    limit = client.credit_limit(bank.address, core.address, per_obligor=True)
    assert (limit.limit, limit.used) == (300_000_00, used)
    tab.wait_for_selector("#panel-limits[data-status='ready'] tr.limit-row")
    row = tab.inner_text("#panel-limits tr.limit-row")
    assert "300,000.00" in row and f"{(300_000_00 - used) / 100:,.2f}" in row and "核心企业" in row
