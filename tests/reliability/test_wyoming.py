"""Wyoming connections cannot lock the other clients out: idle ones hold no shared slot, are closed after the
idle timeout, and one address may open only so many."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
from wyoming.audio import AudioStart
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe
from wyoming.ping import Ping
from wyoming.tts import Synthesize
from wyoming.wake import Detect

from tests.api.sockets import TEXT_ONLY, connect
from tests.protocols.wyoming.conftest import Voxhub, read_until, serve_wyoming
from voxhub.engines.pool import EnginePool


async def open_idle(voxhub: Voxhub, stack: contextlib.AsyncExitStack, count: int) -> list[AsyncTcpClient]:
    """`count` connections that each sent one `ping` (so the server surely has them), then nothing."""
    clients = [await stack.enter_async_context(voxhub.client()) for _ in range(count)]
    for client in clients:
        await client.write_event(Ping().event())
        await read_until(client, "pong")
    return clients


async def test_idle_wyoming_connections_as_many_as_the_cap_leave_websockets_and_http_turns_room(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    async with (
        serve_wyoming(tmp_path / "data", models_dir, engine_pool, max_connections=3) as voxhub,
        contextlib.AsyncExitStack() as stack,
    ):
        await open_idle(voxhub, stack, 3)
        async with connect(voxhub.http_url, TEXT_ONLY) as socket:
            await socket.send("ping")
            await socket.until("pong")
        async with httpx.AsyncClient(base_url=voxhub.http_url, timeout=60) as http:
            turn = await http.post("/api/v1/synthesize", json={"text": "Hello."})

    assert turn.status_code == 200


async def test_more_idle_connections_than_server_slots_are_all_served(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    async with (
        serve_wyoming(
            tmp_path / "data",
            models_dir,
            engine_pool,
            max_connections=2,
            wyoming_max_connections_per_client=4,
        ) as voxhub,
        contextlib.AsyncExitStack() as stack,
    ):
        clients = await open_idle(voxhub, stack, 4)
        for client in clients:
            await client.write_event(Describe().event())
        answers = [(await read_until(client, "info", "error"))[-1].type for client in clients]

    assert answers == ["info"] * 4


async def test_a_connection_idle_past_the_timeout_is_told_and_closed(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    async with (
        serve_wyoming(tmp_path / "data", models_dir, engine_pool, wyoming_idle_timeout_secs=0.2) as voxhub,
        voxhub.client() as client,
    ):
        async with asyncio.timeout(30):
            told = await client.read_event()
            closed = await client.read_event()

    assert told is not None
    assert Error.from_event(told).code == "idle_timeout"
    assert closed is None


async def test_one_address_past_its_connection_cap_is_refused_and_the_others_keep_working(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    async with (
        serve_wyoming(
            tmp_path / "data", models_dir, engine_pool, wyoming_max_connections_per_client=2
        ) as voxhub,
        contextlib.AsyncExitStack() as stack,
    ):
        first, _ = await open_idle(voxhub, stack, 2)
        async with voxhub.client() as extra, asyncio.timeout(30):
            refusal = await extra.read_event()
            after_refusal = await extra.read_event()
        await first.write_event(Describe().event())
        still = (await read_until(first, "info"))[-1]

    assert refusal is not None
    assert Error.from_event(refusal).code == "too_many_connections"
    assert after_refusal is None
    assert still.type == "info"


async def test_a_finished_wyoming_synthesis_gives_its_slot_back_while_its_connection_stays_open(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    async with (
        serve_wyoming(tmp_path / "data", models_dir, engine_pool, max_connections=1) as voxhub,
        voxhub.client() as wyoming,
    ):
        await wyoming.write_event(Synthesize(text="The light is on.").event())
        spoken = await read_until(wyoming, "audio-stop", "error")
        async with connect(voxhub.http_url, TEXT_ONLY) as socket:
            await socket.send("ping")
            await socket.until("pong")

    assert spoken[-1].type == "audio-stop"


async def test_wyoming_work_while_every_slot_is_taken_gets_server_busy(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    async with (
        serve_wyoming(tmp_path / "data", models_dir, engine_pool, max_connections=1) as voxhub,
        connect(voxhub.http_url, TEXT_ONLY),
        voxhub.client() as wyoming,
    ):
        await wyoming.write_event(Synthesize(text="The light is on.").event())
        async with asyncio.timeout(30):
            refusal = await wyoming.read_event()

    assert refusal is not None
    assert Error.from_event(refusal).code == "server_busy"


async def test_a_failed_wyoming_request_gives_its_slot_back_and_the_connection_keeps_working(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    async with (
        serve_wyoming(tmp_path / "data", models_dir, engine_pool, max_connections=1) as voxhub,
        voxhub.client() as wyoming,
    ):
        await wyoming.write_event(Detect(names=["no_such_word"]).event())
        await wyoming.write_event(AudioStart(16000, 2, 1).event())
        failed = (await read_until(wyoming, "error"))[-1]
        await wyoming.write_event(Ping().event())
        await read_until(wyoming, "pong")
        async with connect(voxhub.http_url, TEXT_ONLY) as socket:
            await socket.send("ping")
            await socket.until("pong")

    assert Error.from_event(failed).code == "invalid_input"
