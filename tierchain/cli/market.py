"""`tierchain finance request…`: financing requests (融资申请), the market of quotes, through the API.

Requests live in the API's database (a rule of the platform, not of the chain), so these commands talk
to a running API (`tierchain serve`, `--api-url`) with the participant's API key, read from the
environment variable `--api-key-env` names. A holder asks banks (or every bank) to finance a token or
part of it before a deadline (`request`), lists and reads requests with their offers side by side
(`requests`, `request-show`), accepts one (`request-accept`) or withdraws the request
(`request-withdraw`); a bank asked prices it (`request-quote`) and offers against it (`request-offer`).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import httpx
import typer

from ledger.errors import TierchainError
from tierchain.cli.common import JsonOpt, console, guarded, rows_table, show, timestamp, usage_error
from tierchain.cli.lifecycle import finance_app

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_API_KEY_ENV = "TIERCHAIN_API_KEY"
TIMEOUT_SECONDS = 120.0  # a write answers once its transaction is mined

ApiUrlOpt = Annotated[
    str,
    typer.Option("--api-url", envvar="TIERCHAIN_API_URL", help="the Tierchain API (`tierchain serve`)"),
]
ApiKeyEnvOpt = Annotated[
    str, typer.Option("--api-key-env", help="environment variable holding the participant's API key")
]
LIST_COLUMNS = ["request_id", "token_id", "holder", "value", "banks", "all_banks", "deadline", "status"]
OFFER_COLUMNS = [
    "offer_id",
    "bank",
    "value",
    "rate_bps",
    "day_count",
    "recourse",
    "price",
    "expiry",
    "status",
]


class ApiRefused(TierchainError):
    """The API refused the request: its problem's status, title, detail and sentence."""


def open_api(api_url: str, api_key_env: str) -> httpx.Client:
    """An HTTP client for the API, authenticated with the key in `api_key_env`."""
    key = os.environ.get(api_key_env)
    if not key:
        raise usage_error(f"--api-key-env: set {api_key_env} to the participant's API key (tc_…)")
    return httpx.Client(
        base_url=api_url.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT_SECONDS
    )


