"""A Realtime client for the tests: sends events as OpenAI's reference client does, keeps what comes back."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import websockets

TEXT_ONLY = {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}
CHUNK_MS = 50  # the reference client appends audio in small pieces as the microphone fills them


class RealtimeClient:
    """Sends client events and keeps every server event it receives, in order."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self.received: list[dict[str, Any]] = []

    def types(self) -> list[str]:
        return [event["type"] for event in self.received]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.received if event["type"] == kind]

    async def send(self, event: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(event))

    async def until(self, kind: str, timeout_secs: float = 60.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout_secs):
            while True:
                event = json.loads(await self.connection.recv())
                self.received.append(event)
                if event["type"] == kind:
                    return event  # type: ignore[no-any-return]

    async def append_audio(self, pcm_24khz: bytes, *, real_time: bool = False) -> None:
        """`input_audio_buffer.append` in 50 ms pieces, as fast as possible or as a microphone would."""
        chunk = 24000 * 2 * CHUNK_MS // 1000
        for offset in range(0, len(pcm_24khz), chunk):
            piece = base64.b64encode(pcm_24khz[offset : offset + chunk]).decode()
            await self.send({"type": "input_audio_buffer.append", "audio": piece})
            if real_time:
                await asyncio.sleep(CHUNK_MS / 1000)


@asynccontextmanager
async def realtime(base_url: str, *, beta: bool = False) -> AsyncIterator[RealtimeClient]:
    headers = {"OpenAI-Beta": "realtime=v1"} if beta else {}
    async with websockets.connect(
        f"{base_url}/v1/realtime?model=voxhub", additional_headers=headers, max_queue=None
    ) as connection:
        client = RealtimeClient(connection)
        await client.until("session.created")
        yield client


def user_message(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


async def ask_in_text(client: RealtimeClient, text: str) -> dict[str, Any]:
    await client.send({"type": "conversation.item.create", "item": user_message(text)})
    await client.send({"type": "response.create"})
    return await client.until("response.done")


async def history_of(base_url: str, client: RealtimeClient) -> list[dict[str, Any]]:
    """The session's stored history, read over the REST API."""
    session_id = client.received[0]["session"]["id"]
    async with httpx.AsyncClient(base_url=base_url.replace("ws", "http", 1)) as http:
        response = await http.get(f"/api/v1/sessions/{session_id}/history")
    return response.json()["messages"]  # type: ignore[no-any-return]
