"""`scripts/demo.py --serve`: once the checks pass it serves the API and the dashboard with one API key
per role, and a SIGTERM stops the server and the demo's chain (in its own process, on a real chain);
what it prints tells a person which key is whose at 80 columns, and `--json` tells a program (with the
app and the server faked, so no chain is needed)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from demo_scenario import serve
from demo_scenario.report import Actor, Summary
from fastapi import FastAPI
from rich.console import Console

from ledger.config import Settings
from ledger.localchain import free_port

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 180
CHAIN_URL = "http://127.0.0.1:8545"
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
    """serve_demo with the real key-issuing flow over a fake app, and a server that returns at once."""
    monkeypatch.setattr(serve, "create_app", lambda *_a, **_k: _fake_api())
    monkeypatch.setattr(serve.uvicorn, "run", lambda *_a, **_k: None)
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
        keys = re.findall(r"\b(tc_[0-9a-f]{16}_[0-9a-f]+)\b", text)
        assert len(keys) == 5, text[-3000:]
        me = httpx.get(f"{base}/v1/participants/me", headers={"Authorization": f"Bearer {keys[0]}"})
        assert me.status_code == 200 and "CORE_ENTERPRISE" in me.json()["roles"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "chain stopped" in out.read_text()


@pytest.mark.chain
def test_demo_serve_json_prints_one_line_a_program_can_use_while_serving(tmp_path: Path) -> None:
    err = tmp_path / "demo.err"
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
        doc = json.loads(proc.stdout.readline())  # blocks until the keys are issued
        assert doc["ok"] and doc["checks"], err.read_text()[-3000:]
        info = doc["serve"]
        deadline = time.monotonic() + DEADLINE_SECONDS
        assert _wait_for(f"{info['api_url']}/health", proc, deadline, err) == 200
        core = next(k for k in info["keys"] if k["role"] == "core enterprise")
        me = httpx.get(
            f"{info['api_url']}/participants/me", headers={"Authorization": f"Bearer {core['api_key']}"}
        )
        assert me.status_code == 200 and me.json()["address"] == core["address"].lower()
        chain_id = httpx.post(info["rpc_url"], json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
        assert int(chain_id.json()["result"], 16) == doc["chain_id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.stdout.read() == "", "nothing but the one line on stdout"
