"""A service in its own child process, for tests that must see the process itself survive a request
(a `TestClient` shares the test's process: a crash there would take the test run down with it)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def stop(process: subprocess.Popen[Any], timeout: float) -> None:
    """SIGTERM, as a supervisor would; killed if it still runs `timeout` seconds later."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    health_url: str

    def alive(self) -> bool:
        """The process still runs and its health URL answers 200."""
        if self.process.poll() is not None:
            return False
        return httpx.get(self.health_url, timeout=10).status_code == 200


@contextmanager
def serve_module(
    name: str,
    args: list[str],
    port: int,
    health_path: str,
    log_path: Path,
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """`python -m ARGS` from the project root, logging to `log_path`; yields once `health_path` answers 200
    on the loopback `port` (NAME names it in the errors), and stops it on the way out."""
    url = f"http://127.0.0.1:{port}"
    health_url = url + health_path
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}: see {log_path}")
                try:
                    if httpx.get(health_url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not come up: see {log_path}")
                time.sleep(0.1)
            yield Served(url, process, health_url)
        finally:
            stop(process, timeout=15)
