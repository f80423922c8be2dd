"""`scripts/demo.py --serve` in its own process: once the checks pass it serves the API and the
dashboard with one API key per role, and a SIGTERM stops the server and the demo's chain."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ledger.localchain import free_port

pytestmark = pytest.mark.chain

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 180


def _wait_for(url: str, proc: subprocess.Popen[str], deadline: float, out: Path) -> int:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"demo exited early with {proc.returncode}:\n{out.read_text()[-3000:]}")
        try:
            return httpx.get(url, timeout=2).status_code
        except httpx.TransportError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer in time:\n{out.read_text()[-3000:]}")


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
