"""Stage 12: a financing request (融资申请) answered by two banks, through the service's API.

Tier 3 (a) asks both banks to finance part of its piece before a deadline: that request, not an offer, is
what lets the two banks see the piece (obligor, maturity, value, lineage, documents), and only while it is
open. Each bank reads the piece and the desk's quote for the value asked, signs its offer on chain with its
own key and names it against the request; tier 3 sees the offers side by side, priced, and accepts the
better one (delivery versus payment, the value asked split off its piece in the same transaction); the
other offer lapses with the request. The API runs in this process on the demo's chain, with an index of
its own; every figure is read back from the API or the chain.
"""

from __future__ import annotations

import secrets
import warnings
from typing import Any

from pydantic import SecretStr

from api.app import create_app
from api.config import ApiSettings
from ledger.client import DayCount
from ledger.config import NetworkConfig, Settings

from .issue import DemoFailure
from .report import Market, MarketOffer
from .scenario import DAY, Run, hundreds
from .trade import settle_offer

STAGE = 12
HOLDER = "t3a"
RATES = {"bank_a": 410, "bank_b": 440}  # bank A asks less: its price is the better one
DAY_COUNT = DayCount.ACT_360
SHARE = 50  # percent of the piece asked for


def financing_market(run: Run, settings: Settings, network: NetworkConfig) -> None:
    c = run.chain.client
    held = [t for t, p in run.pieces.items() if p.owner == HOLDER and c.exists(t)]
    if not held:
        raise DemoFailure(f"{HOLDER} holds no live piece to ask financing for")
    token = max(held, key=c.balance_of)
    asked = hundreds(c.balance_of(token) * SHARE // 100)

    operator_key = "tc_operator_" + secrets.token_urlsafe(18)
    api = create_app(
        settings.model_copy(update={"database_url": f"sqlite:///{settings.data_dir / 'market.sqlite'}"}),
        ApiSettings(
            operator_key=SecretStr(operator_key),
            keystore_dir=settings.data_dir / "market-keystores",
            sync_interval_seconds=0,
        ),
        network=network,
        deployment=run.chain.deployment,
        operator=run.p("admin").signer,
        abis=run.chain.abis,
    )
    ctx = api.state.ctx
    ctx.sync()
    with warnings.catch_warnings():  # starlette's note on its httpx-based test client
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    http = TestClient(api)

    def call(method: str, path: str, key: str, body: Any = None, expect: int = 200) -> Any:
        answer = http.request(method, f"/v1{path}", json=body, headers={"Authorization": f"Bearer {key}"})
        if answer.status_code != expect:
            raise DemoFailure(f"{method} /v1{path}: {answer.status_code} {answer.text}")
        return answer.json()

    keys = {
        who: call("POST", f"/participants/{run.p(who).address}/api-keys", operator_key, {}, 201)["api_key"]
        for who in (HOLDER, *RATES)
    }
    for bank in RATES:  # before the request, the banks cannot see the piece
        hidden = http.get(f"/v1/tokens/{token}", headers={"Authorization": f"Bearer {keys[bank]}"})
        if hidden.status_code != 404:
            raise DemoFailure(f"{bank} saw #{token} before any request: {hidden.status_code}")

    deadline = run.now() + 5 * DAY
    banks = [run.p(b).address for b in RATES]
    asked_for = call(
        "POST",
        "/financing/requests",
        keys[HOLDER],
        {"token_id": token, "banks": banks, "value": asked, "deadline": deadline},
        201,
    )
    request_id = int(asked_for["request_id"])
    report = run.summary.market = Market(request_id=request_id, holder=HOLDER, token_id=token, asked=asked)

    for bank, rate in RATES.items():
        seen = call("GET", f"/financing/requests/{request_id}", keys[bank])
        if (seen["token_id"], seen["value"]) != (token, asked) or not seen["lineage"]:
            raise DemoFailure(f"{bank} did not see the piece the request shows: {seen}")
        quote = call(
            "GET", f"/financing/requests/{request_id}/quote?rate_bps={rate}&day_count=ACT_360", keys[bank]
        )
        offer = c.make_offer(run.p(bank).signer, token, asked, rate, DAY_COUNT, deadline)
        run.record(
            STAGE, f"{bank} reads request {request_id}, offers {rate} bps on it with its own key", bank, offer
        )
        call(
            "POST",
            f"/financing/requests/{request_id}/offers/link",
            keys[bank],
            {"offer_id": offer.offer_id},
            201,
        )
        report.offers.append(
            MarketOffer(bank=bank, offer_id=offer.offer_id, rate_bps=rate, quoted=quote["price"])
        )

    side_by_side = call("GET", f"/financing/requests/{request_id}", keys[HOLDER])
    prices = {o["offer_id"]: o["price"] for o in side_by_side["offers"]}
    for o in report.offers:
        o.price = prices.get(o.offer_id)
    best = int(side_by_side["best_offer_id"])
    chosen = next(o for o in report.offers if o.offer_id == best)
    report.best_offer_id = best
    settle_offer(run, chosen.bank, HOLDER, token, best, chosen.rate_bps, DAY_COUNT, stage=STAGE)
    report.accepted_offer_id = best
    ctx.sync()
    closed = call("GET", f"/financing/requests/{request_id}", keys[HOLDER])
    report.status = closed["status"]
    report.lapsed = [o["offer_id"] for o in closed["offers"] if o["status"] == "lapsed"]
