"""`python -m api`: serve the API with uvicorn, settings from the environment."""

from __future__ import annotations

import logging

import uvicorn

from api.app import create_app
from api.config import ApiSettings
from ledger.config import Settings


def serve(settings: Settings, api_settings: ApiSettings | None = None) -> None:
    api_settings = api_settings or ApiSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(settings, api_settings)
    uvicorn.run(app, host=api_settings.host, port=api_settings.port, log_level=settings.log_level.lower())


def main() -> None:
    serve(Settings())


if __name__ == "__main__":
    main()
