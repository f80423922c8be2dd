"""`scripts/demo.py --serve`: once the checks pass it serves the API and the dashboard with one API key
per role, and a SIGTERM stops the server and the demo's chain (in its own process, on a real chain);
what it prints tells a person which key is whose at 80 columns, and `--json` tells a program (with the
app, the oracle services and the server faked, so no chain is needed). On the served demo (started
once for those tests) every documented route works: the printed RPC URL answers, the operator onboards
a custodial participant with gas, its invoice from the test CA of `scripts/gen_documents.py` is
attested, and it writes."""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from demo_scenario import serve
from demo_scenario.report import Actor, Summary
from fastapi import FastAPI
from gen_documents import build_pki, print_invoice, today, uscc
from rich.console import Console

from ledger.config import Settings
from ledger.localchain import free_port
from oracles.documents import Invoice
from oracles.signatures import sign_document
from tests.support.processes import stop
from tierchain.cli.dev import OracleServices

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 180
CHAIN_URL = "http://127.0.0.1:8545"
AGGREGATOR_URL = "http://127.0.0.1:8800"
ORACLE_URLS = [f"http://127.0.0.1:870{n}" for n in (1, 2, 3)]
CHAIN_STATE = serve.ChainState(
    rpc_url=CHAIN_URL,
    chain_id=31337,
    block=412,
    chain_time=1_811_000_000,
    chain_time_utc="2027-05-22 12:53:20 UTC",
    advanced_days=180,
)
ROLE_NAMES = {
    "core": ("core enterprise", "Huaxin Motors (core enterprise)"),
    "t1": ("tier-1 supplier", "Dongfang Drivetrain"),
    "t3a": ("tier-3 supplier", "Hengtai Forgings"),
    "bank_a": ("bank", "Bank A (Pudong branch)"),
    "regulator": ("regulator", "Supply-chain finance regulator"),
}


def _summary() -> Summary:
    actors = [
        Actor(
            key=key, name=name, role="SUPPLIER", tier=None, address=f"0x{n:040x}", uscc="", legal_id_hash=None
        )
        for n, (key, (_, name)) in enumerate(ROLE_NAMES.items(), start=1)
    ]
    return Summary(
        seed=7, chain_url=CHAIN_URL, chain_id=31337, contracts={}, face=0, currency="CNY", actors=actors
    )


def _fake_api() -> FastAPI:
    """Answers the operator's key-issuing call the way the API does; the rest of the API is not needed."""
    app = FastAPI()
    app.state.ctx = type("Ctx", (), {"sync": lambda self: None})()

    @app.post("/v1/participants/{address}/api-keys")
    def issue(address: str) -> dict[str, str]:
        return {"api_key": f"tc_{address[-16:]}_{'ab' * 24}"}

    return app


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """serve_demo with the real key-issuing flow over a fake app, and a server that returns at once;
    no oracle services are started and the chain's state is made up."""
    monkeypatch.setattr(serve, "create_app", lambda *_a, **_k: _fake_api())
    monkeypatch.setattr(serve.uvicorn, "run", lambda *_a, **_k: None)
    oracles = OracleServices(ORACLE_URLS, AGGREGATOR_URL, {})
    monkeypatch.setattr(serve, "start_services", lambda _s: serve.Services(oracles, tmp_path / "trust"))
    monkeypatch.setattr(
        serve, "read_chain_state", lambda url: CHAIN_STATE.model_copy(update={"rpc_url": url})
    )
    monkeypatch.setenv("TIERCHAIN_API_KEYSTORE_PASSWORD", "from-the-environment")
    return Settings(project_root=ROOT, data_dir=tmp_path / "data", build_dir=tmp_path / "build")


