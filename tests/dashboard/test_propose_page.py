"""The supplier's 发起确权申请 in the browser, in Chinese: tier 1 tries to review a proposal without a
trade document (the page says so before sending), asks for a maturity beyond the latest allowed (the API's
refusal is shown as a sentence), then proposes citing its attested invoice (review, Back to the form,
Enter from the keyboard, send); the API holds the proposal with the face, obligor and maturity chosen,
and the supplier's own list shows it waiting. The core enterprise confirms it in 待确权 and the chain
shows the token issued to tier 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient

from tests.api.support import DAY, ApiWorld, Party
from tests.dashboard.fixtures import LiveServer
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import wait_written

pytestmark = pytest.mark.chain

FACE = 320_000_00
SHANGHAI = timezone(timedelta(hours=8))


def _day(seconds: int) -> tuple[str, int]:
    """The Asia/Shanghai calendar day of `seconds` ("YYYY-MM-DD") and its 00:00 there in unix seconds."""
    day = datetime.fromtimestamp(seconds, SHANGHAI).date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    return day.isoformat(), int(midnight.astimezone(UTC).timestamp())


def _fill_form(tab: Any, core: Party, face: str, day: str) -> None:
    tab.wait_for_selector(f"#propose-obligor option[value='{core.address.lower()}']", state="attached")
    tab.select_option("#propose-obligor", core.address.lower())
    tab.fill("#propose-face", face)
    tab.fill("#propose-min-unit", "100.00")
    tab.fill("#propose-maturity", day)


def test_a_supplier_proposes_by_clicking_and_the_core_enterprise_confirms(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    chinese_page: Any,
) -> None:
    core, tier1 = parties["core"], parties["tier1"]
    invoice = api_world.attest_invoice(FACE, tier1.address, core.address)
    live_server.ctx.sync()
    day, maturity = _day(api_world.now + 90 * DAY)

    tab = chinese_page
    sign_in(tab, live_server, tier1.api_key)
    tab.wait_for_selector("#panel-propose[data-status='ready']")
    assert tab.inner_text("#h-propose") == "发起确权申请"
    _fill_form(tab, core, "320,000.00", day)
    tab.wait_for_selector(f"#propose-docs[data-status='ready'] input.propose-doc[value='{invoice}']")

    tab.click("#propose-preview")  # no document ticked: refused on the page, nothing sent
    problem = tab.wait_for_selector("#panel-propose .problem:not([hidden])").inner_text()
    assert "请至少选择一张已核验的发票" in problem
    assert tab.is_hidden("#propose-review")

    far, _ = _day(api_world.now + 3 * 365 * DAY)  # beyond the latest maturity allowed
    tab.fill("#propose-maturity", far)
    tab.check(f"#propose-docs input.propose-doc[value='{invoice}']")
    tab.click("#propose-preview")
    tab.wait_for_selector("#propose-review:not([hidden])")
    tab.click("#propose-send")
    assert wait_written(tab, "panel-propose") == "refused"
    refusal = tab.inner_text("#panel-propose .problem")
    assert "到期日超过规定期限" in refusal and "MaturityTooLate" in refusal, refusal
    assert tab.is_visible("#propose-form")

    tab.fill("#propose-maturity", day)
    tab.click("#propose-preview")
    tab.wait_for_selector("#propose-review:not([hidden])")
    tab.click("#propose-back")  # back to the form, the focus on the face value, the choices kept
    tab.wait_for_selector("#propose-form:not([hidden])")
    assert tab.evaluate("document.activeElement.id") == "propose-face"
    assert tab.is_checked(f"#propose-docs input.propose-doc[value='{invoice}']")
    tab.keyboard.press("Enter")  # the form is sent from the keyboard
    review = tab.wait_for_selector("#propose-review:not([hidden])").inner_text()
    assert "¥320,000.00" in review and "发票" in review and "1 份" in review
    tab.click("#propose-send")
    assert wait_written(tab, "panel-propose") == "done", tab.inner_text("#panel-propose .problem")
    done = tab.wait_for_selector("#panel-propose .outcome .propose-done")
    proposal_id = int(done.get_attribute("data-proposal-id") or "0")
    assert f"#{proposal_id}" in done.inner_text() and "0x" in tab.inner_text("#panel-propose .outcome .tx")

    proposal = api.get(f"/v1/obligations/proposals/{proposal_id}", headers=tier1.headers).json()
    assert (proposal["face"], proposal["maturity"]) == (FACE, maturity)
    assert proposal["obligor"] == core.address.lower()
    assert (proposal["documents"], proposal["status"], proposal["min_unit"]) == ([invoice], "pending", 100_00)
    tab.wait_for_selector("#panel-propose[data-status='ready'] tr.my-proposal")
    mine = tab.inner_text(f"#panel-propose tr.my-proposal:has(td.proposal-id:text-is('#{proposal_id}'))")
    assert "¥320,000.00" in mine and "待确认" in mine

    live_server.ctx.sync()
    tab.click("#sign-out")
    sign_in(tab, live_server, core.api_key)
    tab.wait_for_selector(f"#panel-proposals[data-status='ready'] button[data-proposal='{proposal_id}']")
    tab.click(f"#panel-proposals button[data-proposal='{proposal_id}'][data-action='confirm']")
    tab.wait_for_selector("#proposal-review:not([hidden])")
    tab.click("#proposal-send")
    assert wait_written(tab, "panel-proposals") == "done", tab.inner_text("#panel-proposals .problem")
    slot = int(api.get(f"/v1/obligations/proposals/{proposal_id}", headers=core.headers).json()["slot"])
    client = live_server.ctx.client
    terms = client.slot_terms(slot)
    assert (terms.face, terms.maturity) == (FACE, maturity)
    assert client.owner_of(terms.root_token_id).lower() == tier1.address.lower()


def test_a_long_tenor_proposal_carries_its_justification_code_and_the_agreed_term(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    chinese_page: Any,
) -> None:
    """A justification code that is not a number is refused on the page; a code and a cited contract
    clause are shown in the review and recorded with the proposal (the clause as its keccak256)."""
    core, tier1 = parties["core"], parties["tier1"]
    invoice = api_world.attest_invoice(FACE, tier1.address, core.address)
    live_server.ctx.sync()
    day, maturity = _day(api_world.now + 200 * DAY)
    clause = "采购合同 HT-2025-001 第4.2条"

    tab = chinese_page
    sign_in(tab, live_server, tier1.api_key)
    tab.wait_for_selector("#panel-propose[data-status='ready']")
    _fill_form(tab, core, "320,000.00", day)
    tab.check(f"#propose-docs[data-status='ready'] input.propose-doc[value='{invoice}']")

    tab.fill("#propose-justification", "七")  # not a number: refused on the page
    tab.click("#propose-preview")
    problem = tab.wait_for_selector("#panel-propose .problem:not([hidden])").inner_text()
    assert "理由代码须为 0 至 65535 之间的整数" in problem
    assert tab.evaluate("document.activeElement.id") == "propose-justification"

    tab.fill("#propose-justification", "7")
    tab.fill("#propose-agreed-term", clause)
    tab.click("#propose-preview")
    review = tab.wait_for_selector("#propose-review:not([hidden])").inner_text()
    assert "长期限理由代码" in review and clause in review
    tab.click("#propose-send")
    assert wait_written(tab, "panel-propose") == "done", tab.inner_text("#panel-propose .problem")
    done = tab.wait_for_selector("#panel-propose .outcome .propose-done")
    proposal_id = int(done.get_attribute("data-proposal-id") or "0")

    proposal = api.get(f"/v1/obligations/proposals/{proposal_id}", headers=tier1.headers).json()
    assert proposal["maturity"] == maturity and proposal["tenor_justification"] == 7
    assert proposal["agreed_term_ref"] == "0x" + keccak(text=clause).hex()
