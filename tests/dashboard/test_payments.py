"""Paying and selling by clicking, in a real browser over real HTTP on a real chain: a tier-1
supplier pays two named tier-2 suppliers from one piece (a batch split) in zh-CN, citing the attested
invoices each sold it (chosen for it in date order until the amount is covered), seeing names,
documents and a preview first; a holder accepts a bank's offer in English and the piece moves to the
bank; a payment of more than the piece holds is refused with a sentence; a receiver with no citable
invoice is named in a sentence. Every value is read back from the chain, and each cited invoice's
moved value from the chain and the API."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient

from ledger.client import Attestation, DayCount, DocumentKind, TierchainClient
from ledger.regulatory.uscc import ALPHABET, check_character
from tests.api.support import DAY, ApiWorld
from tests.dashboard.fixtures import Scene
from tests.dashboard.test_dashboard import sign_in

pytestmark = pytest.mark.chain

CATALOGUES = Path(__file__).resolve().parents[2] / "api" / "dashboard" / "i18n"
RECEIVER_A = "无锡精密轴承有限公司"
RECEIVER_B = "常州恒通电子科技有限公司"


def messages(locale: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((CATALOGUES / f"{locale}.json").read_text(encoding="utf-8"))
    return loaded


def uscc(seed: int) -> str:
    digits = f"{time.time_ns() + seed:017d}"[-9:]
    body = "91320200" + "".join(ALPHABET[int(d) + 10] for d in digits)
    return body + check_character(body)


def named_supplier(api: TestClient, operator_headers: dict[str, str], legal_name: str, seed: int) -> str:
    body = {"legal_id": uscc(seed), "roles": ["SUPPLIER"], "custody": "custodial", "legal_name": legal_name}
    answer = api.post("/v1/participants", json=body, headers=operator_headers)
    assert answer.status_code == 201, answer.text
    address: str = answer.json()["participant"]["address"]
    return address


def wait_written(page: Any, panel: str) -> str:
    page.wait_for_selector(f"#{panel}[data-write='done'], #{panel}[data-write='refused']", timeout=60_000)
    state: str = page.get_attribute(f"#{panel}", "data-write")
    return state


def pay_form_ready(page: Any) -> None:
    page.wait_for_selector("#pay-form:not([hidden]) #pay-to-0 option[value^='0x']", state="attached")


def attest_invoice(world: ApiWorld, amount: int, seller: str, buyer: str, *, days_ago: int) -> str:
    """An invoice seller → buyer attested by two oracles, issued `days_ago` days before the chain's now."""
    attestation = Attestation(
        fingerprint=keccak(text=f"dashboard-invoice-{seller}-{time.time_ns()}"),
        kind=DocumentKind.INVOICE,
        seller=world.client.w3.to_checksum_address(seller),
        buyer=world.client.w3.to_checksum_address(buyer),
        amount=amount,
        currency="CNY",
        issue_date=world.now - days_ago * DAY,
        due_date=world.now + 60 * DAY,
        nonce=time.time_ns() % 2**63,
        deadline=world.now + DAY,
    )
    world.client.sign_and_attest(
        world.actors["oracle1"], attestation, [world.actors["oracle1"], world.actors["oracle2"]]
    )
    return "0x" + attestation.fingerprint.hex()


def moved_on_chain(client: TierchainClient, fingerprint: str) -> int:
    moved: int = client.trades.functions.movedValue(bytes.fromhex(fingerprint[2:])).call()
    return moved


