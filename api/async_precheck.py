"""Whether a write's path, query, headers and body are what its route declares, checked before the
write is accepted as an operation: a request FastAPI would refuse (422, or 400 for a body that is not
JSON) is not accepted with `202`, but passed on to be refused exactly as the synchronous write is."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.routing import APIRoute
from starlette.convertors import Convertor
from starlette.datastructures import Headers, QueryParams
from starlette.routing import compile_path
from starlette.types import Scope

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class WriteRoute:
    route: APIRoute
    regex: re.Pattern[str]
    convertors: dict[str, Convertor[Any]]

    def path_params(self, path: str) -> dict[str, Any] | None:
        found = self.regex.match(path)
        if found is None:
            return None
        return {name: self.convertors[name].convert(value) for name, value in found.groupdict().items()}


class WriteRoutes:
    """The write routes of some routers mounted under `prefix`, to find the one a request names."""

    def __init__(self, prefix: str, routers: Sequence[APIRouter]) -> None:
        self.routes: list[WriteRoute] = []
        for router in routers:
            for route in router.routes:
                if isinstance(route, APIRoute) and (route.methods or set()) - READ_METHODS:
                    regex, _format, convertors = compile_path(prefix + route.path)
                    self.routes.append(WriteRoute(route, regex, convertors))

    def match(self, method: str, path: str) -> tuple[APIRoute, dict[str, Any]] | None:
        """The route answering `method` on `path`, and its path parameters."""
        for candidate in self.routes:
            if method in (candidate.route.methods or set()):
                params = candidate.path_params(path)
                if params is not None:
                    return candidate.route, params
        return None


def _params(dependant: Dependant) -> tuple[list[Any], list[Any], list[Any]]:
    path, query, header = (
        list(dependant.path_params),
        list(dependant.query_params),
        list(dependant.header_params),
    )
    for sub in dependant.dependencies:
        p, q, h = _params(sub)
        path += p
        query += q
        header += h
    return path, query, header


_PARAMS_ATTR = "_tierchain_declared_params"


def _route_params(route: APIRoute) -> tuple[list[Any], list[Any], list[Any]]:
    """The route's declared parameters, gathered once and kept on the route."""
    found: tuple[list[Any], list[Any], list[Any]] | None = getattr(route, _PARAMS_ATTR, None)
    if found is None:
        found = _params(route.dependant)
        setattr(route, _PARAMS_ATTR, found)
    return found


async def is_valid(route: APIRoute, path_params: dict[str, Any], scope: Scope, body: bytes) -> bool:
    """Whether the route's declared parameters and body accept this request."""
    path_fields, query_fields, header_fields = _route_params(route)
    query = QueryParams(scope.get("query_string", b"").decode("latin-1"))
    if set(query) - {f.alias for f in query_fields}:
        return False  # unknown query parameters are refused (`api.deps.reject_unknown_query`)
    headers = Headers(scope=scope)
    errors: list[Any] = []
    errors += request_params_to_args(path_fields, path_params)[1]
    errors += request_params_to_args(query_fields, query)[1]
    errors += request_params_to_args(header_fields, headers)[1]
    if route.body_field is not None:
        received: Any = None
        if body:
            if "json" not in headers.get("content-type", ""):
                return False
            try:
                received = json.loads(body)
            except ValueError:
                return False
        embed = bool(getattr(route, "_embed_body_fields", False))
        errors += (await request_body_to_args(route.dependant.body_params, received, embed))[1]
    return not errors
