"""The API as its own uvicorn process, for tests that must see the process itself survive a request
(a `TestClient` shares the test's process: a crash there would take the test run down with it).

`python -m tests.api.served CONFIG.json` serves the app `serve_api` describes; `serve_api` starts it
on a free loopback port against the session's chain and deployment and waits until it answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ledger.localchain import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEST_MNEMONIC = "test test test test test test test test test test test junk"


@dataclass
class ServedApi:
    url: str
    process: subprocess.Popen[bytes]

    def alive(self) -> bool:
        """The process still runs and answers `/v1/health`."""
        if self.process.poll() is not None:
            return False
        return httpx.get(f"{self.url}/v1/health", timeout=10).status_code == 200


@contextmanager
def serve_api(
    data_dir: Path,
    rpc_url: str,
    deployment_json: str,
    operator_key: str,
    api: dict[str, Any] | None = None,
) -> Iterator[ServedApi]:
    """The API in a child process; `api` overrides `ApiSettings` fields."""
    port = free_port()
    config = data_dir / "served-api.json"
    data_dir.mkdir(parents=True, exist_ok=True)
    config.write_text(
        json.dumps(
            {
                "port": port,
                "data_dir": str(data_dir),
                "rpc_url": rpc_url,
                "deployment": json.loads(deployment_json),
                "operator_key": operator_key,
                "api": api or {},
            }
        )
    )
    log = (data_dir / "served-api.log").open("wb")
    env = {**os.environ, "TIERCHAIN_API_TEST_KEYSTORE_PASSWORD": "served api test password"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.api.served", str(config)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited with {process.returncode}: see {log.name}")
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not come up: see {log.name}")
            time.sleep(0.1)
        yield ServedApi(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def main(config_path: str) -> None:
    import uvicorn

    from api.app import create_app
    from api.config import ApiSettings
    from ledger.config import Settings, parse_network
    from ledger.deploy import Deployment
    from ledger.keys import local_accounts

    config = json.loads(Path(config_path).read_text())
    data_dir = Path(config["data_dir"])
    settings = Settings(
        project_root=PROJECT_ROOT,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'tierchain.sqlite'}",
    )
    api_settings = ApiSettings(
        **{
            "keystore_dir": data_dir / "keystores",
            "keystore_password_env": "TIERCHAIN_API_TEST_KEYSTORE_PASSWORD",
            "keystore_scrypt_n": 2**4,
            "operator_key": config["operator_key"],
            "rate_limit_per_minute": 100_000,
            "sync_interval_seconds": 0,
            **config["api"],
        }
    )
    network = parse_network(PROJECT_ROOT / "chain_config" / "local.toml", PROJECT_ROOT)
    network = network.model_copy(update={"rpc_urls": [config["rpc_url"]]})
    app = create_app(
        settings,
        api_settings,
        network=network,
        deployment=Deployment.model_validate(config["deployment"]),
        operator=local_accounts(TEST_MNEMONIC, 1)[0],
    )
    uvicorn.run(app, host="127.0.0.1", port=config["port"], log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1])
