"""The whole multi-tier journey done only by clicking, role by role, once in zh-CN and once in English.

The operator onboards the core enterprise, four tiers of suppliers, a bank and a regulator in its page and
reads each API key shown once, which each role then types to sign in. Tier 1 proposes the obligation in
its 发起确权申请 page, citing the invoice it sold the core; the core confirms it in 待确权; tier 1 pays
tier 2, tier 2 pays tier 3, tier 3 pays tier 4, each citing the attested invoice the receiver sold it;
tier 4 asks the bank for financing, the bank quotes and offers in its market, tier 4 accepts; the
regulator freezes a piece and unfreezes it; the core repays at maturity; every holder redeems. After
each step the chain is read and compared with what the page shows (values, holders by legal name).
Each role's main page is kept as a screenshot in build/screenshots/ and checked.

Setup that is no participant's act uses the fixtures: the oracles' registration and attestations, test
settlement cash minted by the operator, and the chain's clock moved to maturity."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.support import DAY, OPERATOR_KEY, ApiWorld, onboard
from tests.dashboard.fixtures import LiveServer
from tests.dashboard.png import decode
from tests.dashboard.test_dashboard import last_action
from tests.dashboard.test_payments import (
    attest_invoice,
    cited,
    enact_law_policy,
    messages,
    moved_on_chain,
    pay_form_ready,
    uscc,
    wait_written,
)

pytestmark = pytest.mark.chain

FACE = 1_000_000_00
SHANGHAI = timezone(timedelta(hours=8))
TO_TIER2 = 600_000_00
TO_TIER3 = 300_000_00
TO_TIER4 = 100_000_00
BANK_CASH = 1_000_000_00

CODES = {"CNY"}  # currency codes are written as codes in every language

# name → (legal name, role checkbox): Chinese legal names in both locales, as they are registered
COMPANIES: dict[str, tuple[str, str]] = {
    "core": ("江苏远航重工集团有限公司", "CORE_ENTERPRISE"),
    "tier1": ("无锡华创机电设备有限公司", "SUPPLIER"),
    "tier2": ("常州精工零部件有限公司", "SUPPLIER"),
    "tier3": ("苏州恒达铸造有限公司", "SUPPLIER"),
    "tier4": ("南通宏利五金加工厂", "SUPPLIER"),
    "bank": ("江南商业银行股份有限公司", "BANK"),
    "regulator": ("地方金融监督管理局", "REGULATOR"),
}


@dataclass
class Member:
    """A participant as the operator's page gave it: its legal name, address and the key shown once."""

    name: str
    address: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class Journey:
    tab: Any
    server: LiveServer
    api: TestClient
    world: ApiWorld
    locale: str
    shots: Path
    members: dict[str, Member] = field(default_factory=dict)
    pieces: dict[int, tuple[str, int]] = field(default_factory=dict)  # live piece → (holder, value)

    @property
    def client(self) -> Any:
        return self.server.ctx.client

    def name_of(self, address: str) -> str:
        return next(m.name for m in self.members.values() if m.address.lower() == address.lower())

    def owner(self, token: int) -> str:
        return self.name_of(self.client.owner_of(token))


def agrees(j: Journey) -> None:
    """The chain and the API read as the operator agree with the journey so far on every live piece:
    its holder (by address, and by the legal name the operator typed), its value, its freeze."""
    j.server.ctx.sync()
    operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    for token, (member, value) in j.pieces.items():
        holder = j.members[member]
        assert (j.owner(token), j.client.balance_of(token)) == (holder.name, value), token
        seen = j.api.get(f"/v1/tokens/{token}", headers=operator)
        assert seen.status_code == 200, seen.text
        view = seen.json()
        assert (view["owner"].lower(), view["value"]) == (holder.address, value), view
        assert view["frozen"] is j.client.is_frozen(token)
        profile = j.api.get(f"/v1/participants/{holder.address}/profile", headers=operator)
        assert profile.status_code == 200, profile.text
        assert profile.json()["legal_name"] == holder.name


