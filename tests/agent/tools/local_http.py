"""A small real HTTP API on a loopback port (Starlette under uvicorn), for the REST tools to call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.api.live import serve_asgi


async def weather(request: Request) -> Response:
    city = request.path_params["city"]
    return JSONResponse({"city": city, "temperature": 21, "unit": request.query_params.get("unit", "c")})


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "content_type": request.headers.get("content-type"),
            "token": request.headers.get("x-token"),
            "body": body.decode(),
        }
    )


async def text(request: Request) -> Response:
    return PlainTextResponse("word " * 5000)


async def fails(request: Request) -> Response:
    return PlainTextResponse("database on fire", status_code=500)


async def slow(request: Request) -> Response:
    await asyncio.sleep(0.6)
    return PlainTextResponse("late")


APP = Starlette(
    routes=[
        Route("/weather/{city}", weather),
        Route("/echo", echo, methods=["GET", "POST", "PUT"]),
        Route("/text", text),
        Route("/fails", fails),
        Route("/slow", slow),
    ]
)


@asynccontextmanager
async def serving() -> AsyncIterator[str]:
    """Serve APP on a free port; yields the base URL."""
    async with serve_asgi(APP, lifespan="off") as url:
        yield url
