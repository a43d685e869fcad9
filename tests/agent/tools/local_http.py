"""A small real HTTP API on a loopback port (Starlette under uvicorn), for the REST tools to call."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def serving() -> AsyncIterator[str]:
    """Serve APP on a free port; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(APP, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