def yuan(minor: int) -> str:
    """An amount as both locales write it after the currency sign (¥ in zh-CN, CN¥ in English)."""
    return f"¥{minor // 100:,}.{minor % 100:02d}"


def sign_in_as(j: Journey, api_key: str) -> None:
    """Sign out whoever is signed in, then type `api_key` into the sign-in form as a user would."""
    tab = j.tab
    if tab.is_visible("#sign-out"):
        tab.click("#sign-out")
    tab.wait_for_selector("body[data-state='signed-out']")
    tab.fill("#api-key", api_key)
    tab.click("#sign-in-form button[type=submit]")
    tab.wait_for_selector("body[data-state='ready']")
    assert tab.get_attribute("html", "lang") == j.locale


def keep_shot(j: Journey, role: str, panel: str, *selectors: str) -> None:
    """The role's main page as a screenshot artifact, after its key elements are seen on it: the main
    panel titled in the page's language, and `selectors`."""
    title = j.tab.inner_text(f"#h-{panel}")
    assert title == messages(j.locale)[f"{panel}.title"], f"the {role} page's {panel} title is {title}"
    for selector in (f"#panel-{panel}", *selectors):
        assert j.tab.is_visible(selector), f"{selector} is not visible on the {role} page"
    if j.locale == "zh-CN":  # the clerk's main panel speaks Chinese only (addresses and codes aside)
        text = re.sub(r"0x[0-9a-fA-F]+…?[0-9a-fA-F]*|tc_\S+", " ", j.tab.inner_text(f"#panel-{panel}"))
        assert set(re.findall(r"[A-Za-z]{2,}", text)) <= CODES, f"English on the {role} page: {text}"
    path = j.shots / f"journey-{role}-{j.locale}.png"
    j.tab.screenshot(path=str(path), full_page=True)
    assert 5_000 < path.stat().st_size < 20_000_000, f"{path} is {path.stat().st_size} bytes"
    image = decode(path)
    assert image.width >= 300 and image.height >= 300
    assert len(Counter(image.region(0, 0, image.width, min(image.height, 900)))) > 20


def holding(j: Journey, token: int) -> str:
    j.tab.wait_for_selector(f"#panel-holdings[data-status='ready'] td.token-id:text-is('#{token}')")
    row: str = j.tab.inner_text(f"#panel-holdings tr:has(td.token-id:text-is('#{token}'))")
    return row


def new_pieces(j: Journey, panel: str) -> list[int]:
    return [int(i) for i in re.findall(r"#(\d+)", j.tab.inner_text(f"#{panel} .outcome .new-pieces"))]


# ------------------------------------------------------------------------------------ the steps


def onboard_everyone(j: Journey) -> None:
    tab = j.tab
    j.server.ctx.sync()  # the index now holds the deployment's role grants to the operator's account
    me = j.api.get("/v1/participants/me", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})
    assert me.status_code == 200 and me.json()["roles"] == ["OPERATOR"], me.text
    sign_in_as(j, OPERATOR_KEY)
    tab.wait_for_selector("#panel-onboard:not([hidden])")
    keep_shot(j, "operator", "onboard", "#onboard-form", "#onboard-form", "#onboard-name", "#onboard-preview")
    for seed, (member, (name, role)) in enumerate(COMPANIES.items()):
        code = uscc(seed + (100 if j.locale == "en" else 0))
        tab.wait_for_selector("#onboard-form:not([hidden])")
        tab.fill("#onboard-name", name)
        tab.fill("#onboard-id", code)
        for box in COMPANIES.values():
            tab.set_checked(f"#onboard-role-{box[1]}", box[1] == role)
        tab.select_option("#onboard-size", "large" if role == "CORE_ENTERPRISE" else "")
        tab.select_option("#onboard-custody", "custodial")
        tab.click("#onboard-preview")
        review = tab.wait_for_selector("#onboard-review:not([hidden])").inner_text()
        assert name in review and code in review
        tab.click("#onboard-send")
        assert wait_written(tab, "panel-onboard") == "done", tab.inner_text("#panel-onboard .problem")
        shown = tab.wait_for_selector("#panel-onboard .outcome:not([hidden]) .api-key")
        address, key = shown.get_attribute("data-address"), shown.inner_text()
        assert address and key.startswith("tc_")
        j.members[member] = Member(name, address.lower(), key)
        me = j.api.get("/v1/participants/me", headers=j.members[member].headers)
        assert me.status_code == 200, me.text
        assert me.json()["address"] == address.lower() and role in me.json()["roles"]
    j.server.ctx.sync()


