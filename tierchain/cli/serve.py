"""`tierchain serve`: the HTTP API and the dashboard over the deployed network and its index.

`api` is imported inside the command: the ledger never imports the API at module import time.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tierchain.cli.common import NetworkOpt, guarded, settings


@guarded
def serve_cmd(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port", min=1, max=65535)] = 8000,
    network: NetworkOpt = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="worker processes on the port, sharing the database (default TIERCHAIN_API_WORKERS, else 1)",
            min=1,
        ),
    ] = None,
) -> None:
    """Serve the API (/v1, docs at /v1/docs) and the dashboard (/dashboard/) until Ctrl-C."""
    from api.__main__ import serve
    from api.config import ApiSettings

    built = settings()
    if network is not None:
        built = built.model_copy(update={"network": network})
    api_settings = ApiSettings(host=host, port=port)
    serve(built, api_settings, workers=workers or api_settings.workers)