def test_serve_output_names_every_role_and_participant_in_full_at_80_columns(
    served: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system=None)  # an 80-column terminal
    assert console.width == 80

    serve.serve_demo(_summary(), served, console, 8000)

    text = out.getvalue()
    assert "…" not in text
    for role, name in ROLE_NAMES.values():
        assert role in text and name in text, f"{role} / {name} not printed in full:\n{text}"
    # A key is printed whole on one line (the terminal may wrap it; nothing is inserted into it).
    keys = re.findall(r"\btc_[0-9a-f]{16}_[0-9a-f]+\b", text)
    assert len(keys) == 5 and all(len(k) == 3 + 16 + 1 + 48 for k in keys), text
    lines = text.splitlines()
    for role, name in ROLE_NAMES.values():
        at = next(i for i, line in enumerate(lines) if role in line and name in line)
        assert any(k in "\n".join(lines[at : at + 4]) for k in keys), f"no key right under {role}:\n{text}"
    # The world around the keys: the chain's URL and state, the oracle services, the settings.
    assert "block 412" in text and "2027-05-22 12:53:20 UTC" in text and "180 days ahead" in text
    assert AGGREGATOR_URL in text and all(url in text for url in ORACLE_URLS)
    assert "TIERCHAIN_API_KEYSTORE_PASSWORD=from-the-environment" in text
    assert f"TIERCHAIN_API_AGGREGATOR_URL={AGGREGATOR_URL}" in text


def test_serve_json_gives_urls_and_each_roles_name_address_and_key(
    served: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    serve.serve_demo(_summary(), served, Console(stderr=True), 8000, json_output=True)

    line = capsys.readouterr().out.strip()
    assert "\n" not in line, "one line of JSON, so a program can read it while the server runs"
    doc = json.loads(line)
    assert doc["seed"] == 7  # the summary `--json` prints, plus how to reach the server
    info = doc["serve"]
    assert info["api_url"] == "http://127.0.0.1:8000/v1"
    assert info["dashboard_url"] == "http://127.0.0.1:8000/dashboard/"
    assert info["rpc_url"] == CHAIN_URL
    assert info["chain"] == CHAIN_STATE.model_dump(mode="json")
    assert info["aggregator_url"] == AGGREGATOR_URL and info["oracle_urls"] == ORACLE_URLS
    assert info["settings"]["TIERCHAIN_API_KEYSTORE_PASSWORD"] == "from-the-environment"
    assert int(info["settings"]["TIERCHAIN_API_ONBOARDING_FUND_WEI"]) > 0
    by_role = {k["role"]: k for k in info["keys"]}
    assert set(by_role) == {"platform operator"} | {role for role, _ in ROLE_NAMES.values()}
    for n, (role, name) in enumerate(ROLE_NAMES.values(), start=1):
        assert by_role[role]["name"] == name
        assert by_role[role]["address"] == f"0x{n:040x}"
        assert re.fullmatch(r"tc_[0-9a-f]{16}_[0-9a-f]+", by_role[role]["api_key"])
    assert by_role["platform operator"]["api_key"].startswith("tc_operator_")


def _wait_for(url: str, proc: subprocess.Popen[str], deadline: float, out: Path) -> int:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"demo exited early with {proc.returncode}:\n{out.read_text()[-3000:]}")
        try:
            return httpx.get(url, timeout=2).status_code
        except httpx.TransportError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer in time:\n{out.read_text()[-3000:]}")


@pytest.mark.chain
def test_demo_serves_api_and_dashboard(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "demo.out"
    env = {**os.environ, "COLUMNS": "250"}
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "demo.py"), "--serve", "--port", str(port)],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        assert _wait_for(f"{base}/v1/health", proc, deadline, out) == 200
        assert _wait_for(f"{base}/dashboard/", proc, deadline, out) == 200
        text = out.read_text()
        assert "CHECKS PASSED" in text
        assert "chain time" in text and "TIERCHAIN_API_KEYSTORE_PASSWORD=" in text, text[-3000:]
        keys = re.findall(r"\b(tc_[0-9a-f]{16}_[0-9a-f]+)\b", text)
        assert len(keys) == 5, text[-3000:]
        me = httpx.get(f"{base}/v1/participants/me", headers={"Authorization": f"Bearer {keys[0]}"})
        assert me.status_code == 200 and "CORE_ENTERPRISE" in me.json()["roles"]
    finally:
        stop(proc, timeout=30)
    assert "chain stopped" in out.read_text()