def propose(j: Journey) -> int:
    """Tier 1 proposes the obligation in its 发起确权申请 page, citing the invoice it sold the core."""
    tab = j.tab
    tier1, core = j.members["tier1"], j.members["core"]
    invoice = j.world.attest_invoice(FACE, tier1.address, core.address)
    j.server.ctx.sync()
    day = datetime.fromtimestamp(j.world.now + 90 * DAY, SHANGHAI).date()
    maturity = int(datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).timestamp())
    sign_in_as(j, tier1.api_key)
    tab.wait_for_selector("#panel-propose[data-status='ready']")
    tab.select_option("#propose-obligor", label=core.name)
    tab.fill("#propose-face", yuan(FACE)[1:])
    tab.fill("#propose-maturity", day.isoformat())
    tab.check(f"#propose-docs[data-status='ready'] input.propose-doc[value='{invoice}']")
    tab.click("#propose-preview")
    review = tab.wait_for_selector("#propose-review:not([hidden])").inner_text()
    assert yuan(FACE) in review and core.name in review
    tab.click("#propose-send")
    assert wait_written(tab, "panel-propose") == "done", tab.inner_text("#panel-propose .problem")
    done = tab.wait_for_selector("#panel-propose .outcome .propose-done")
    proposal_id = int(done.get_attribute("data-proposal-id") or "0")
    j.server.ctx.sync()
    proposal = j.api.get(f"/v1/obligations/proposals/{proposal_id}", headers=tier1.headers).json()
    assert (proposal["face"], proposal["maturity"], proposal["documents"]) == (FACE, maturity, [invoice])
    assert proposal["obligor"] == core.address and proposal["status"] == "pending"
    return proposal_id


def confirm(j: Journey, proposal_id: int) -> tuple[int, int]:
    tab = j.tab
    sign_in_as(j, j.members["core"].api_key)
    tab.wait_for_selector(f"#panel-proposals[data-status='ready'] button[data-proposal='{proposal_id}']")
    row = tab.inner_text(f"#panel-proposals tr:has(button[data-proposal='{proposal_id}'])")
    assert yuan(FACE) in row and j.members["tier1"].name in row
    keep_shot(j, "core", "proposals", "#panel-repay", f"button[data-proposal='{proposal_id}']")
    tab.click(f"#panel-proposals button[data-proposal='{proposal_id}'][data-action='confirm']")
    review = tab.wait_for_selector("#proposal-review:not([hidden])").inner_text()
    assert yuan(FACE) in review
    tab.click("#proposal-send")
    assert wait_written(tab, "panel-proposals") == "done", tab.inner_text("#panel-proposals .problem")
    answer = j.api.get(f"/v1/obligations/proposals/{proposal_id}", headers=j.members["core"].headers)
    slot = int(answer.json()["slot"])
    terms = j.client.slot_terms(slot)
    root = int(terms.root_token_id)
    assert terms.face == FACE and j.owner(root) == j.members["tier1"].name
    j.pieces[root] = ("tier1", FACE)
    agrees(j)
    return slot, root


