"""The `wyoming` wake engine: another box's Wyoming `wake` server (voxhub, wyoming-openwakeword, ...).

A stream keeps one connection open while it listens: `detect`, `audio-start`, then every frame as an
`audio-chunk`, sent by a background task so `process` (called per frame) never waits on the network. A
`detection` is returned by the next `process` call. A server that is down is an EngineError from `process`
once (the session reports it), then the stream stays quiet and tries again after RETRY_SECS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Self

from wyoming.audio import AudioChunk, AudioStart
from wyoming.event import Event
from wyoming.wake import Detect, Detection

from voxhub.engines.wake.base import WakeCapabilities, WakeDetection
from voxhub.engines.wyoming_remote import RemoteClient, remote_address
from voxhub.errors import EngineError

if TYPE_CHECKING:
    from voxhub.config import Settings

logger = logging.getLogger(__name__)
RETRY_SECS = 5.0
_RATE_HZ = 16000
_QUEUE_FRAMES = 500  # ~10 s of 20 ms frames: beyond, the oldest audio is dropped (the server is too slow)


class WyomingWake:
    name = "wyoming"

    def __init__(self, client: RemoteClient, *, wake_words: Sequence[str] = ()) -> None:
        self._client = client
        self._words = tuple(wake_words)
        self.capabilities = WakeCapabilities(
            model=f"wyoming {client.address.uri}", sample_rate_hz=_RATE_HZ, wake_words=self._words
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        address = remote_address(settings, "wake", "wake")
        return cls(
            RemoteClient(address, settings.wyoming_client_timeout_secs), wake_words=settings.wake_words
        )

    async def warm_up(self) -> None:
        """Ask the server for its words; one that is down now is an error at its first use, not here."""
        try:
            info = await self._client.describe()
        except Exception:
            return
        words = tuple(model.name for program in info.wake for model in program.models)
        if words:
            self.capabilities = WakeCapabilities(
                model=f"{info.wake[0].name} ({self._client.address.uri})",
                sample_rate_hz=_RATE_HZ,
                wake_words=words,
            )

    def create_stream(self, wake_words: Sequence[str] | None = None) -> RemoteWakeStream:
        return RemoteWakeStream(self._client, tuple(wake_words or self._words))

    async def aclose(self) -> None:
        """Streams close their own connections."""


class RemoteWakeStream:
    def __init__(self, client: RemoteClient, words: tuple[str, ...]) -> None:
        self._client = client
        self._words = words
        self._audio: asyncio.Queue[bytes] = asyncio.Queue(_QUEUE_FRAMES)
        self._found: deque[WakeDetection] = deque()
        self._task: asyncio.Task[None] | None = None
        self._error: EngineError | None = None
        self._quiet_until = 0.0
        self._sent_ms = 0.0

    def process(self, pcm_s16le: bytes) -> WakeDetection | None:
        if self._error is not None:
            error, self._error = self._error, None
            self._quiet_until = time.monotonic() + RETRY_SECS
            raise error
        if self._task is None or self._task.done():
            if time.monotonic() < self._quiet_until:
                return self._found.popleft() if self._found else None
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="voxhub-wyoming-wake")
        if self._audio.full():
            self._audio.get_nowait()
        self._audio.put_nowait(pcm_s16le)
        return self._found.popleft() if self._found else None

    def reset(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        while not self._audio.empty():
            self._audio.get_nowait()
        self._found.clear()
        self._error = None

    async def _listen(self) -> None:
        detected = False
        try:
            async with self._client.connected() as connection:
                names = list(self._words) or None
                await connection.write(Detect(names=names).event())
                await connection.write(AudioStart(rate=_RATE_HZ, width=2, channels=1).event())
                sender = asyncio.ensure_future(self._send(connection.write))
                try:
                    while True:
                        event = await connection.read(sender)
                        if Detection.is_type(event.type):
                            found = Detection.from_event(event)
                            at = float(found.timestamp) if found.timestamp is not None else self._sent_ms
                            self._found.append(WakeDetection(found.name or "", 1.0, at))
                            detected = True
                finally:
                    sender.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await sender
        except EngineError as exc:
            if not detected:  # a server that ends the stream after a detection is simply listened to again
                logger.warning("%s", exc.message, extra={"error": exc.code})
                self._error = exc

    async def _send(self, write: Callable[[Event], Awaitable[None]]) -> None:
        while True:
            pcm = await self._audio.get()
            self._sent_ms += 1000.0 * len(pcm) / 2 / _RATE_HZ
            await write(AudioChunk(rate=_RATE_HZ, width=2, channels=1, audio=pcm).event())
