"""The API as its own uvicorn process, for tests that must see the process itself survive a request.

`python -m tests.api.served CONFIG.json` serves the app `serve_api` describes; `serve_api` starts it
on a free loopback port against the session's chain and deployment and waits until it answers.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger.localchain import free_port
from tests.support.processes import PROJECT_ROOT, Served, serve_module

TEST_MNEMONIC = "test test test test test test test test test test test junk"


@contextmanager
def serve_api(
    data_dir: Path,
    rpc_url: str,
    deployment_json: str,
    operator_key: str,
    api: dict[str, Any] | None = None,
    *,
    database_url: str | None = None,
    name: str = "served-api",
) -> Iterator[Served]:
    """The API in a child process; `api` overrides `ApiSettings` fields. Several processes may serve
    one `data_dir` and `database_url` (workers of one service): give each its own `name`."""
    port = free_port()
    config = data_dir / f"{name}.json"
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
                "database_url": database_url or f"sqlite:///{data_dir / 'tierchain.sqlite'}",
            }
        )
    )
    env = {**os.environ, "TIERCHAIN_API_TEST_KEYSTORE_PASSWORD": "served api test password"}
    with serve_module(
        "the API", ["tests.api.served", str(config)], port, "/v1/health", data_dir / f"{name}.log", env
    ) as served:
        yield served


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
        database_url=config["database_url"],
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