def pay(j: Journey, payer: str, piece: int, receiver: str, amount: int) -> int:
    """`payer` pays `receiver` from `piece`, citing the invoice the receiver sold it (attested first)."""
    tab = j.tab
    buyer, seller = j.members[payer], j.members[receiver]
    invoice = attest_invoice(j.world, amount, seller.address, buyer.address, days_ago=3)
    j.server.ctx.sync()
    held = j.client.balance_of(piece)
    sign_in_as(j, buyer.api_key)
    assert yuan(held) in holding(j, piece)
    pay_form_ready(tab)
    if payer == "tier1":
        keep_shot(j, "supplier", "pay", "#panel-holdings", "#panel-offers", "#pay-preview")
    tab.select_option("#pay-piece", str(piece))
    tab.select_option("#pay-to-0", label=seller.name)
    tab.fill("#pay-amount-0", f"{amount // 100:,}")
    assert cited(tab, 0) == [invoice]
    tab.click("#pay-preview")
    review = tab.wait_for_selector("#pay-review:not([hidden])").inner_text()
    assert seller.name in review and yuan(amount) in review and yuan(held - amount) in review
    tab.click("#pay-send")
    assert wait_written(tab, "panel-pay") == "done", tab.inner_text("#panel-pay .problem")
    (new,) = new_pieces(j, "panel-pay")
    # the chain agrees: the new piece is the receiver's with the amount typed; the invoice backed it
    assert (j.owner(new), j.client.balance_of(new)) == (seller.name, amount)
    assert j.client.balance_of(piece) == held - amount
    assert moved_on_chain(j.client, invoice) == amount
    tab.wait_for_selector("#panel-holdings[data-status='ready']")
    assert yuan(held - amount) in holding(j, piece)
    j.pieces[piece] = (payer, held - amount)
    j.pieces[new] = (receiver, amount)
    agrees(j)
    return new


def finance(j: Journey, piece: int) -> int:
    """Tier 4 asks the bank; the bank quotes and offers in its market; tier 4 accepts the offer."""
    tab = j.tab
    tier4, bank = j.members["tier4"], j.members["bank"]
    j.client.mint(j.world.actors["admin"], "CNY", bank.address, BANK_CASH)
    j.server.ctx.sync()
    sign_in_as(j, tier4.api_key)
    tab.wait_for_selector("#panel-offers[data-status='ready']")
    tab.select_option("#ask-piece", str(piece))
    tab.select_option("#ask-bank", bank.address)
    tab.click("#ask-form button[type=submit]")
    asked = tab.wait_for_selector("#panel-offers .ask-outcome:not([hidden])").inner_text()
    assert f"#{piece}" in asked and bank.name in asked

    sign_in_as(j, bank.api_key)
    tab.wait_for_selector(
        f"#panel-market[data-status='ready'] tr:has(td:text-is('#{piece}')) button[data-request]"
    )
    row_selector = f"#panel-market tr:has(td:text-is('#{piece}'))"
    row = tab.inner_text(row_selector)
    assert yuan(TO_TIER4) in row
    request_id = int(tab.get_attribute(f"{row_selector} button[data-request]", "data-request"))
    keep_shot(j, "bank", "market", "#panel-book", "#panel-limits", f"button[data-request='{request_id}']")
    tab.click(f"#panel-market button[data-request='{request_id}']")
    tab.wait_for_selector("#market-form:not([hidden])")
    tab.fill("#market-rate", "4.8")
    tab.select_option("#market-daycount", "ACT_365F")
    tab.check("#market-recourse")
    tab.click("#market-preview")
    review = tab.wait_for_selector("#market-review:not([hidden])").inner_text()
    quote = j.api.get(
        f"/v1/financing/requests/{request_id}/quote",
        params={"rate_bps": 480, "day_count": "ACT_365F"},
        headers=bank.headers,
    )
    assert quote.status_code == 200, quote.text
    price = int(quote.json()["price"])
    assert yuan(price) in review and yuan(TO_TIER4) in review
    tab.click("#market-send")
    assert wait_written(tab, "panel-market") == "done", tab.inner_text("#panel-market .problem")
    detail = j.api.get(f"/v1/financing/requests/{request_id}", headers=bank.headers).json()
    (made,) = detail["offers"]
    offer_id = int(made["offer_id"])
    offer = j.client.offer(offer_id)
    assert (offer.token_id, offer.value, offer.rate_bps, offer.recourse) == (piece, TO_TIER4, 480, True)
    j.server.ctx.sync()

    cash = j.client.cash_balance("CNY", tier4.address)
    sign_in_as(j, tier4.api_key)
    tab.wait_for_selector(f"#panel-offers[data-status='ready'] button[data-offer='{offer_id}']")
    row = tab.inner_text(f"#panel-offers tr:has(button[data-offer='{offer_id}'])")
    assert yuan(TO_TIER4) in row and bank.name in row
    tab.click(f"#panel-offers button[data-offer='{offer_id}']")
    review = tab.wait_for_selector("#offer-review:not([hidden])").inner_text()
    assert yuan(price) in review
    tab.click("#offer-send")
    assert wait_written(tab, "panel-offers") == "done", tab.inner_text("#panel-offers .problem")
    financed = (new_pieces(j, "panel-offers") or [piece])[0]
    assert (j.owner(financed), j.client.balance_of(financed)) == (bank.name, TO_TIER4)
    assert j.client.cash_balance("CNY", tier4.address) - cash == price
    assert yuan(price) in tab.inner_text("#panel-offers .outcome")
    if financed == piece:  # the whole piece was sold: tier 4's holdings no longer list it
        del j.pieces[piece]
        tab.wait_for_selector(f"#panel-holdings td.token-id:text-is('#{piece}')", state="detached")
    else:
        j.pieces[piece] = ("tier4", TO_TIER4 - j.client.balance_of(financed))
    j.pieces[financed] = ("bank", TO_TIER4)
    agrees(j)
    return financed


