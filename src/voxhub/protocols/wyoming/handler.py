"""One Wyoming connection: events in, replies out.

A bad event or a failed request gets an `error` event and the connection goes on; only a frame whose end
cannot be found, a busy server, or a client idle past `wyoming_idle_timeout_secs` (silent, or not reading
what it asked for) ends it. A shared server slot is held only while work runs (see `admission`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart
from wyoming.wake import Detect

from voxhub.api.errors import ServerBusy
from voxhub.engines.wake.base import WakeDetection
from voxhub.errors import VoxhubError
from voxhub.language import language_code
from voxhub.pipeline.frames import TranscriptFrame, WakeWordFrame
from voxhub.pipeline.responder import new_turn_id
from voxhub.protocols.native_events import publish_error, publish_frame
from voxhub.protocols.wyoming.admission import ClientLimit, TooManyConnections, WorkSlot
from voxhub.protocols.wyoming.asr import Transcription, wants_streaming
from voxhub.protocols.wyoming.audio import AudioFormat, AudioInput
from voxhub.protocols.wyoming.events import checked, parse
from voxhub.protocols.wyoming.framing import FrameError, read_frame
from voxhub.protocols.wyoming.handle import handle_transcript
from voxhub.protocols.wyoming.info import describe
from voxhub.protocols.wyoming.tts import Speech, StreamingSpeech
from voxhub.protocols.wyoming.wake import WakeListening

if TYPE_CHECKING:
    from voxhub.api.state import ServerState

logger = logging.getLogger(__name__)
SUPPORTED = (
    "describe, ping, transcribe, detect, audio-start, audio-chunk, audio-stop, synthesize, "
    "synthesize-start, synthesize-chunk, synthesize-stop, transcript"
)


class IdleTimeout(VoxhubError):
    """The client sent nothing for `wyoming_idle_timeout_secs`."""

    code = "idle_timeout"


class ClientStalled(ConnectionError):
    """The client stopped reading: a reply could not be written within the idle timeout."""


class Connection(AsyncEventHandler):
    """Serves one client. An audio stream goes to the request before it: `detect` → wake, else asr."""

    def __init__(
        self,
        state: ServerState,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        running: set[asyncio.Task[None]],
        clients: ClientLimit,
    ) -> None:
        super().__init__(reader, writer)
        self._state = state
        self._running = running  # the server's live connections, ended at shutdown before engines close
        self._clients = clients
        self._slot = WorkSlot(state.connections, state.cluster)
        self._idle_secs = state.settings.wyoming_idle_timeout_secs
        self._transcribe: Transcribe | None = None
        self._detect: Detect | None = None
        self._input: AudioInput | None = None
        self._listening: Transcription | WakeListening | None = None
        self._streaming: StreamingSpeech | None = None
        peer = writer.get_extra_info("peername")
        self._address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        # Wyoming has no session: the events of asr and wake go out under the client's address.
        self.events_id = f"wyoming-{self._address}"
        self._utterance = ""  # the turn id of the utterance being transcribed, for its events

    async def run(self) -> None:
        """Serve until the client closes, a fatal error or the server stops; then close the socket."""
        task = asyncio.current_task()
        assert task is not None  # the server runs each connection in its own task
        self._running.add(task)
        address = self._address
        try:
            try:
                self._clients.open(address)
            except TooManyConnections as exc:
                logger.warning("wyoming connection refused", extra={"error": exc.code, "reason": exc.message})
                await self._fail(exc.code, exc.message)
                return
            try:
                await self._serve()
            finally:
                self._clients.close(address)
        finally:
            await self.disconnect()
            self._slot.give_back_all()
            self._running.discard(task)

    async def _serve(self) -> None:
        try:
            while await self._next():
                pass
        except ConnectionError:
            pass  # the client went away, or stopped reading
        except Exception:
            logger.exception("wyoming connection failed")
            await self._fail("internal_error", "internal server error")

    async def _next(self) -> bool:
        """Read one event strictly (see `framing`) and answer it; False when the connection must close."""
        try:
            event = await self._read()
            return event is not None and await self.handle_event(checked(event))
        except VoxhubError as exc:
            logger.warning("wyoming request rejected", extra={"error": exc.code, "reason": exc.message})
            await self._fail(exc.code, exc.message)
            if isinstance(exc, ServerBusy | IdleTimeout) or getattr(exc, "fatal", False):
                return False
            if not isinstance(exc, FrameError):
                await self._reset()  # the request failed: whatever it had begun is dropped
            return True

    async def _read(self) -> Event | None:
        try:
            async with asyncio.timeout(self._idle_secs):
                return await read_frame(self.reader, max_payload_bytes=self._state.settings.max_audio_bytes)
        except TimeoutError:
            raise IdleTimeout(
                f"no event for {self._idle_secs:g} s (wyoming_idle_timeout_secs); closing",
                details={"idle_timeout_secs": self._idle_secs},
            ) from None

    async def write_event(self, event: Event) -> None:
        """Write one event; a client that reads none of it within the idle timeout is let go."""
        try:
            async with asyncio.timeout(self._idle_secs):
                await super().write_event(event)
        except TimeoutError:
            raise ClientStalled(f"the client read nothing for {self._idle_secs:g} s") from None

    async def _reset(self) -> None:
        """Drop the request in progress and the slot it held."""
        if isinstance(self._listening, Transcription):
            await self._listening.cancel()
        self._listening = self._input = self._streaming = None
        self._transcribe = self._detect = None
        self._slot.give_back("listening")
        self._slot.give_back("speaking")

    async def disconnect(self) -> None:
        await self._reset()
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def handle_event(self, event: Event) -> bool:
        """Answer one event whose data `checked` has validated."""
        kind = event.type
        if kind == "describe":
            parse(Describe, event)
            await self.write_event((await describe(self._state)).event())
        elif kind == "ping":
            await self.write_event(Pong(text=parse(Ping, event).text).event())
        elif kind == "transcribe":
            self._transcribe, self._detect = parse(Transcribe, event), None
        elif kind == "detect":
            self._detect, self._transcribe = parse(Detect, event), None
        elif kind == "audio-start":
            AudioFormat.of(event.data)
            await self._end_listening(answer=False)
            await self._begin_listening()
        elif kind == "audio-chunk":
            await self._audio(parse(AudioChunk, event))
        elif kind == "audio-stop":
            await self._end_listening(answer=True)
        elif kind in ("synthesize", "synthesize-start", "synthesize-chunk", "synthesize-stop"):
            await self._speak(event)
        elif kind == "transcript":
            transcript = parse(Transcript, event)
            async with self._slot.holding("turn"):
                reply = await handle_transcript(self._state, transcript, self.events_id)
            await self.write_event(reply)
        else:
            raise FrameError(
                f"unknown or unsupported event type {kind!r}; this server handles: {SUPPORTED}",
                details={"type": kind},
            )
        return True

    # asr and wake: one audio stream per request, holding a slot from its start to its answer

    async def _begin_listening(self) -> None:
        state = self._state
        await self._slot.take("listening")
        self._input = AudioInput()
        if self._detect is not None:
            engine = await state.engines.get("wake")
            self._listening = WakeListening(engine, self.write_event, self._detect.names, self._woke)
        else:
            language = self._transcribe.language if self._transcribe is not None else None
            self._listening = Transcription(
                await state.engines.get("stt"),
                self.write_event,
                language=language_code(language) if language else None,
                max_bytes=state.settings.max_audio_bytes,
                streaming=self._transcribe is not None and wants_streaming(self._transcribe.context),
                heard=self._heard,
            )
            self._utterance = new_turn_id()
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
        try:
            rest = self._input.flush()
            if isinstance(listening, Transcription):
                listening.push(rest)
            else:
                await listening.push(rest)
            await listening.finish()
        except BaseException:
            if isinstance(listening, Transcription):
                await listening.cancel()
            raise
        finally:
            self._slot.give_back("listening")

    # tts: a slot for each `synthesize`, or from `synthesize-start` to `synthesize-stop`

    async def _speak(self, event: Event) -> None:
        tts = await self._state.engines.get("tts")
        if event.type == "synthesize":
            if self._streaming is None:  # inside a stream it repeats the whole text for older servers
                request = parse(Synthesize, event)
                async with self._slot.holding("speaking"):
                    await Speech(tts, self.write_event, request.voice).say(request.text)
        elif event.type == "synthesize-start":
            voice = parse(SynthesizeStart, event).voice
            await self._slot.take("speaking")
            self._streaming = StreamingSpeech(Speech(tts, self.write_event, voice))
        elif self._streaming is None:
            raise FrameError(f"{event.type} without synthesize-start")
        elif event.type == "synthesize-chunk":
            await self._streaming.add(parse(SynthesizeChunk, event).text)
        else:
            streaming, self._streaming = self._streaming, None
            try:
                await streaming.stop(self.write_event)
            finally:
                self._slot.give_back("speaking")

    async def _fail(self, code: str, message: str) -> None:
        publish_error(self._state, self.events_id, code, message)
        with contextlib.suppress(ConnectionError):
            await self.write_event(Error(message, code).event())

    # the native events of asr and wake (docs/wyoming.md#events), as they are produced

    def _heard(self, text: str, language: str | None, final: bool) -> None:
        frame = TranscriptFrame(text, final, self._utterance, language)
        publish_frame(self._state, frame, self.events_id)

    def _woke(self, detection: WakeDetection) -> None:
        frame = WakeWordFrame(detection.wake_word, detection.confidence, detection.timestamp_ms)
        publish_frame(self._state, frame, self.events_id)
