"""The browser client: static files served as they are (no build step), and where they are mounted."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# The page and its files only: the package's Python source beside them is not the public's to read.
WEB_DIR = Path(__file__).resolve().parent / "static"


def mount_web_client(app: FastAPI) -> None:
    """The page at `/` for browsers and its files under `/web/`; public, like any login page."""
    app.router.routes.insert(0, _BrowserPage("/", _web_page, methods=["GET"], include_in_schema=False))
    app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")


class _BrowserPage(Route):
    """`/` for a browser (it accepts text/html): the web client; other clients fall through to the JSON
    links at `/`."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        accept = dict(scope.get("headers") or []).get(b"accept", b"")
        if scope["type"] != "http" or b"text/html" not in accept:
            return Match.NONE, {}
        return super().matches(scope)


async def _web_page(request: Request) -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})
