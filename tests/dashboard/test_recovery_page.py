"""The operator's lost-key recovery page (密钥遗失恢复): the status of a participant, a request reviewed
and sent (recorded on the registry with the case reference), the enforcement steps refused with the
service's sentence when it holds no enforcement key, and the request withdrawn; each step read back
from the chain."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient

from tests.api.support import OPERATOR_KEY, onboard
from tests.dashboard.fixtures import LiveServer
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import wait_written

pytestmark = pytest.mark.chain

CASE = "RC-2026-0042"


def test_the_operator_requests_checks_and_withdraws_a_recovery(
    live_server: LiveServer, api: TestClient, operator_headers: dict[str, str], page: Any
) -> None:
    client = live_server.ctx.client
    sign_in(page, live_server, OPERATOR_KEY)
    if page.get_attribute("html", "lang") != "en":
        page.select_option("#lang-switch", "en")
        page.wait_for_selector("body[data-state='ready']")
    # the participant that lost its key, onboarded once the operator's page is open
    lost = onboard(api, operator_headers, "lost", ["SUPPLIER"], "custodial", None).address
    replacement = Account.create().address
    page.wait_for_selector("#panel-recovery[data-status='ready']")
    assert page.inner_text("#h-recovery") == "Lost-key recovery"

    page.fill("#recovery-lost", lost)
    page.click("#recovery-status")
    page.wait_for_selector("#panel-recovery[data-status='ready'] .recovery-status")
    assert "No recovery of this participant." in page.inner_text("#panel-recovery .body")
    assert page.get_attribute("#panel-recovery .recovery-status", "data-status") == "active"

    # a request without its case reference is refused on the page
    page.fill("#recovery-replacement", replacement)
    page.click("#recovery-request")
    assert "case reference" in page.wait_for_selector("#panel-recovery .problem:not([hidden])").inner_text()
    assert client.recovery_request(lost) is None

    page.fill("#recovery-case", CASE)
    page.fill("#recovery-note", "key lost with the finance officer's laptop")
    page.click("#recovery-request")
    review = page.wait_for_selector("#recovery-review:not([hidden])").inner_text()
    assert CASE in review and "Nothing moves until the enforcement key approves." in review
    page.click("#recovery-send")
    assert wait_written(page, "panel-recovery") == "done", page.inner_text("#panel-recovery .problem")
    request = client.recovery_request(lost)
    assert request is not None and request.replacement == replacement
    assert request.case_ref == keccak(text=CASE)
    page.wait_for_selector("#panel-recovery tr.recovery-case-row [data-state='requested']")

    # approving is the enforcement key's step: this service has none, and says so
    page.click("#recovery-approve")
    assert wait_written(page, "panel-recovery") == "refused"
    problem = page.inner_text("#panel-recovery .problem")
    assert "holds no enforcement key" in problem and "enforcement-key-missing" in problem
    assert client.recovered_to(lost) is None

    # withdrawn: the registry holds no request any more
    page.click("#recovery-cancel")
    assert CASE in page.wait_for_selector("#recovery-review:not([hidden])").inner_text()
    assert page.inner_text("#recovery-send") == "Withdraw request"
    page.click("#recovery-send")
    assert wait_written(page, "panel-recovery") == "done", page.inner_text("#panel-recovery .problem")
    assert client.recovery_request(lost) is None
    page.wait_for_selector("#panel-recovery tr.recovery-case-row [data-state='cancelled']")
