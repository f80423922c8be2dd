"""The operator in the browser: onboards a small supplier by clicking (name, USCC, role, size class,
custodial key) after a review, gets its API key once, sees the key listed, issues a second one and
revokes the first; the chain holds the registration and size class, and a revoked key is refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.client.compliance import SizeClass
from tests.api.support import OPERATOR_KEY
from tests.dashboard.fixtures import LiveServer
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import uscc

pytestmark = pytest.mark.chain

NAME = "宁波海曙精密五金有限公司"


def test_the_operator_onboards_a_supplier_and_manages_its_keys_by_clicking(
    live_server: LiveServer, api: TestClient, chinese_page: Any
) -> None:
    tab = chinese_page
    tab.on("dialog", lambda dialog: dialog.accept())  # the revocation's confirmation
    sign_in(tab, live_server, OPERATOR_KEY)
    tab.wait_for_selector("#panel-onboard:not([hidden])")
    assert tab.inner_text("#h-onboard") == "企业入驻"
    tab.click("#onboard-preview")
    assert "统一社会信用代码" in tab.wait_for_selector("#panel-onboard .problem:not([hidden])").inner_text()
    code = uscc(7)
    tab.fill("#onboard-name", NAME)
    tab.fill("#onboard-id", code)
    tab.click("#onboard-preview")
    assert "角色" in tab.inner_text("#panel-onboard .problem")
    tab.check("#onboard-role-SUPPLIER")
    tab.select_option("#onboard-size", "small")
    tab.click("#onboard-preview")
    review = tab.wait_for_selector("#onboard-review:not([hidden])").inner_text()
    assert NAME in review and code in review and "供应商" in review and "小型" in review
    tab.click("#onboard-send")
    tab.wait_for_selector(
        "#panel-onboard[data-write='done'], #panel-onboard[data-write='refused']", timeout=60_000
    )
    assert tab.get_attribute("#panel-onboard", "data-write") == "done", tab.inner_text(
        "#panel-onboard .problem"
    )
    address = tab.get_attribute("#panel-onboard .outcome .api-key", "data-address")
    first_key = tab.inner_text("#panel-onboard .outcome .api-key")
    assert address and first_key.startswith("tc_")

    client = live_server.ctx.client
    assert client.w3.to_checksum_address(address)
    assert client.size_class(client.w3.to_checksum_address(address)) == SizeClass.SMALL
    me = api.get("/v1/participants/me", headers={"Authorization": f"Bearer {first_key}"})
    assert me.status_code == 200 and me.json()["address"] == address.lower()

    assert tab.input_value("#keys-address") == address
    tab.click("#keys-show")
    tab.wait_for_selector("#panel-onboard[data-keys='ready'] tr.key-row")
    (first_id,) = tab.eval_on_selector_all(
        "#panel-onboard tr.key-row td.key-id", "els => els.map(e => e.textContent)"
    )
    tab.click("#keys-issue")
    second_key = tab.wait_for_selector("#panel-onboard .keys-outcome:not([hidden]) .api-key").inner_text()
    assert second_key.startswith("tc_") and second_key != first_key
    tab.wait_for_selector("#panel-onboard tr.key-row:nth-of-type(2)")
    tab.click(f"#panel-onboard button[data-key='{first_id}']")
    tab.wait_for_selector(f"#panel-onboard tr.key-row:has(td.key-id:text-is('{first_id}')) >> text=已吊销")
    refused = api.get("/v1/participants/me", headers={"Authorization": f"Bearer {first_key}"})
    assert refused.status_code == 401
    still = api.get("/v1/participants/me", headers={"Authorization": f"Bearer {second_key}"})
    assert still.status_code == 200
