"""voxhub's log lines as an operator reads them: readable on a terminal, JSON otherwise, each carrying the
request (and session, turn) it belongs to; a start-up traceback only when it tells something new."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from starlette.applications import Starlette

from tests.api.live import live_server
from voxhub.api.logging import configure_logging
from voxhub.config import Settings, load_settings
from voxhub.engines.pool import EnginePool
from voxhub.server import create_app


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes the root logger; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@asynccontextmanager
async def running(settings: Settings, engines: EnginePool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engines=engines)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://voxhub.test") as client,
    ):
        yield client


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.mark.usefixtures("restored_logging")
def test_on_a_terminal_the_lines_are_readable_text(settings: Settings) -> None:
    controller, terminal_fd = os.openpty()
    with open(terminal_fd, "w", encoding="utf-8") as terminal:
        configure_logging(settings, stream=terminal)  # log_format auto
        logging.getLogger("voxhub.server").info(
            "stt engine whisper ready in 1.4 s",
            extra={"stage": "stt", "engine": "whisper", "load_secs": 1.41},
        )
        terminal.flush()
        shown = os.read(controller, 4096).decode()
    os.close(controller)
    assert shown.split(" ", 1)[1].strip() == "INFO    stt engine whisper ready in 1.4 s  load_secs=1.41"


@pytest.mark.usefixtures("restored_logging")
def test_into_a_pipe_or_file_the_lines_are_json(settings: Settings) -> None:
    buffer = io.StringIO()
    configure_logging(settings, stream=buffer)
    logging.getLogger("voxhub.server").warning("disk nearly full")
    (line,) = _lines(buffer)
    assert line["message"] == "disk nearly full"
    assert {"request_id", "session_id", "turn_id"} <= set(line)


@pytest.mark.usefixtures("restored_logging")
async def test_every_line_of_a_request_carries_its_id_and_the_response_names_it(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir)
    buffer = io.StringIO()
    async with running(settings, engine_pool) as client:
        configure_logging(settings, stream=buffer)
        first = await client.get("/api/v1/sessions/abc123")
        second = await client.post("/api/v1/sessions", json={})
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2
    during = [line for line in _lines(buffer) if line["logger"] == "voxhub.access"]
    assert {line["request_id"] for line in during} == ids


@pytest.mark.usefixtures("restored_logging")
async def test_a_clients_own_request_id_is_kept_and_a_strange_one_replaced(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir)
    buffer = io.StringIO()
    async with running(settings, engine_pool) as client:
        configure_logging(settings, stream=buffer)
        kept = await client.get("/health", headers={"X-Request-ID": "ha-assist-42"})
        replaced = await client.get("/health", headers={"X-Request-ID": "two words\n"})
    assert kept.headers["x-request-id"] == "ha-assist-42"
    assert replaced.headers["x-request-id"] not in ("", "two words\n")
    assert [line["request_id"] for line in _lines(buffer) if line["logger"] == "voxhub.access"] == [
        "ha-assist-42",
        replaced.headers["x-request-id"],
    ]


@pytest.mark.usefixtures("restored_logging")
async def test_an_unexpected_start_up_failure_keeps_its_traceback(settings: Settings) -> None:
    @asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("a bug, not a setting")
        yield

    buffer = io.StringIO()
    configure_logging(settings, stream=buffer)
    server = uvicorn.Server(
        uvicorn.Config(Starlette(lifespan=broken), port=0, log_config=None, lifespan="on")
    )
    with pytest.raises(SystemExit):
        await server.serve()
    messages = [line["message"] for line in _lines(buffer)]
    assert any(message.startswith("Traceback") and "a bug, not a setting" in message for message in messages)
    assert "Application startup failed. Exiting." in messages


@pytest.mark.usefixtures("restored_logging")
async def test_a_websocket_connection_has_one_id_and_its_token_is_never_logged(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    token = "s3cret-token-never-logged"
    settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir, auth_token=token)
    buffer = io.StringIO()
    async with live_server(settings, engine_pool) as url:
        configure_logging(settings, stream=buffer)
        async with websockets.connect(url.replace("http", "ws") + f"/ws?token={token}") as socket:
            await socket.recv()  # the session's first event
        async with httpx.AsyncClient() as client:
            await client.get(f"{url}/health?token={token}")
    assert token not in buffer.getvalue()
    socket_lines = [
        line for line in _lines(buffer) if line.get("session_id") and line["logger"] != "voxhub.access"
    ]
    assert socket_lines, "the connection logged nothing"
    assert len({line["request_id"] for line in socket_lines}) == 1
    assert None not in {line["request_id"] for line in socket_lines}