# ------------------------------------------------------------- the served world, started once (--json)


@dataclass
class ServedDemo:
    proc: subprocess.Popen[str]
    doc: dict[str, Any]  # the one line of JSON: the summary plus `serve`
    err: Path

    @property
    def info(self) -> dict[str, Any]:
        return dict(self.doc["serve"])

    def key_of(self, role: str) -> dict[str, Any]:
        return next(k for k in self.info["keys"] if k["role"] == role)

    def actor(self, key: str) -> dict[str, Any]:
        return next(a for a in self.doc["actors"] if a["key"] == key)

    def wait(self, url: str) -> int:
        return _wait_for(url, self.proc, time.monotonic() + DEADLINE_SECONDS, self.err)


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedDemo]:
    """`demo --serve --json` once for every test below; stopped with SIGTERM, as a supervisor would."""
    err = tmp_path_factory.mktemp("served") / "demo.err"
    with err.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "demo.py"), "--serve", "--json"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
        )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the keys are issued
        assert line, f"no JSON line:\n{err.read_text()[-3000:]}"
        served = ServedDemo(proc, json.loads(line), err)
        assert _processes_using(served.info["settings"]["TIERCHAIN_DATA_DIR"])  # the check below can fail
        assert served.wait(f"{served.info['api_url']}/health") == 200
        yield served
    finally:
        stop(proc, timeout=30)
    assert proc.stdout.read() == "", "nothing but the one line on stdout"
    data_dir = served.info["settings"]["TIERCHAIN_DATA_DIR"]
    assert not _processes_using(data_dir), "the oracle services and the chain stop with the demo"