def freeze_and_unfreeze(j: Journey, pieces: list[int], piece: int) -> None:
    """The regulator freezes `piece` and unfreezes it; the lineage of `pieces` (root first) names
    each holder as the chain has it."""
    tab = j.tab
    sign_in_as(j, j.members["regulator"].api_key)
    tab.wait_for_selector("#panel-supervision:not([hidden])")
    tab.fill("#freeze-token", str(piece))
    tab.fill("#freeze-reason", "3")
    tab.click("#freeze-form button[value=freeze]")
    assert last_action(tab, "panel-supervision") == f"freeze:{piece}"
    assert j.client.is_frozen(piece)
    agrees(j)
    tab.wait_for_selector(f"#panel-supervision td.token-id:text-is('#{piece}')")
    # the lineage of the obligation: every piece's holder by legal name, as the chain has it
    tab.fill("#lineage-token", str(pieces[0]))
    tab.press("#lineage-token", "Enter")
    tab.wait_for_selector(
        f"#panel-lineage[data-status='ready'] .lineage-svg .node.frozen[data-token-id='{piece}']"
    )
    nodes = tab.eval_on_selector_all(
        ".lineage-svg .nodes .node",
        "els => els.map(e => [Number(e.dataset.tokenId), e.querySelector('.node-holder').textContent])",
    )
    assert sorted(token for token, _ in nodes) == sorted(pieces)
    assert {token: holder for token, holder in nodes} == {token: j.owner(token) for token in pieces}
    keep_shot(j, "regulator", "supervision", "#freeze-form", "#panel-lineage", "#panel-search")

    tab.fill("#freeze-token", str(piece))
    tab.fill("#freeze-reason", "4")
    tab.click("#freeze-form button[value=unfreeze]")
    assert last_action(tab, "panel-supervision") == f"unfreeze:{piece}"
    assert not j.client.is_frozen(piece)
    agrees(j)
    tab.wait_for_selector(f".lineage-svg .node[data-token-id='{piece}']:not(.frozen)")


