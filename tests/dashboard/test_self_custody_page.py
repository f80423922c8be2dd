"""Self-custody writes by clicking, in a real browser over real HTTP on a real chain: the service
holds no key for these participants, so the page prepares each transaction (POST /v1/tx/prepare),
shows it (contract, call data size, gas, nonce, chain), has it signed by the participant's own
wallet (an EIP-1193 `window.ethereum` the test injects, signing with eth-account in Python) or takes
a transaction signed offline and pasted in, and relays it (POST /v1/tx/submit). The chain then
shows the split; a regulator that keeps its own key freezes and unfreezes a piece the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from ledger.client import DayCount
from tests.api.support import DAY, ApiWorld, Party
from tests.dashboard.fixtures import LiveServer
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import pay_form_ready, wait_written

pytestmark = pytest.mark.chain

CATALOGUES = Path(__file__).resolve().parents[2] / "api" / "dashboard" / "i18n"

INJECT_WALLET = """
window.ethereum = {
  isTestWallet: true,
  request: async ({ method, params }) => {
    if (method !== 'eth_signTransaction') throw new Error('unsupported method ' + method);
    window.walletCalls = (window.walletCalls || 0) + 1;
    return await window.tierchainWalletSign(params[0]);
  },
};
"""


def message(locale: str, key: str) -> str:
    loaded: dict[str, str] = json.loads((CATALOGUES / f"{locale}.json").read_text(encoding="utf-8"))
    return loaded[key]


def sign_with(account: Any, tx: dict[str, Any]) -> str:
    """Sign an `eth_signTransaction` parameter (hex quantities) the way a wallet does."""
    fields: dict[str, Any] = {
        "to": tx["to"],
        "data": tx["data"],
        "value": int(tx["value"], 16),
        "gas": int(tx["gas"], 16),
        "nonce": int(tx["nonce"], 16),
        "chainId": int(tx["chainId"], 16),
    }
    if tx.get("type") == "0x2":
        fields["type"] = 2
        fields["maxFeePerGas"] = int(tx["maxFeePerGas"], 16)
        fields["maxPriorityFeePerGas"] = int(tx["maxPriorityFeePerGas"], 16)
    else:
        fields["gasPrice"] = int(tx["gasPrice"], 16)
    assert tx["from"].lower() == account.address.lower(), "the page asked to sign for another account"
    signed = Account.sign_transaction(fields, account.key)
    return "0x" + bytes(signed.raw_transaction).hex()


def self_custody_holder(
    api: TestClient, parties: dict[str, Party], issue_obligation: Any, live_server: LiveServer, value: int
) -> tuple[Party, int]:
    """`outsider` (a self-custody supplier) holding a piece of `value`, paid to it by tier 1."""
    outsider = parties["outsider"]
    root = int(issue_obligation(face=1_000_000_00)["token_id"])
    answer = api.post(
        f"/v1/tokens/{root}/split",
        json={"pieces": [{"to": outsider.address, "value": value}]},
        headers=parties["tier1"].headers,
    )
    assert answer.status_code == 200, answer.text
    live_server.ctx.sync()
    return outsider, int(answer.json()["result"]["token_id"])


def fill_payment(page: Any, piece: int, receiver: str, amount: str) -> None:
    pay_form_ready(page)
    page.select_option("#pay-piece", str(piece))
    page.select_option("#pay-to-0", receiver)
    page.fill("#pay-amount-0", amount)
    page.click("#pay-preview")
    page.wait_for_selector("#pay-review:not([hidden])")
    page.click("#pay-send")
    page.wait_for_selector("#panel-pay .sign-box")


def pieces_of(api: TestClient, party: Party) -> dict[int, int]:
    answer = api.get("/v1/tokens", headers=party.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    rows = body["items"] if isinstance(body, dict) else body
    return {int(r["token"]["token_id"]): int(r["token"]["value"]) for r in rows}


def test_a_self_custody_supplier_pays_by_signing_with_its_wallet(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Any,
    page: Any,
) -> None:
    outsider, piece = self_custody_holder(api, parties, issue_obligation, live_server, 200_000_00)
    tier3 = parties["tier3"]
    account = api_world.actors["outsider"]
    before = pieces_of(api, tier3)
    requests: list[dict[str, Any]] = []
    page.expose_function("tierchainWalletSign", lambda tx: requests.append(tx) or sign_with(account, tx))
    page.add_init_script(INJECT_WALLET)
    sign_in(page, live_server, outsider.api_key)

    fill_payment(page, piece, tier3.address, "30,000.00")
    box = page.inner_text("#panel-pay .sign-box")
    client = live_server.ctx.client
    assert client.token.address.lower() in box.lower()  # the contract the split calls
    assert message("en", "wallet.walletFound") in box
    nonce = client.w3.eth.get_transaction_count(client.w3.to_checksum_address(outsider.address))
    assert page.get_attribute("#panel-pay .sign-box", "data-nonce") == str(nonce)
    page.click("#panel-pay .sign-wallet")

    assert wait_written(page, "panel-pay") == "done", page.inner_text("#panel-pay .problem")
    assert len(requests) == 1 and page.evaluate("window.walletCalls") == 1
    tx_hash = page.get_attribute("#panel-pay .outcome .tx", "data-tx")
    receipt = client.w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["status"] == 1 and receipt["from"].lower() == outsider.address
    assert message("en", "wallet.done").split(":")[0] in page.inner_text("#panel-pay .outcome")

    live_server.ctx.sync()
    assert client.balance_of(piece) == 170_000_00
    new = set(pieces_of(api, tier3)) - set(before)
    assert len(new) == 1 and pieces_of(api, tier3)[new.pop()] == 30_000_00


def test_a_self_custody_supplier_pays_with_a_transaction_signed_offline_and_pasted(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Any,
    chinese_page: Any,
) -> None:
    page = chinese_page
    outsider, piece = self_custody_holder(api, parties, issue_obligation, live_server, 120_000_00)
    tier2 = parties["tier2"]
    before = pieces_of(api, tier2)
    sign_in(page, live_server, outsider.api_key)
    fill_payment(page, piece, tier2.address, "45000")
    box = page.inner_text("#panel-pay .sign-box")
    assert message("zh-CN", "wallet.noWallet") in box

    # Offline: the same operation prepared and signed away from the page, then pasted in.
    operation = {"operation": "split", "token_id": piece, "to": tier2.address, "value": 45_000_00}
    prepared = api.post("/v1/tx/prepare", json=operation, headers=outsider.headers)
    assert prepared.status_code == 200, prepared.text
    tx = prepared.json()
    assert page.get_attribute("#panel-pay .sign-box", "data-nonce") == str(tx["nonce"])
    fields = {k: v for k, v in tx.items() if v is not None and k != "type"}
    if tx["type"] == "eip1559":
        fields["type"] = 2
    raw = (
        "0x" + bytes(Account.sign_transaction(fields, api_world.actors["outsider"].key).raw_transaction).hex()
    )

    page.fill("#panel-pay .sign-raw", "not a transaction")
    page.click("#panel-pay .sign-submit-raw")
    page.wait_for_selector("#panel-pay .sign-problem:not([hidden])")
    assert message("zh-CN", "wallet.badRaw") in page.inner_text("#panel-pay .sign-problem")

    page.fill("#panel-pay .sign-raw", raw)
    page.click("#panel-pay .sign-submit-raw")
    assert wait_written(page, "panel-pay") == "done", page.inner_text("#panel-pay .problem")
    live_server.ctx.sync()
    assert live_server.ctx.client.balance_of(piece) == 75_000_00
    new = set(pieces_of(api, tier2)) - set(before)
    assert len(new) == 1 and pieces_of(api, tier2)[new.pop()] == 45_000_00


def test_cancelling_the_signature_sends_nothing_and_says_so(
    live_server: LiveServer, api: TestClient, parties: dict[str, Party], issue_obligation: Any, page: Any
) -> None:
    outsider, piece = self_custody_holder(api, parties, issue_obligation, live_server, 50_000_00)
    sign_in(page, live_server, outsider.api_key)
    fill_payment(page, piece, parties["tier2"].address, "1000")
    page.click("#panel-pay .sign-cancel")
    assert wait_written(page, "panel-pay") == "refused"
    assert message("en", "problem.signing-cancelled") in page.inner_text("#panel-pay .problem")
    assert live_server.ctx.client.balance_of(piece) == 50_000_00


def test_a_self_custody_regulator_freezes_and_unfreezes_by_signing(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Any,
    page: Any,
) -> None:
    piece = int(issue_obligation(face=80_000_00)["token_id"])
    live_server.ctx.sync()
    account = api_world.actors["regulator"]
    page.expose_function("tierchainWalletSign", lambda tx: sign_with(account, tx))
    page.add_init_script(INJECT_WALLET)
    sign_in(page, live_server, parties["regulator"].api_key)
    client = live_server.ctx.client

    for freeze in (True, False):
        page.fill("#freeze-token", str(piece))
        page.fill("#freeze-reason", "4")
        page.click(
            "#freeze-form button[value='freeze']" if freeze else "#freeze-form button[value='unfreeze']"
        )
        page.wait_for_selector("#panel-supervision .sign-box")
        page.click("#panel-supervision .sign-wallet")
        page.wait_for_selector("body[data-last-action]", state="attached")
        action = page.get_attribute("body", "data-last-action")
        assert action == f"{'freeze' if freeze else 'unfreeze'}:{piece}", page.inner_text(
            "#panel-supervision .problem"
        )
        page.evaluate("delete document.body.dataset.lastAction")
        assert client.is_frozen(piece) is freeze


def test_a_self_custody_supplier_accepts_a_banks_offer_by_signing(
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    issue_obligation: Any,
    page: Any,
) -> None:
    outsider, piece = self_custody_holder(api, parties, issue_obligation, live_server, 90_000_00)
    ctx = live_server.ctx
    bank = parties["bank"]
    ctx.client.mint(ctx.operator, "CNY", bank.address, 1_000_000_00)
    offer = ctx.client.make_offer(
        ctx.keys.signer(bank.address), piece, 40_000_00, 450, DayCount.ACT_360, api_world.now + 7 * DAY
    )
    ctx.sync()
    account = api_world.actors["outsider"]
    page.expose_function("tierchainWalletSign", lambda tx: sign_with(account, tx))
    page.add_init_script(INJECT_WALLET)
    sign_in(page, live_server, outsider.api_key)

    page.click(f"#panel-offers button[data-offer='{offer.offer_id}']")
    page.wait_for_selector("#offer-review:not([hidden])")
    page.click("#offer-send")
    page.wait_for_selector("#panel-offers .sign-box")
    assert ctx.client.financing.address.lower() in page.inner_text("#panel-offers .sign-box").lower()
    page.click("#panel-offers .sign-wallet")
    assert wait_written(page, "panel-offers") == "done", page.inner_text("#panel-offers .problem")
    ctx.sync()
    assert ctx.client.balance_of(piece) == 50_000_00  # the offered value went to the bank
    answer = api.get(f"/v1/financing/offers/{offer.offer_id}", headers=outsider.headers)
    assert answer.status_code == 200 and answer.json()["status"] == "financed", answer.text
