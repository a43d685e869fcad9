"""Webhooks: a real HTTP receiver, down then up, hears every event once (after dedup by id), in order, signed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.api.live import free_port
from tests.api.sockets import TEXT_ONLY, Start, connect
from voxhub.api.events import frame_event
from voxhub.api.webhooks import RetrySchedule, Webhooks
from voxhub.pipeline.frames import ResponseDeltaFrame, TranscriptFrame
from voxhub.sessions.outbox import Outbox
from voxhub.sessions.store import SqliteStore
from voxhub.settings.webhooks import WebhookSetting

SECRET = "s3cret"
FAST = RetrySchedule(base_secs=0.005, max_secs=0.02)  # the schedule's shape, without its wall time


@dataclass
class Receiver:
    """A raw asyncio HTTP server that keeps each request's headers and body."""

    port: int
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def events(self) -> list[dict[str, Any]]:
        """The events received, each once (deduplicated by event id), in arrival order."""
        seen: dict[str, dict[str, Any]] = {}
        for headers, body in self.requests:
            seen.setdefault(headers["x-voxhub-event-id"], json.loads(body))
        return list(seen.values())

    async def wait_for(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(30):
            async with self.arrived:
                await self.arrived.wait_for(done)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[1:]
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        async with self.arrived:
            self.requests.append((headers, body))
            self.arrived.notify_all()

    @asynccontextmanager
    async def up(self) -> AsyncIterator[None]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        try:
            yield
        finally:
            server.close()
            await server.wait_closed()


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The check docs/deploy.md tells a receiver to make."""
    signed = headers["x-voxhub-timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["x-voxhub-signature"])


def transcript(session: str, text: str, *, final: bool = True) -> dict[str, Any]:
    body = frame_event(TranscriptFrame(text, final, turn_id=f"t-{text}"), session)
    assert body is not None
    return body


@asynccontextmanager
async def sender(path: Path, receiver: Receiver) -> AsyncIterator[Webhooks]:
    """An instance's webhooks over the SQLite store at `path` (opened for it, closed after)."""
    store = await SqliteStore.open(path)
    target = WebhookSetting(url=receiver.url, secret=SecretStr(SECRET))
    webhooks = Webhooks(Outbox(store), [target], FAST, poll_secs=0.05)
    await webhooks.start()
    try:
        yield webhooks
    finally:
        await webhooks.aclose()
        await store.close()


async def failed_at_least(webhooks: Webhooks, count: int) -> None:
    async with asyncio.timeout(30):
        async with webhooks.changed:
            await webhooks.changed.wait_for(lambda: webhooks.failures >= count)


SESSIONS = ("alpha", "beta", "gamma")
TEXTS = [f"{session} {n}" for n in range(5) for session in SESSIONS]  # interleaved, as sessions talk at once


async def test_a_receiver_down_then_up_gets_every_final_transcript_once_in_order_per_session(
    tmp_path: Path,
) -> None:
    receiver = Receiver(free_port())
    async with sender(tmp_path / "voxhub.db", receiver) as webhooks:
        for text in TEXTS:
            session = text.split()[0]
            await webhooks.emit(transcript(session, text + " partial", final=False))
            await webhooks.emit(transcript(session, text))
        await failed_at_least(webhooks, 8)  # down for a while: tries refused, backing off
        async with receiver.up():
            await receiver.wait_for(lambda: len(receiver.events()) >= len(TEXTS))

    events = receiver.events()
    assert sorted(event["data"]["text"] for event in events) == sorted(TEXTS)  # no partials, none lost
    for session in SESSIONS:
        heard = [event["data"]["text"] for event in events if event["session_id"] == session]
        assert heard == [f"{session} {n}" for n in range(5)]
    assert all(verified(SECRET, headers, body) for headers, body in receiver.requests)


async def test_a_restarted_sender_replays_the_events_it_had_not_delivered(tmp_path: Path) -> None:
    receiver = Receiver(free_port())
    async with sender(tmp_path / "voxhub.db", receiver) as first:
        for text in TEXTS:
            await first.emit(transcript(text.split()[0], text))
        await failed_at_least(first, 1)
    async with receiver.up(), sender(tmp_path / "voxhub.db", receiver):  # a new instance, same store
        await receiver.wait_for(lambda: len(receiver.events()) >= len(TEXTS))

    assert [event["data"]["text"] for event in receiver.events()] == TEXTS


async def test_two_instances_on_one_store_deliver_each_event_once_between_them(tmp_path: Path) -> None:
    receiver = Receiver(free_port())
    async with (
        receiver.up(),
        sender(tmp_path / "voxhub.db", receiver) as first,
        sender(tmp_path / "voxhub.db", receiver) as second,
    ):
        for n, text in enumerate(TEXTS):
            await (first if n % 2 else second).emit(transcript(text.split()[0], text))
        await receiver.wait_for(lambda: len(receiver.events()) >= len(TEXTS))

    assert first.attempts + second.attempts == len(TEXTS)  # one of them sent each, the other none
    assert len(receiver.requests) == len(TEXTS)
    for session in SESSIONS:
        heard = [e["data"]["text"] for e in receiver.events() if e["session_id"] == session]
        assert heard == [f"{session} {n}" for n in range(5)]


async def test_a_delivered_event_is_not_sent_again_after_a_restart(tmp_path: Path) -> None:
    receiver = Receiver(free_port())
    async with receiver.up():
        async with sender(tmp_path / "voxhub.db", receiver) as first:
            await first.emit(transcript("alpha", "once"))
            await receiver.wait_for(lambda: len(receiver.requests) == 1)
        async with sender(tmp_path / "voxhub.db", receiver) as second:
            await second.emit(transcript("alpha", "twice"))
            await receiver.wait_for(lambda: len(receiver.requests) == 2)

    assert [json.loads(body)["data"]["text"] for _, body in receiver.requests] == ["once", "twice"]


async def test_a_tampered_body_fails_the_signature_check(tmp_path: Path) -> None:
    receiver = Receiver(free_port())
    async with receiver.up(), sender(tmp_path / "voxhub.db", receiver) as webhooks:
        await webhooks.emit(transcript("alpha", "pay 10 euros"))
        await receiver.wait_for(lambda: len(receiver.requests) == 1)
    headers, body = receiver.requests[0]

    assert verified(SECRET, headers, body)
    assert not verified(SECRET, headers, body.replace(b"10", b"99"))
    assert not verified("another secret", headers, body)


async def test_a_receiver_hears_only_the_event_types_it_asked_for(tmp_path: Path) -> None:
    receiver = Receiver(free_port())
    store = await SqliteStore.open(tmp_path / "voxhub.db")
    target = WebhookSetting(url=receiver.url, events=("response",), secret=SecretStr(SECRET))
    webhooks = Webhooks(Outbox(store), [target], FAST)
    async with receiver.up():
        await webhooks.start()
        await webhooks.emit(transcript("alpha", "hello"))
        delta = frame_event(ResponseDeltaFrame("Hi", turn_id="t1"), "alpha")
        assert delta is not None
        await webhooks.emit(delta)
        await webhooks.emit({"type": "response", "session_id": "alpha", "data": {"text": "Hi there"}})
        await receiver.wait_for(lambda: len(receiver.requests) == 1)
        await webhooks.aclose()
    await store.close()

    assert [event["type"] for event in receiver.events()] == ["response"]


def test_the_retry_delay_doubles_up_to_its_cap_with_jitter_below_it() -> None:
    schedule = RetrySchedule(base_secs=1.0, max_secs=300.0)

    assert [schedule.delay(n, lambda: 1.0) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert schedule.delay(3, lambda: 0.0) == 2.0  # jitter: between half and all of the step
    assert schedule.delay(10_000, lambda: 1.0) == 300.0


@pytest.mark.slow
async def test_a_conversation_over_the_socket_sends_its_response_to_the_webhook(start: Start) -> None:
    receiver = Receiver(free_port())
    hooks = [{"url": receiver.url, "events": ["response"], "secret": SECRET}]
    async with receiver.up(), start(webhooks=hooks) as url, connect(url, TEXT_ONLY) as client:
        await client.send("text_message", text="Say hello.")
        answer = await client.until("response")
        await receiver.wait_for(lambda: len(receiver.requests) >= 1)

    [event] = receiver.events()
    assert (event["session_id"], event["data"]["text"]) == (answer["session_id"], answer["data"]["text"])


@pytest.mark.slow
async def test_a_new_app_on_the_same_store_delivers_what_the_stopped_one_could_not(start: Start) -> None:
    receiver = Receiver(free_port())  # down while the first instance runs
    hooks = [{"url": receiver.url, "events": ["response"], "secret": SECRET}]
    async with start(webhooks=hooks) as url, connect(url, TEXT_ONLY) as client:
        await client.send("text_message", text="Say hello.")
        answer = await client.until("response")

    async with receiver.up(), start(webhooks=hooks):  # the same data_dir: the same SQLite store
        await receiver.wait_for(lambda: len(receiver.requests) >= 1)

    [event] = receiver.events()
    assert (event["session_id"], event["data"]["text"]) == (answer["session_id"], answer["data"]["text"])
