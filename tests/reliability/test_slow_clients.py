"""Slow and greedy HTTP clients cannot hold the server: half-sent requests are cut off, addresses capped.

Each story runs a real uvicorn server (the guard lives in its HTTP protocol) and raw sockets that behave
as a slowloris attack does.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.api.sockets import Start

QUICK: Any = {"wyoming_enabled": False}


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    address = urlsplit(url)
    return await asyncio.open_connection(address.hostname, address.port)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
    """What the server said before it closed: status and JSON body."""
    raw = await asyncio.wait_for(reader.read(), timeout=30)
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def test_headers_that_never_finish_get_408_and_the_socket_is_closed(start: Start) -> None:
    async with start(**QUICK, http_read_timeout_secs=0.5) as url:
        reader, writer = await _open(url)
        writer.write(b"GET /health HTTP/1.1\r\nHost: voxhub\r\nX-Slow: a")  # and never the rest
        status, body = await _answer(reader)
        writer.close()

    assert status == 408
    assert body["error"] == "request_timeout"


async def test_a_body_fed_a_byte_at_a_time_is_cut_off(start: Start) -> None:
    async with start(**QUICK, http_read_timeout_secs=0.5, http_min_body_bytes_per_sec=100) as url:
        reader, writer = await _open(url)
        writer.write(
            b"POST /api/v1/synthesize HTTP/1.1\r\nHost: voxhub\r\ncontent-type: application/json\r\n"
            b"content-length: 1000\r\n\r\n{"
        )
        closed = asyncio.create_task(_answer(reader))
        while not closed.done():  # a byte now and then, far below the rate
            writer.write(b" ")
            await asyncio.wait([closed], timeout=0.2)
        status, body = closed.result()
        writer.close()

    assert status == 408
    assert "slowly" in body["message"]


async def test_one_address_holding_its_share_of_connections_gets_429_and_others_still_answer(
    start: Start,
) -> None:
    async with start(**QUICK, max_connections_per_client=3, http_read_timeout_secs=60) as url:
        held = [await _open(url) for _ in range(3)]
        reader, writer = await _open(url)
        status, body = await _answer(reader)
        writer.close()
        for _, idle in held:
            idle.close()
            await idle.wait_closed()
        async with httpx.AsyncClient(base_url=url) as client:
            health = await client.get("/health")

    assert status == 429
    assert body["error"] == "too_many_connections"
    assert health.status_code == 200
