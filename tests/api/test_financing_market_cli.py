"""`tierchain finance request…` over the API: a holder asks two banks, both offer, the holder reads the
offers side by side and accepts the better; a refusal prints the API's sentence."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.api.support import DAY, ApiWorld, Party, onboard
from tierchain.cli import app, market

pytestmark = pytest.mark.chain

KEY_ENV = "TIERCHAIN_API_KEY"


class _Through:
    """The API's test client in place of the HTTP client the commands open (same requests, no socket)."""

    def __init__(self, api: TestClient, key: str) -> None:
        self.api, self.headers = api, {"Authorization": f"Bearer {key}"}

    def __enter__(self) -> _Through:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None

    def request(
        self, method: str, url: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        answer: httpx.Response = self.api.request(method, url, json=json, params=params, headers=self.headers)
        return answer


def test_request_offers_side_by_side_and_accept_from_the_command_line(
    api: TestClient,
    api_world: ApiWorld,
    parties: dict[str, Party],
    operator_headers: dict[str, str],
    issue_obligation: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(market, "open_api", lambda url, env: _Through(api, os.environ[env]))
    holder, bank = parties["tier1"], parties["bank"]
    bank2 = onboard(api, operator_headers, "bank2", ["BANK"], "custodial", None)
    token = issue_obligation()["token_id"]

    def run(party: Party, *args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(app, ["finance", *args, "--json"], env={KEY_ENV: party.api_key})
        assert result.exit_code == code, result.output
        return json.loads(result.stdout) if code == 0 else result.output

    deadline = api_world.now + 5 * DAY
    asked = run(
        holder, "request", str(token), "--bank", bank.address, "--bank", bank2.address,
        "--value", "50000000", "--deadline", str(deadline),
    )  # fmt: skip
    request_id = str(asked["request_id"])
    assert (asked["status"], asked["value"], asked["deadline"]) == ("open", 50_000_000, deadline)
    assert [r["request_id"] for r in run(bank, "requests")] == [asked["request_id"]]
    quoted = run(bank, "request-quote", request_id, "--rate-bps", "500")
    assert quoted["value"] == 50_000_000 and quoted["price"] < 50_000_000

    worse = run(bank, "request-offer", request_id, "--rate-bps", "700")["offer_id"]
    better = run(bank2, "request-offer", request_id, "--rate-bps", "300")["offer_id"]
    shown = run(holder, "request-show", request_id)
    assert {o["offer_id"] for o in shown["offers"]} == {worse, better}
    assert shown["best_offer_id"] == better

    api_world.client.mint(api_world.actors["admin"], "CNY", bank2.address, 50_000_000)
    financed = run(holder, "request-accept", request_id, str(better))
    assert financed["offer_id"] == better and financed["value"] == 50_000_000
    refused = run(holder, "request-accept", request_id, str(worse), code=1)
    assert "409" in refused and "is accepted" in refused
    assert run(holder, "requests", "--status", "accepted")[0]["accepted_offer_id"] == better

    again = run(holder, "request", str(token), "--all-banks")
    assert run(holder, "request-withdraw", str(again["request_id"]))["status"] == "withdrawn"
    usage = CliRunner().invoke(app, ["finance", "request", str(token)], env={KEY_ENV: holder.api_key})
    assert usage.exit_code == 2, usage.output