def listed_document(api: TestClient, party: Any, fingerprint: str) -> dict[str, Any]:
    answer = api.get("/v1/documents?limit=100", headers=party.headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = next(d for d in answer.json()["items"] if d["fingerprint"] == fingerprint)
    return found


def cited(page: Any, row: int) -> list[str]:
    """The fingerprints checked in receiver row `row`, once its documents are shown."""
    page.wait_for_selector(f"#pay-docs-{row}[data-status='ready']")
    found: list[str] = page.eval_on_selector_all(
        f"#pay-docs-{row} .pay-doc:checked", "els => els.map(e => e.value)"
    )
    return found


def test_a_tier1_supplier_pays_two_named_tier2_suppliers_by_clicking_in_chinese(
    scene: Scene,
    chinese_page: Any,
    api: TestClient,
    api_world: ApiWorld,
    operator_headers: dict[str, str],
    screenshots: Path,
) -> None:
    page = chinese_page
    first = named_supplier(api, operator_headers, RECEIVER_A, 1)
    second = named_supplier(api, operator_headers, RECEIVER_B, 2)
    client = scene.server.ctx.client
    held = client.balance_of(scene.root)
    assert held == 600_000_00
    # the invoices each receiver sold tier 1, attested by the oracles: A's older one first
    tier1 = scene.parties["tier1"].address
    older = attest_invoice(api_world, 80_000_00, first, tier1, days_ago=20)
    newer = attest_invoice(api_world, 100_000_00, first, tier1, days_ago=5)
    unneeded = attest_invoice(api_world, 30_000_00, first, tier1, days_ago=2)
    of_b = attest_invoice(api_world, 200_000_00, second, tier1, days_ago=10)
    scene.server.ctx.sync()

    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, scene.server, scene.parties["tier1"].api_key)
    assert page.get_attribute("html", "lang") == "zh-CN"
    pay_form_ready(page)
    assert page.inner_text("#h-pay") == "支付供应商"
    page.select_option("#pay-piece", str(scene.root))
    names = page.eval_on_selector_all("#pay-to-0 option", "els => els.map(e => e.textContent)")
    assert RECEIVER_A in names and RECEIVER_B in names
    page.select_option("#pay-to-0", label=RECEIVER_A)
    page.fill("#pay-amount-0", "120,000.00")
    page.click("#pay-add")
    page.select_option("#pay-to-1", label=RECEIVER_B)
    page.fill("#pay-amount-1", "80000")
    # documents in date order until each amount is covered: A's two older invoices, B's one
    assert cited(page, 0) == [older, newer]
    assert cited(page, 1) == [of_b]
    docs = page.inner_text("#pay-docs-0")
    assert "贸易背景" in docs and "发票" in docs and "可用额度" in docs and "¥100,000.00" in docs
    assert "额度已覆盖" in page.inner_text("#pay-docs-0 .pay-cover")
    assert page.is_checked(f"#pay-docs-0 .pay-doc[value='{unneeded}']") is False
    page.locator("#panel-pay").screenshot(path=str(screenshots / "tier1-pay-documents-zh-CN.png"))
    page.click("#pay-preview")

    review = page.wait_for_selector("#pay-review:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "pay-review"
    shown = review.inner_text()
    assert RECEIVER_A in shown and RECEIVER_B in shown
    assert "¥120,000.00" in shown and "¥80,000.00" in shown
    assert "剩余" in shown and "¥400,000.00" in shown
    assert "批量拆分" in shown
    # the review lists the documents each receiver's amount cites
    listed = page.eval_on_selector_all(
        "#pay-review .review-docs li", "els => els.map(e => e.dataset.fingerprint)"
    )
    assert listed == [older, newer, of_b]
    assert "贸易背景" in shown and "发票" in shown
    page.screenshot(path=str(screenshots / "tier1-pay-preview-zh-CN.png"), full_page=True)

    page.click("#pay-send")
    assert wait_written(page, "panel-pay") == "done", page.inner_text("#panel-pay .problem")
    outcome = page.inner_text("#panel-pay .outcome")
    tx = page.get_attribute("#panel-pay .outcome .tx", "data-tx")
    assert tx and re.fullmatch(r"0x[0-9a-f]{64}", tx) and tx in outcome
    new = [int(i) for i in re.findall(r"#(\d+)", page.inner_text("#panel-pay .outcome .new-pieces"))]
    assert len(new) == 2

    # the chain agrees: the pieces are the receivers', with the amounts typed; the rest stayed
    assert client.balance_of(scene.root) == 400_000_00
    assert (client.owner_of(new[0]).lower(), client.balance_of(new[0])) == (first.lower(), 120_000_00)
    assert (client.owner_of(new[1]).lower(), client.balance_of(new[1])) == (second.lower(), 80_000_00)
    receipt = client.w3.eth.get_transaction_receipt(tx)
    assert receipt["status"] == 1
    # the invoices backed the payment: their moved value grew, on chain and in the API's list
    expected = {older: 80_000_00, newer: 40_000_00, of_b: 80_000_00, unneeded: 0}
    assert {fp: moved_on_chain(client, fp) for fp in expected} == expected
    scene.server.ctx.sync()
    payer = scene.parties["tier1"]
    assert {fp: listed_document(api, payer, fp)["moved_value"] for fp in expected} == expected
    assert listed_document(api, payer, newer)["remaining"] == 60_000_00
    # the holdings now show what remains, and the form is ready for the next payment
    page.wait_for_selector("#panel-holdings[data-status='ready']")
    pay_form_ready(page)
    assert "¥400,000.00" in page.inner_text("#panel-holdings")

    # the clerk's panels speak Chinese only, and every control in them has a name
    text = page.inner_text("#panel-pay") + page.inner_text("#panel-offers")
    text = re.sub(r"0x[0-9a-fA-F]+…?[0-9a-fA-F]*", " ", text)
    assert {w for w in re.findall(r"[A-Za-z]{2,}", text)} == set()
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll(':is(#panel-pay, #panel-offers) :is(input, select, button)')]
            .filter(e => e.offsetParent !== null)
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.textContent.trim())
            .map(e => e.id || e.outerHTML.slice(0, 60))"""
    )
    assert unnamed == []

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "tier1-pay-done-zh-CN-390.png"), full_page=True)


def test_a_holder_accepts_a_banks_offer_by_clicking_and_the_piece_moves_to_the_bank(
    scene: Scene, page: Any, api: TestClient, api_world: ApiWorld, screenshots: Path
) -> None:
    ctx = scene.server.ctx
    client = ctx.client
    bank, tier3 = scene.parties["bank"], scene.parties["tier3"]
    offer = client.make_offer(
        ctx.keys.signer(bank.address),
        scene.open_piece,
        30_000_00,
        600,
        DayCount.ACT_365F,
        api_world.now + 5 * DAY,
    )
    ctx.sync()

    sign_in(page, scene.server, tier3.api_key)
    assert page.get_attribute("html", "lang") == "en"
    page.wait_for_selector("#panel-offers[data-status='ready']")
    row = page.inner_text(f"#panel-offers tr:has(button[data-offer='{offer.offer_id}'])")
    assert "CN¥30,000.00" in row and "6.00%" in row and "Actual/365 (fixed)" in row
    assert "recourse" in row.lower()
    headers = page.eval_on_selector_all("#panel-offers th", "els => els.map(e => e.textContent)")
    for title in ("Bank", "Price", "Discount", "Discount rate", "Day count", "Recourse", "Expires"):
        assert title in headers
    # the ask-for-financing form lists the banks by name or short address
    assert page.eval_on_selector_all("#ask-bank option", "els => els.length") >= 1

    page.click(f"button[data-offer='{offer.offer_id}']")
    review = page.wait_for_selector("#offer-review:not([hidden])")
    text = review.inner_text()
    assert "CN¥30,000.00" in text and f"#{scene.open_piece}" in text and "CN¥70,000.00" in text
    price = re.search(r"receive (CN¥[\d,.]+)", text)
    assert price
    page.screenshot(path=str(screenshots / "holder-offer-preview-en.png"), full_page=True)

    page.click("#offer-send")
    assert wait_written(page, "panel-offers") == "done"
    tx = page.get_attribute("#panel-offers .outcome .tx", "data-tx")
    assert tx and re.fullmatch(r"0x[0-9a-f]{64}", tx)
    financed = int(re.findall(r"#(\d+)", page.inner_text("#panel-offers .outcome .new-pieces"))[0])
    assert client.owner_of(financed).lower() == bank.address.lower()
    assert client.balance_of(financed) == 30_000_00
    assert client.balance_of(scene.open_piece) == 70_000_00
    assert price.group(1) in page.inner_text("#panel-offers .outcome")
    page.wait_for_selector("#panel-offers[data-status='ready']")
    assert page.query_selector(f"button[data-offer='{offer.offer_id}']") is None

    # what remains can be offered to a bank for financing, from the same panel
    page.select_option("#ask-piece", str(scene.open_piece))
    page.select_option("#ask-bank", bank.address)
    page.click("#ask-form button[type=submit]")
    page.wait_for_selector("#panel-offers .ask-outcome:not([hidden])")
    asked = api.get("/v1/financing/requests", headers=bank.headers)
    assert asked.status_code == 200, asked.text
    rows = asked.json()
    rows = rows["items"] if isinstance(rows, dict) else rows
    assert any(int(r["token_id"]) == scene.open_piece and r["holder"] == tier3.address for r in rows)


def test_a_payment_of_more_than_the_piece_holds_is_refused_with_a_sentence(
    scene: Scene, page: Any, api: TestClient, operator_headers: dict[str, str]
) -> None:
    named_supplier(api, operator_headers, RECEIVER_A, 3)
    client = scene.server.ctx.client
    sign_in(page, scene.server, scene.parties["tier3"].api_key)
    pay_form_ready(page)
    page.select_option("#pay-piece", str(scene.open_piece))
    page.select_option("#pay-to-0", label=RECEIVER_A)
    page.fill("#pay-amount-0", "100,000.01")
    # the receiver sold tier 3 nothing attested: a sentence says so and whom to ask
    page.wait_for_selector("#pay-docs-0[data-status='none']")
    assert page.inner_text("#pay-docs-0 .pay-docs-none") == messages("en")["pay.noDocuments"].replace(
        "{name}", RECEIVER_A
    )
    page.click("#pay-preview")
    review = page.wait_for_selector("#pay-review:not([hidden])")
    assert messages("en")["pay.overWarning"] in review.inner_text()
    assert page.inner_text("#pay-review td.review-docs") == messages("en")["pay.reviewNoDocs"]
    page.click("#pay-send")
    assert wait_written(page, "panel-pay") == "refused"
    box = page.wait_for_selector("#panel-pay .problem:not([hidden])")
    code = box.get_attribute("data-code")
    en = messages("en")
    sentence = en.get(f"error.{code}") or en.get(f"problem.{code}")
    assert code and sentence, f"no sentence for {code}"
    assert page.inner_text("#panel-pay .problem .sentence") == sentence
    assert client.balance_of(scene.open_piece) == 100_000_00
    # nothing typed is lost: the form is back with the same values
    assert page.input_value("#pay-amount-0") == "100,000.01"

    # a line without an amount is caught before anything is sent
    page.fill("#pay-amount-0", "")
    page.click("#pay-preview")
    assert page.inner_text("#panel-pay .problem .sentence") == en["pay.needAmount"]


def press_until(page: Any, key: str, condition: str, limit: int = 60) -> None:
    """Press `key` until the JavaScript `condition` holds (a keyboard user's way through the page)."""
    for _ in range(limit):
        if page.evaluate(condition):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{condition} never held after {limit} presses of {key}")


def test_a_payment_is_made_with_the_keyboard_alone(
    scene: Scene, page: Any, api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    receiver = named_supplier(api, operator_headers, RECEIVER_B, 4)
    invoice = attest_invoice(api_world, 5_000_00, receiver, scene.parties["tier3"].address, days_ago=3)
    scene.server.ctx.sync()
    client = scene.server.ctx.client
    sign_in(page, scene.server, scene.parties["tier3"].api_key)
    pay_form_ready(page)
    piece = int(page.eval_on_selector("#pay-piece", "e => e.value"))
    held = client.balance_of(piece)

    press_until(page, "Tab", "document.activeElement.id === 'pay-piece'")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "pay-to-0"
    press_until(
        page, "ArrowDown", f"document.activeElement.selectedOptions[0].textContent === '{RECEIVER_B}'"
    )
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "pay-amount-0"
    page.keyboard.type("1,000")
    assert cited(page, 0) == [invoice]  # chosen for the amount; the next stop of the keyboard
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == invoice
    assert page.evaluate("document.activeElement.labels[0].textContent").startswith("Invoice")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#pay-review:not([hidden])")
    assert page.eval_on_selector_all(
        "#pay-review .review-docs li", "els => els.map(e => e.dataset.fingerprint)"
    ) == [invoice]
    assert page.evaluate("document.activeElement.id") == "pay-review"
    press_until(page, "Tab", "document.activeElement.id === 'pay-send'", limit=6)  # past the copy buttons
    page.keyboard.press("Enter")
    assert wait_written(page, "panel-pay") == "done", page.inner_text("#panel-pay .problem")
    assert page.evaluate("document.activeElement.classList.contains('outcome')")
    new = int(re.findall(r"#(\d+)", page.inner_text("#panel-pay .outcome .new-pieces"))[0])
    assert (client.owner_of(new).lower(), client.balance_of(new)) == (receiver.lower(), 1_000_00)
    assert client.balance_of(piece) == held - 1_000_00
    assert moved_on_chain(client, invoice) == 1_000_00


LAW_POLICY = {
    "max_tenor_days": 365,
    "long_tenor_days": 180,
    "sme_payment_term_days": 60,
    "max_depth": 32,
    "min_unit": 1,
    "trade_background": True,
    "reason": "the 2025 rules",
}


def enact_law_policy(api: TestClient, operator_headers: dict[str, str]) -> None:
    """The deployment's policy set to the law's default through governance (one seat, no delay here)."""
    body = {"actions": [{"action": "set-policy", "args": LAW_POLICY}], "description": "Law policy"}
    proposed = api.post("/v1/governance/proposals", json=body, headers=operator_headers)
    assert proposed.status_code == 201, proposed.text
    pid = proposed.json()["result"]["id"]
    for step in ("approve", "execute"):
        answer = api.post(f"/v1/governance/proposals/{pid}/{step}", headers=operator_headers)
        assert answer.status_code == 200, answer.text


def test_under_the_default_policy_a_supplier_pays_a_supplier_citing_the_invoice_it_sold(
    scene: Scene, page: Any, api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    enact_law_policy(api, operator_headers)
    tier3 = scene.parties["tier3"]
    seller = named_supplier(api, operator_headers, RECEIVER_A, 5)
    named_supplier(api, operator_headers, RECEIVER_B, 6)
    invoice = attest_invoice(api_world, 50_000_00, seller, tier3.address, days_ago=4)
    scene.server.ctx.sync()
    client = scene.server.ctx.client
    en = messages("en")

    sign_in(page, scene.server, tier3.api_key)
    pay_form_ready(page)
    page.select_option("#pay-piece", str(scene.open_piece))
    page.select_option("#pay-to-0", label=RECEIVER_A)
    page.fill("#pay-amount-0", "20,000")
    assert cited(page, 0) == [invoice]
    label = page.inner_text("#pay-docs-0 label")
    assert label.startswith("Invoice") and "CN¥50,000.00" in label
    assert page.inner_text("#pay-docs-0 .pay-cover").startswith("Covered")

    # a second receiver with nothing attested: named in a sentence, and the form says what to do
    page.click("#pay-add")
    page.select_option("#pay-to-1", label=RECEIVER_B)
    page.fill("#pay-amount-1", "1,000")
    page.wait_for_selector("#pay-docs-1[data-status='none']")
    nothing = en["pay.noDocuments"].replace("{name}", RECEIVER_B)
    assert page.inner_text("#pay-docs-1 .pay-docs-none") == nothing
    page.click("#pay-preview")
    assert page.inner_text("#panel-pay .problem .sentence") == en["pay.docsAllOrNone"].replace(
        "{name}", RECEIVER_B
    )
    assert page.is_hidden("#pay-review")
    page.click("#pay-rows .pay-row[data-row='1'] button")

    page.click("#pay-preview")
    review = page.wait_for_selector("#pay-review:not([hidden])")
    assert "CN¥20,000.00" in page.inner_text("#pay-review td.review-docs")
    assert en["pay.howTrade"] in review.inner_text()
    page.click("#pay-send")
    assert wait_written(page, "panel-pay") == "done", page.inner_text("#panel-pay .problem")
    new = int(re.findall(r"#(\d+)", page.inner_text("#panel-pay .outcome .new-pieces"))[0])
    assert (client.owner_of(new).lower(), client.balance_of(new)) == (seller.lower(), 20_000_00)
    assert moved_on_chain(client, invoice) == 20_000_00
    scene.server.ctx.sync()
    listed = listed_document(api, tier3, invoice)
    assert (listed["moved_value"], listed["remaining"]) == (20_000_00, 30_000_00)

    # the form reloads with the cover left; without the invoice the ledger refuses, in a sentence
    pay_form_ready(page)
    page.select_option("#pay-piece", str(scene.open_piece))
    page.select_option("#pay-to-0", label=RECEIVER_A)
    page.fill("#pay-amount-0", "10,000")
    assert cited(page, 0) == [invoice]
    assert "CN¥30,000.00" in page.inner_text("#pay-docs-0 label")
    page.uncheck("#pay-docs-0 .pay-doc")
    assert page.inner_text("#pay-docs-0 .pay-cover") == en["pay.noneChosen"]
    page.fill("#pay-amount-0", "10,000.00")  # a chosen document stays unchosen
    assert cited(page, 0) == []
    page.click("#pay-preview")
    page.wait_for_selector("#pay-review:not([hidden])")
    assert page.inner_text("#pay-review td.review-docs") == en["pay.reviewNoDocs"]
    page.click("#pay-send")
    assert wait_written(page, "panel-pay") == "refused"
    box = page.wait_for_selector("#panel-pay .problem:not([hidden])")
    assert box.get_attribute("data-code") == "TradeBackgroundRequired"
    assert page.inner_text("#panel-pay .problem .sentence") == en["error.TradeBackgroundRequired"]
    assert moved_on_chain(client, invoice) == 20_000_00
