"""The web dashboard: static files from `api/dashboard/` at `/dashboard/` (its message catalogues from
`api/dashboard/i18n/` at `/dashboard/i18n/`), and `/` sending people there.

The page is plain ES modules with no build step; it talks to `/v1` with the API key the user signs in
with, so these routes need no authentication and serve only the files named in the folder (no path
from the URL ever reaches the file system). A strict Content-Security-Policy keeps the page to this
origin: no inline script, nothing fetched from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from api.errors import NotFound

ASSETS = Path(__file__).resolve().parents[1] / "dashboard"
CATALOGUES = ASSETS / "i18n"
MEDIA_TYPES = {
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _published(folder: Path = ASSETS) -> dict[str, Path]:
    """The servable files by name, read once per request from the folder (a handful of entries)."""
    return {p.name: p for p in folder.iterdir() if p.is_file() and p.suffix in MEDIA_TYPES}


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status_code=307)


@router.get("/dashboard")
def dashboard_slash() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status_code=307)


@router.get("/dashboard/")
def dashboard() -> FileResponse:
    return asset("index.html")


@router.get("/dashboard/i18n/{name}")
def catalogue(name: str) -> FileResponse:
    """A message catalogue (`en.json`, `zh-CN.json`)."""
    path = _published(CATALOGUES).get(name) if name.endswith(".json") else None
    if path is None:
        raise NotFound(f"no message catalogue {name!r}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=HEADERS)


@router.get("/dashboard/{name}")
def asset(name: str) -> FileResponse:
    path = _published().get(name)
    if path is None:
        raise NotFound(f"no dashboard file {name!r}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=HEADERS)
