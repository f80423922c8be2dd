"""The anchor of the API benchmark: a bare FastAPI endpoint on the same server stack (uvicorn).

Every figure `tierchain bench api` reports is also given as a ratio to this endpoint measured in the
same run, so a slow or busy machine moves both and the ratio stays comparable across machines.
`python -m tierchain.bench.anchor PORT [WORKERS]` serves it.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

ANCHOR_PATH = "/bare"


def create_anchor_app() -> FastAPI:
    """One route returning a small JSON dict: what any FastAPI service costs per request."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(ANCHOR_PATH)
    def bare() -> dict[str, str]:
        return {"status": "ok", "service": "anchor"}

    return app


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    port = int(args[0])
    workers = int(args[1]) if len(args) > 1 else 1
    uvicorn.run(
        "tierchain.bench.anchor:create_anchor_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
