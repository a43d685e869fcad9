"""One Wyoming connection: events in, replies out; a bad frame or failed request gets `error` and a close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, TypeVar

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk
from wyoming.error import Error
from wyoming.event import Event, Eventable
from wyoming.info import Describe
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart
from wyoming.wake import Detect

from voxhub.errors import VoxhubError
from voxhub.language import language_code
from voxhub.protocols.wyoming.asr import Transcription
from voxhub.protocols.wyoming.audio import AudioFormat, AudioInput
from voxhub.protocols.wyoming.framing import FrameError, read_frame
from voxhub.protocols.wyoming.handle import handle_transcript
from voxhub.protocols.wyoming.info import describe
from voxhub.protocols.wyoming.tts import Speech, StreamingSpeech
from voxhub.protocols.wyoming.wake import WakeListening

if TYPE_CHECKING:
    from voxhub.api.state import ServerState

logger = logging.getLogger(__name__)
E = TypeVar("E", bound=Eventable)
CONNECTION_KIND = "wyoming"
SUPPORTED = (
    "describe, ping, transcribe, detect, audio-start, audio-chunk, audio-stop, synthesize, "
    "synthesize-start, synthesize-chunk, synthesize-stop, transcript"
)


class Connection(AsyncEventHandler):
    """Serves one client. An audio stream goes to the request before it: `detect` → wake, else asr."""

    def __init__(
        self,
        state: ServerState,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        running: set[asyncio.Task[None]],
    ) -> None:
        super().__init__(reader, writer)
        self._state = state
        self._running = running  # the server's live connections, ended at shutdown before engines close
        self._transcribe: Transcribe | None = None
        self._detect: Detect | None = None
        self._input: AudioInput | None = None
        self._listening: Transcription | WakeListening | None = None
        self._streaming: StreamingSpeech | None = None

    async def run(self) -> None:
        """Serve until the client closes, a request fails or the server stops; then close the socket."""
        task = asyncio.current_task()
        assert task is not None  # the server runs each connection in its own task
        self._running.add(task)
        tracker = self._state.connections
        try:
            if tracker.try_acquire(CONNECTION_KIND):
                try:
                    await self._serve()
                finally:
                    tracker.release(CONNECTION_KIND)
            else:
                busy = f"server at capacity ({tracker.max_connections} connections)"
                await self._fail(Error(busy, "server_busy"))
        finally:
            await self.disconnect()
            self._running.discard(task)

    async def _serve(self) -> None:
        """Read strictly (see `framing`): a malformed frame is answered with `error`, never taken for EOF."""
        try:
            while True:
                event = await read_frame(self.reader, max_payload_bytes=self._state.settings.max_audio_bytes)
                if event is None or not await self.handle_event(event):
                    break
        except VoxhubError as exc:
            logger.warning("wyoming request rejected", extra={"error": exc.code, "reason": exc.message})
            await self._fail(Error(exc.message, exc.code))
        except ConnectionError:
            pass  # the client went away
        except Exception:
            logger.exception("wyoming connection failed")
            await self._fail(Error("internal server error", "internal_error"))

    async def disconnect(self) -> None:
        if isinstance(self._listening, Transcription):
            await self._listening.cancel()
        self._listening = None
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def handle_event(self, event: Event) -> bool:
        kind = event.type
        if kind == "describe":
            _parse(Describe, event)
            await self.write_event((await describe(self._state)).event())
        elif kind == "ping":
            await self.write_event(Pong(text=_parse(Ping, event).text).event())
        elif kind == "transcribe":
            self._transcribe, self._detect = _parse(Transcribe, event), None
        elif kind == "detect":
            self._detect, self._transcribe = _parse(Detect, event), None
        elif kind == "audio-start":
            AudioFormat.of(event.data)
            await self._end_listening(answer=False)
            await self._begin_listening()
        elif kind == "audio-chunk":
            await self._audio(_parse(AudioChunk, event))
        elif kind == "audio-stop":
            await self._end_listening(answer=True)
        elif kind in ("synthesize", "synthesize-start", "synthesize-chunk", "synthesize-stop"):
            await self._speak(event)
        elif kind == "transcript":
            await self.write_event(await handle_transcript(self._state, _parse(Transcript, event)))
        else:
            raise FrameError(
                f"unknown or unsupported event type {kind!r}; this server handles: {SUPPORTED}",
                details={"type": kind},
            )
        return True

    # asr and wake: one audio stream per request

    async def _begin_listening(self) -> None:
        state = self._state
        self._input = AudioInput()
        if self._detect is not None:
            engine = await state.engines.get("wake")
            self._listening = WakeListening(engine, self.write_event, self._detect.names)
        else:
            language = self._transcribe.language if self._transcribe is not None else None
            self._listening = Transcription(
                await state.engines.get("stt"),
                self.write_event,
                language=language_code(language) if language else None,
                max_bytes=state.settings.max_audio_bytes,
            )
        self._detect = self._transcribe = None

    async def _audio(self, chunk: AudioChunk) -> None:
        if self._listening is None:  # some clients skip `audio-start`: the chunk carries the format anyway
            await self._begin_listening()
        assert self._input is not None
        assert self._listening is not None
        audio = self._input.convert(chunk)
        if isinstance(self._listening, Transcription):
            self._listening.push(audio)
        else:
            await self._listening.push(audio)

    async def _end_listening(self, *, answer: bool) -> None:
        """Finish the stream in progress; with `answer`, an `audio-stop` alone still gets its reply."""
        if self._listening is None:
            if not answer:
                return
            await self._begin_listening()
        assert self._input is not None
        assert self._listening is not None
        listening, self._listening = self._listening, None
        rest = self._input.flush()
        if isinstance(listening, Transcription):
            listening.push(rest)
        else:
            await listening.push(rest)
        await listening.finish()

    # tts

    async def _speak(self, event: Event) -> None:
        tts = await self._state.engines.get("tts")
        if event.type == "synthesize":
            if self._streaming is None:  # inside a stream it repeats the whole text for older servers
                request = _parse(Synthesize, event)
                await Speech(tts, self.write_event, request.voice).say(request.text)
        elif event.type == "synthesize-start":
            self._streaming = StreamingSpeech(
                Speech(tts, self.write_event, _parse(SynthesizeStart, event).voice)
            )
        elif self._streaming is None:
            raise FrameError(f"{event.type} without synthesize-start")
        elif event.type == "synthesize-chunk":
            await self._streaming.add(_parse(SynthesizeChunk, event).text)
        else:
            streaming, self._streaming = self._streaming, None
            await streaming.stop(self.write_event)

    async def _fail(self, error: Error) -> None:
        with contextlib.suppress(ConnectionError):
            await self.write_event(error.event())


def _parse(kind: type[E], event: Event) -> E:
    """The typed event, or FrameError when its data lacks a field or has the wrong shape."""
    try:
        parsed = kind.from_event(event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FrameError(f"malformed {event.type} event: {exc!r}", details={"type": event.type}) from None
    assert isinstance(parsed, kind)
    return parsed