def call(
    api_url: str,
    api_key_env: str,
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> Any:
    """One API call; a problem answer becomes an `ApiRefused` with the API's own words."""
    with open_api(api_url, api_key_env) as http:
        try:
            answer = http.request(method, f"/v1{path}", json=body, params=params)
        except httpx.TransportError as exc:
            raise TierchainError(
                f"the API at {api_url} did not answer ({exc}); is `tierchain serve` up?"
            ) from exc
    if answer.status_code >= 400:
        try:
            problem = answer.json()
        except ValueError:
            problem = {"title": answer.reason_phrase, "detail": answer.text[:300]}
        said = f"{answer.status_code} {problem.get('title', '')}: {problem.get('detail', '')}"
        if problem.get("sentence"):
            said += f" — {problem['sentence']}"
        raise ApiRefused(said)
    return answer.json()


@finance_app.command("request")
@guarded
def finance_request(
    token_id: Annotated[int, typer.Argument(help="a token the caller holds")],
    bank: Annotated[
        list[str] | None, typer.Option("--bank", help="a bank to ask, repeatable (or --all-banks)")
    ] = None,
    all_banks: Annotated[bool, typer.Option("--all-banks", help="ask every active bank")] = False,
    value: Annotated[
        int | None, typer.Option(help="minor units to finance (default: the whole token)")
    ] = None,
    deadline: Annotated[
        str | None,
        typer.Option(help="截止时间: unix seconds or ISO date (default: 7 days, at most maturity)"),
    ] = None,
    api_url: ApiUrlOpt = DEFAULT_API_URL,
    api_key_env: ApiKeyEnvOpt = DEFAULT_API_KEY_ENV,
    as_json: JsonOpt = False,
) -> None:
    """Ask banks to finance TOKEN_ID (or VALUE of it) by a deadline (holder): 融资申请."""
    if bool(bank) == all_banks:
        raise usage_error("give --bank (one or more) or --all-banks")
    body: dict[str, Any] = {"token_id": token_id}
    if all_banks:
        body["all_banks"] = True
    else:
        body["banks"] = list(bank or [])
    if value is not None:
        body["value"] = value
    if deadline is not None:
        body["deadline"] = timestamp(deadline, "--deadline")
    show("financing request", call(api_url, api_key_env, "POST", "/financing/requests", body=body), as_json)


@finance_app.command("requests")
@guarded
def finance_requests(
    status: Annotated[str | None, typer.Option(help="open, accepted, withdrawn, closed or expired")] = None,
    api_url: ApiUrlOpt = DEFAULT_API_URL,
    api_key_env: ApiKeyEnvOpt = DEFAULT_API_KEY_ENV,
    as_json: JsonOpt = False,
) -> None:
    """Financing requests: the open ones a bank was asked, a holder's own (regulator/operator: all)."""
    params: dict[str, Any] = {"limit": 500}
    if status is not None:
        params["status"] = status
    items: list[dict[str, Any]] = []
    while True:
        page = call(api_url, api_key_env, "GET", "/financing/requests", params=params)
        items += page["items"]
        if not page.get("next_cursor"):
            break
        params["cursor"] = page["next_cursor"]
    if as_json:
        show("requests", items, True)
        return
    console.print(rows_table("financing requests", items, LIST_COLUMNS))


@finance_app.command("request-show")
@guarded
def finance_request_show(
    request_id: Annotated[int, typer.Argument()],
    api_url: ApiUrlOpt = DEFAULT_API_URL,
    api_key_env: ApiKeyEnvOpt = DEFAULT_API_KEY_ENV,
    as_json: JsonOpt = False,
) -> None:
    """One request: the piece (obligor, maturity, value, lineage, documents) and its offers side by side."""
    shown = call(api_url, api_key_env, "GET", f"/financing/requests/{request_id}")
    if as_json:
        show("request", shown, True)
        return
    offers = shown.pop("offers")
    shown["lineage"] = [step["token_id"] for step in shown["lineage"]]
    show(f"financing request {request_id}", shown, False)
    console.print(rows_table("offers (报价)", offers, [*OFFER_COLUMNS, "best"]))


@finance_app.command("request-quote")
@guarded
def finance_request_quote(
    request_id: Annotated[int, typer.Argument()],
    rate_bps: Annotated[int, typer.Option(help="annual discount rate, basis points")],
    day_count_name: Annotated[str, typer.Option("--day-count", help="ACT_360 or ACT_365F")] = "ACT_360",
    api_url: ApiUrlOpt = DEFAULT_API_URL,
    api_key_env: ApiKeyEnvOpt = DEFAULT_API_KEY_ENV,
    as_json: JsonOpt = False,
) -> None:
    """The price today of the value REQUEST_ID asks for, at the piece's real maturity."""
    params = {"rate_bps": rate_bps, "day_count": day_count_name.upper().replace("/", "_")}
    quoted = call(api_url, api_key_env, "GET", f"/financing/requests/{request_id}/quote", params=params)
    show("quote", quoted, as_json)


@finance_app.command("request-offer")
@guarded
def finance_request_offer(
    request_id: Annotated[int, typer.Argument()],
    rate_bps: Annotated[int, typer.Option(help="annual discount rate, basis points")],
    expiry: Annotated[
        str | None, typer.Option(help="unix seconds or ISO date, by the deadline (default: the deadline)")
    ] = None,
    day_count_name: Annotated[str, typer.Option("--day-count", help="ACT_360 or ACT_365F")] = "ACT_360",
    recourse: Annotated[bool, typer.Option(help="with recourse to the seller")] = False,
    api_url: ApiUrlOpt = DEFAULT_API_URL,
    api_key_env: ApiKeyEnvOpt = DEFAULT_API_KEY_ENV,
    as_json: JsonOpt = False,
) -> None:
    """Offer against REQUEST_ID for the value it asks for (a bank asked)."""
    body: dict[str, Any] = {
        "rate_bps": rate_bps,
        "day_count": day_count_name.upper().replace("/", "_"),
        "recourse": recourse,
    }
    if expiry is not None:
        body["expiry"] = timestamp(expiry, "--expiry")
    made = call(api_url, api_key_env, "POST", f"/financing/requests/{request_id}/offers", body=body)
    show("offer made", made["result"] | {"tx_hash": made["tx_hash"]}, as_json)


@finance_app.command("request-accept")
@guarded
def finance_request_accept(
    request_id: Annotated[int, typer.Argument()],
    offer_id: Annotated[int, typer.Argument(help="an open offer made against the request")],
    api_url: ApiUrlOpt = DEFAULT_API_URL,
    api_key_env: ApiKeyEnvOpt = DEFAULT_API_KEY_ENV,
    as_json: JsonOpt = False,
) -> None:
    """Accept OFFER_ID against REQUEST_ID (holder): cash for the piece at once; the other offers lapse."""
    body = {"offer_id": offer_id}
    done = call(api_url, api_key_env, "POST", f"/financing/requests/{request_id}/accept", body=body)
    show("financed", done["result"] | {"tx_hash": done["tx_hash"]}, as_json)


@finance_app.command("request-withdraw")
@guarded
def finance_request_withdraw(
    request_id: Annotated[int, typer.Argument()],
    api_url: ApiUrlOpt = DEFAULT_API_URL,
    api_key_env: ApiKeyEnvOpt = DEFAULT_API_KEY_ENV,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw an open request (holder): the banks asked no longer see the token; its offers lapse."""
    show(
        "request withdrawn",
        call(api_url, api_key_env, "POST", f"/financing/requests/{request_id}/withdraw"),
        as_json,
    )
