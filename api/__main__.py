"""`python -m api`: serve the API with uvicorn, settings from the environment.

With `workers` > 1 uvicorn runs that many processes on one port, each building the app from the
environment (`app_from_environment`); they share the database: rate-limit buckets, custodial nonces,
idempotency records and the indexer (one writer at a time), see docs/operations.md.
"""

from __future__ import annotations

import logging
import os

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from api.config import ApiSettings
from ledger.config import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def app_from_environment() -> FastAPI:
    """The app of one worker process: every setting from the environment (`TIERCHAIN_*`)."""
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    return create_app(settings, ApiSettings())


def settings_environment(settings: Settings, api_settings: ApiSettings) -> dict[str, str]:
    """The environment that makes `app_from_environment` in a worker build what the parent built
    (secrets are not copied: the workers read them from the environment, as the parent did)."""
    env = {
        f"TIERCHAIN_{name.upper()}": str(value)
        for name, value in settings.model_dump().items()
        if value is not None and not isinstance(value, SecretStr)
    }
    env["TIERCHAIN_API_HOST"] = api_settings.host
    env["TIERCHAIN_API_PORT"] = str(api_settings.port)
    return env


def serve(settings: Settings, api_settings: ApiSettings | None = None, *, workers: int = 1) -> None:
    """Serve until interrupted; `workers` processes share the port (and the database)."""
    api_settings = api_settings or ApiSettings()
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    log_level = settings.log_level.lower()
    if workers == 1:
        app = create_app(settings, api_settings)
        uvicorn.run(app, host=api_settings.host, port=api_settings.port, log_level=log_level)
        return
    os.environ.update(settings_environment(settings, api_settings))
    uvicorn.run(
        "api.__main__:app_from_environment",
        factory=True,
        workers=workers,
        host=api_settings.host,
        port=api_settings.port,
        log_level=log_level,
        # A worker builds its app before it answers the supervisor's health check (migrations wait on
        # one lock across workers); uvicorn's 5 s default killed and restarted workers over and over
        # on a loaded host.
        timeout_worker_healthcheck=60,
    )


def main() -> None:
    api_settings = ApiSettings()
    serve(Settings(), api_settings, workers=api_settings.workers)


if __name__ == "__main__":
    main()