def _processes_using(folder: str) -> list[str]:
    """Command lines of live processes that name `folder` (the demo's services all do, in their paths)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if folder in args:
            found.append(args)
    return found


@pytest.mark.chain
def test_demo_serve_json_prints_one_line_a_program_can_use_while_serving(served_demo: ServedDemo) -> None:
    doc, info = served_demo.doc, served_demo.info
    assert doc["ok"] and doc["checks"], served_demo.err.read_text()[-3000:]
    core = served_demo.key_of("core enterprise")
    me = httpx.get(f"{info['api_url']}/participants/me", headers=_bearer(core["api_key"]))
    assert me.status_code == 200 and me.json()["address"] == core["address"].lower()


@pytest.mark.chain
def test_served_demo_prints_an_rpc_url_that_answers_and_the_chain_state_it_left(
    served_demo: ServedDemo,
) -> None:
    info = served_demo.info
    rpc = info["rpc_url"]
    chain_id = httpx.post(rpc, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert int(chain_id.json()["result"], 16) == served_demo.doc["chain_id"]
    state = info["chain"]
    assert state["rpc_url"] == rpc and state["chain_id"] == served_demo.doc["chain_id"]
    latest = _rpc(rpc, "eth_getBlockByNumber", ["latest", False])
    assert 0 < state["block"] <= int(latest["number"], 16)
    assert state["chain_time"] <= int(latest["timestamp"], 16)
    # The demo moved the clock to maturity: the chain is that many days ahead of the wall clock.
    assert state["advanced_days"] >= 30
    assert abs(state["chain_time"] - time.time() - state["advanced_days"] * 86400) < 86400
    settings = info["settings"]
    assert settings["TIERCHAIN_API_KEYSTORE_PASSWORD"]
    assert settings["TIERCHAIN_API_AGGREGATOR_URL"] == info["aggregator_url"]
    assert int(settings["TIERCHAIN_API_ONBOARDING_FUND_WEI"]) > 0
    assert len(info["oracle_urls"]) == 3
    for url in (info["aggregator_url"], *info["oracle_urls"]):
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200, url


@pytest.mark.chain
def test_served_demo_onboards_a_custodial_supplier_whose_invoice_is_attested_and_who_can_propose(
    served_demo: ServedDemo,
) -> None:
    """The integrator's path on the served demo: onboard (custodial, funded), submit a signed invoice
    from the test CA `scripts/gen_documents.py` uses, see it attested, then write with the new key."""
    info = served_demo.info
    api, operator = info["api_url"], served_demo.key_of("platform operator")["api_key"]
    tax_id = uscc(random.Random(time.time_ns()))
    onboarded = httpx.post(
        f"{api}/participants",
        json={"legal_id": tax_id, "roles": ["SUPPLIER"], "custody": "custodial"},
        headers=_bearer(operator),
        timeout=60,
    )
    assert onboarded.status_code == 201, onboarded.text
    body = onboarded.json()
    assert body["participant"]["custodial"] and body["gas_funding"] is not None, body
    supplier = {"address": body["participant"]["address"], "api_key": body["api_key"]}

    core = served_demo.actor("core")
    signed, invoice = _signed_invoice(seller=tax_id, buyer=core["uscc"])
    submitted = httpx.post(
        f"{api}/documents", json={"documents": [signed]}, headers=_bearer(supplier["api_key"]), timeout=60
    )
    assert submitted.status_code in (200, 202), submitted.text
    result = submitted.json()["results"][0]
    assert result["status"] in ("submitted", "attested"), result
    fingerprint = result["fingerprint"]
    deadline = time.monotonic() + 60
    while True:
        seen = httpx.get(f"{api}/documents/{fingerprint}", headers=_bearer(supplier["api_key"]), timeout=10)
        assert seen.status_code == 200, seen.text
        if seen.json()["status"] == "attested":
            break
        assert seen.json()["status"] == "submitted" and time.monotonic() < deadline, seen.json()
        time.sleep(0.5)

    chain_time = int(_rpc(info["rpc_url"], "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    proposed = httpx.post(
        f"{api}/obligations/proposals",
        json={
            "obligor": core["address"],
            "currency": "CNY",
            "face": invoice.total_with_tax,
            # After chain time (the demo moved it to its maturity), and no more than 180 days after the
            # invoice falls due (today + 88 days): 30 days past chain time lies inside that window.
            "maturity": chain_time + 30 * 86400,
            "min_unit": 100,
            "documents": [fingerprint],
        },
        headers=_bearer(supplier["api_key"]),
        timeout=60,
    )
    assert proposed.status_code == 201, proposed.text


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=10)
    return answer.json()["result"]


def _signed_invoice(*, seller: str, buyer: str) -> tuple[dict[str, Any], Invoice]:
    """An invoice signed by the e-invoice platform of gen_documents' test CA (seed 7, dated today)."""
    pki = build_pki(random.Random(7), today())
    issued = today().date() - timedelta(days=2)
    invoice = Invoice(
        invoice_code=str(random.randrange(10**11, 10**12)),
        invoice_number=str(random.randrange(1, 10**8)).zfill(8),
        issue_date=issued,
        seller_tax_id=seller,
        buyer_tax_id=buyer,
        currency="CNY",
        amount_without_tax=100_000_00,
        tax_amount=13_000_00,
        total_with_tax=113_000_00,
        line_items_hash="0x" + random.randbytes(32).hex(),
        due_date=issued + timedelta(days=90),
    )
    signed = sign_document(invoice, *pki.issuers["einvoice"])
    document = {
        "document": print_invoice(invoice, random.Random(1)),
        "signature": signed.signature,
        "certificate_chain": signed.certificate_chain,
    }
    return document, invoice
