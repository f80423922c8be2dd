"""The OpenAPI side of `Prefer: respond-async`: every write under `/v1` lists the shared `202` answer
(`components.responses.OperationAccepted`, with its `Location` and `Preference-Applied` headers and
the `Operation` body), and the `Prefer` header it answers to (`components.parameters.PreferAsync`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.operations import PREFER_ASYNC

WRITE_METHODS = ("post", "put", "patch", "delete")
OPERATIONS_PATH = "/v1/operations"

ACCEPTED_RESPONSE: dict[str, Any] = {
    "description": (
        f"`Prefer: {PREFER_ASYNC}` was sent: the write is stored as an operation and runs in the "
        "background; follow it at `Location` until its state is `done` (its `result` is this route's "
        "answer) or `failed` (its `error` is this route's problem details)"
    ),
    "headers": {
        "Location": {"description": "`/v1/operations/{id}`", "schema": {"type": "string"}},
        "Preference-Applied": {"description": f"`{PREFER_ASYNC}`", "schema": {"type": "string"}},
        "Retry-After": {
            "description": "seconds before asking for the operation",
            "schema": {"type": "integer"},
        },
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Operation"}}},
}

PREFER_PARAMETER: dict[str, Any] = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": (
        f"`{PREFER_ASYNC}`: answer `202 Accepted` at once and run the write in the background "
        "(RFC 7240); without it the write answers once mined and indexed"
    ),
    # any preference list is valid (RFC 7240: unknown ones are ignored), so no enum
    "schema": {"type": "string", "examples": [PREFER_ASYNC]},
}


def add_async_writes(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the shared 202 answer and the `Prefer` parameter to every write of `schema` (in place)."""
    components = schema.setdefault("components", {})
    components.setdefault("responses", {})["OperationAccepted"] = ACCEPTED_RESPONSE
    components.setdefault("parameters", {})["PreferAsync"] = PREFER_PARAMETER
    for path, item in schema.get("paths", {}).items():
        if not path.startswith("/v1/") or path.startswith(OPERATIONS_PATH):
            continue
        for method in WRITE_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/PreferAsync"})
            operation.setdefault("responses", {})["202"] = {
                "$ref": "#/components/responses/OperationAccepted"
            }
    return schema


def document_async_writes(app: FastAPI) -> None:
    """Have `app.openapi()` document asynchronous writes (built once, then cached like FastAPI's own)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_async_writes(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    openapi_version=app.openapi_version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                    servers=app.servers,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