def repay(j: Journey, slot: int) -> None:
    tab = j.tab
    core = j.members["core"]
    j.world.chain.increase_time(91 * DAY)
    j.world.chain.mine()
    j.client.mint(j.world.actors["admin"], "CNY", core.address, FACE)
    j.server.ctx.sync()
    sign_in_as(j, core.api_key)
    tab.wait_for_selector(f"#panel-repay[data-status='ready'] button[data-slot='{slot}']")
    due = tab.inner_text(f"#panel-repay tr:has(button[data-slot='{slot}'])")
    assert yuan(FACE) in due and j.client.repayment_account(slot).paid == 0
    tab.fill(f"#repay-amount-{slot}", f"{FACE // 100:,}.00")
    tab.click(f"#panel-repay button[data-slot='{slot}']")
    review = tab.wait_for_selector("#repay-review:not([hidden])").inner_text()
    assert yuan(FACE) in review
    tab.click("#repay-send")
    assert wait_written(tab, "panel-repay") == "done", tab.inner_text("#panel-repay .problem")
    assert j.client.repayment_account(slot).paid == FACE
    assert j.api.get(f"/v1/obligations/{slot}", headers=core.headers).json()["paid"] == FACE


def redeem(j: Journey, member: str, piece: int, value: int) -> None:
    tab = j.tab
    holder = j.members[member]
    assert (j.owner(piece), j.client.balance_of(piece)) == (holder.name, value)
    before = j.client.cash_balance("CNY", holder.address)
    sign_in_as(j, holder.api_key)
    tab.wait_for_selector(f"#panel-redeem[data-status='ready'] button[data-redeem='{piece}']")
    assert yuan(value) in tab.inner_text(f"#panel-redeem tr:has(button[data-redeem='{piece}'])")
    tab.click(f"#panel-redeem button[data-redeem='{piece}']")
    review = tab.wait_for_selector("#redeem-review:not([hidden])").inner_text()
    assert yuan(value) in review
    tab.click("#redeem-send")
    assert wait_written(tab, "panel-redeem") == "done", tab.inner_text("#panel-redeem .problem")
    assert j.client.cash_balance("CNY", holder.address) - before == value
    assert yuan(value) in tab.inner_text("#panel-redeem .outcome")
    assert not j.client.exists(piece) or j.client.balance_of(piece) == 0
    del j.pieces[piece]
    agrees(j)


# ------------------------------------------------------------------------------------ the journey


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_whole_multi_tier_journey_by_clicking(
    locale: str,
    request: pytest.FixtureRequest,
    live_server: LiveServer,
    api: TestClient,
    api_world: ApiWorld,
    operator_headers: dict[str, str],
    screenshots: Path,
) -> None:
    tab = request.getfixturevalue("chinese_page" if locale == "zh-CN" else "page")
    tab.set_default_timeout(30_000)
    for oracle in ("oracle1", "oracle2"):  # the oracles attest trade documents: setup, not a user act
        onboard(api, operator_headers, oracle, ["ORACLE"], "self", api_world.actors[oracle])
    enact_law_policy(api, operator_headers)  # the deployment's policy: every payment cites its trade
    j = Journey(tab, live_server, api, api_world, locale, screenshots)
    tab.goto(f"{live_server.url}/")

    onboard_everyone(j)
    slot, root = confirm(j, propose(j))
    tier2_piece = pay(j, "tier1", root, "tier2", TO_TIER2)
    tier3_piece = pay(j, "tier2", tier2_piece, "tier3", TO_TIER3)
    tier4_piece = pay(j, "tier3", tier3_piece, "tier4", TO_TIER4)
    financed = finance(j, tier4_piece)
    freeze_and_unfreeze(j, [root, tier2_piece, tier3_piece, financed], tier3_piece)
    repay(j, slot)
    kept = {
        "tier1": (root, FACE - TO_TIER2),
        "tier2": (tier2_piece, TO_TIER2 - TO_TIER3),
        "tier3": (tier3_piece, TO_TIER3 - TO_TIER4),
        "bank": (financed, TO_TIER4),
    }
    for member, (piece, value) in kept.items():
        redeem(j, member, piece, value)
    assert sum(value for _, value in kept.values()) == FACE
    assert j.pieces == {}
