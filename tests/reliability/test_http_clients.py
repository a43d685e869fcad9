"""What one HTTP client may hold: work it walks away from is cancelled, and its turns have a budget."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import ServeFactory
from tests.api.live import live_server
from voxhub.api.clients import ClientWatch
from voxhub.api.limits import ClientRates
from voxhub.config import load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_burst_then_waits_for_its_rate() -> None:
    clock = FakeClock()
    rates = ClientRates(per_minute=60, burst=2, clock=clock)

    assert rates.retry_after_secs("10.0.0.1") is None
    assert rates.retry_after_secs("10.0.0.1") is None
    assert rates.retry_after_secs("10.0.0.1") == pytest.approx(1.0)
    assert rates.retry_after_secs("10.0.0.2") is None  # another client is not held back
    clock.now += 1.0
    assert rates.retry_after_secs("10.0.0.1") is None


def test_the_budget_remembers_a_bounded_number_of_clients() -> None:
    rates = ClientRates(per_minute=60, burst=1, clock=FakeClock(), max_clients=2)
    for client in ("a", "b", "c"):
        assert rates.retry_after_secs(client) is None

    assert rates.retry_after_secs("c") is not None  # still remembered
    assert rates.retry_after_secs("a") is None  # forgotten to make room: a fresh budget


async def test_turns_over_a_clients_budget_get_429_with_retry_after(serve: ServeFactory) -> None:
    async with serve(client_turn_burst=2, client_turns_per_minute=6, wyoming_enabled=False) as server:
        replies = [
            await server.client.post("/api/v1/synthesize", json={"text": "hi", "format": "wav"})
            for _ in range(3)
        ]

    assert [reply.status_code for reply in replies] == [200, 200, 429]
    assert replies[2].json()["error"] == "rate_limited"
    assert replies[2].headers["Retry-After"] == "10"


async def test_a_handler_is_cancelled_when_its_client_leaves_before_the_answer() -> None:
    cancelled = asyncio.Event()

    async def slow_answer(scope: Any, receive: Any, send: Any) -> None:
        await receive()  # the body
        try:
            await asyncio.Event().wait()  # an answer that never comes
        except asyncio.CancelledError:
            cancelled.set()
            raise

    messages = iter(
        [{"type": "http.request", "body": b"{}", "more_body": False}, {"type": "http.disconnect"}]
    )

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent to a client that left")

    scope = {"type": "http", "path": "/v1/chat/completions", "client": ("10.0.0.1", 5000)}
    await asyncio.wait_for(ClientWatch(slow_answer)(scope, receive, send), timeout=10)

    assert cancelled.is_set()


async def test_an_answer_already_sent_is_not_undone_by_the_client_leaving() -> None:
    sent: list[dict[str, Any]] = []

    async def answer_then_clean_up(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok", "more_body": False})
        await asyncio.sleep(0)  # the disconnect arrives while the handler still tidies up
        await asyncio.sleep(0)
        sent.append({"type": "tidied"})

    messages = iter([{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await ClientWatch(answer_then_clean_up)({"type": "http", "path": "/", "client": None}, receive, send)

    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body", "tidied"]


async def test_the_llm_request_is_dropped_and_the_slot_freed_when_the_client_leaves(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    upstream_closed = asyncio.Event()
    upstream_asked = asyncio.Event()

    async def hanging_llm(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_asked.set()
        while await reader.read(65536):  # read the request, never answer; EOF: voxhub hung up
            pass
        upstream_closed.set()
        writer.close()

    upstream = await asyncio.start_server(hanging_llm, "127.0.0.1", 0)
    port = upstream.sockets[0].getsockname()[1]
    settings = load_settings(
        data_dir=tmp_path / "data",
        models_dir=models_dir,
        llm_engine="openai",
        openai_base_url=f"http://127.0.0.1:{port}/v1",
        openai_timeout_secs=300,
        wyoming_enabled=False,
    )
    shared = Engines(**{stage: await engine_pool.get(stage) for stage in ("vad", "stt", "tts", "wake")})
    question = {"model": "voxhub", "messages": [{"role": "user", "content": "Tell me a long story."}]}
    async with upstream, live_server(settings, EnginePool(settings, shared)) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            request = asyncio.create_task(client.post("/v1/chat/completions", json=question, timeout=300))
            await asyncio.wait_for(upstream_asked.wait(), timeout=60)
            request.cancel()  # the client gives up and closes its connection
        await asyncio.wait_for(upstream_closed.wait(), timeout=60)
        async with httpx.AsyncClient(base_url=url) as client:
            health = (await client.get("/health")).json()

    assert health["server_info"]["active_connections"] == 0
