"""A conversation on scripted engines and a virtual clock: barge-in and history rules, exact to the ms.

The clock only moves when every task waits on a timer, so a test of "the interrupt overtakes 2 s of queued
audio" takes milliseconds and gives the same answer on an idle or a saturated machine.

- Speech is word-coded: each word the user says is `WORD_MS` of one constant sample value, silence is zeros.
  The fake VAD calls any non-zero frame speech; the fake STT turns each run of one value back into its word.
- The fake TTS makes `TTS_WORD_MS` of audio per word after `tts_delay_ms`; the scripted replies stream one
  word every `token_ms`.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar, cast

from voxhub.audio import PcmAudio
from voxhub.engines.llm.base import LlmEngine
from voxhub.engines.stt.base import SttCapabilities, Transcript
from voxhub.engines.tts.base import TtsCapabilities
from voxhub.engines.turn.base import TurnEngine
from voxhub.engines.vad.base import VadCapabilities
from voxhub.pipeline.conversation import Conversation, ConversationEngines, ConversationOptions
from voxhub.pipeline.frames import AudioOutFrame, Frame
from voxhub.pipeline.listener import ListeningOptions
from voxhub.pipeline.memory import CompletedTurn, ConversationMemory
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.reply import ReplyEvent, ReplyOptions, ReplyRequest, ReplyText

RATE_HZ = 16000
WORD_MS = 300  # one spoken word of the user
TTS_WORD_MS = 200  # one word of the assistant's speech
T = TypeVar("T")

# -- the virtual clock ------------------------------------------------------------------------------


class _VirtualSelector(selectors.DefaultSelector):
    """Real I/O is polled; a wait with nothing ready jumps the loop's clock instead of sleeping."""

    loop: VirtualClockLoop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # nothing scheduled: only another thread can wake us
            return super().select(None)
        self.loop.virtual_now += timeout
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self.virtual_now = 0.0

    def time(self) -> float:
        return self.virtual_now


def run_virtual(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(_cancel_the_rest())
        loop.close()


async def _cancel_the_rest() -> None:
    """A test that failed never closed its conversation: its tasks end here, not at garbage collection."""
    left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)


def now_ms() -> float:
    return asyncio.get_running_loop().time() * 1000


# -- scripted engines -------------------------------------------------------------------------------


class WordCodes:
    """Which sample value stands for which word (shared by the user's mouth and the fake STT's ear)."""

    def __init__(self) -> None:
        self.words: list[str] = []

    def code(self, word: str) -> int:
        if word not in self.words:
            self.words.append(word)
        return 100 * (self.words.index(word) + 1)

    def word(self, code: int) -> str:
        return self.words[code // 100 - 1]

    def speech(self, text: str) -> bytes:
        return b"".join(_samples(self.code(word), WORD_MS) for word in text.split())


def _samples(value: int, ms: float) -> bytes:
    return value.to_bytes(2, "little", signed=True) * int(RATE_HZ * ms / 1000)


def silence(ms: float) -> bytes:
    return _samples(0, ms)


class _FakeVadStream:
    sample_rate_hz = RATE_HZ
    frame_samples = 512
    hangover_frames = 0

    def is_speech(self, frame_s16le: bytes | bytearray | memoryview) -> bool:
        return any(bytes(frame_s16le[:2]))

    def reset(self) -> None:
        pass


class FakeVad:
    name = "fake-vad"
    capabilities = VadCapabilities("fake", (RATE_HZ,), 32.0)

    @classmethod
    def from_settings(cls, settings: object) -> Self:
        return cls()

    async def warm_up(self) -> None:
        pass

    def create_stream(self, sample_rate_hz: int = RATE_HZ, threshold: float | None = None) -> _FakeVadStream:
        return _FakeVadStream()

    async def aclose(self) -> None:
        pass


class FakeStt:
    """Hears word-coded audio; a decode takes `decode_ms` of (virtual) time."""

    name = "fake-stt"
    capabilities = SttCapabilities("fake", RATE_HZ, ("en",), False)

    def __init__(self, codes: WordCodes, decode_ms: float = 50.0) -> None:
        self.codes = codes
        self.decode_ms = decode_ms

    @classmethod
    def from_settings(cls, settings: object) -> Self:
        raise NotImplementedError

    async def warm_up(self) -> None:
        pass

    async def transcribe(
        self, audio: PcmAudio, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        await asyncio.sleep(self.decode_ms / 1000)
        samples = memoryview(audio.pcm_s16le).cast("h")
        words, run_value, run_length = [], 0, 0
        min_run = RATE_HZ * WORD_MS // 3000  # a third of a word is enough to hear it
        for value in (*samples, 0):
            if value == run_value:
                run_length += 1
                continue
            if run_value and run_length >= min_run:
                words.append(self.codes.word(run_value))
            run_value, run_length = value, 1
        return Transcript(" ".join(words), "en", audio.duration_ms)

    async def aclose(self) -> None:
        pass


class FakeTts:
    """`TTS_WORD_MS` of audio per word, ready `delay_ms` after it is asked for."""

    name = "fake-tts"
    capabilities = TtsCapabilities("fake", RATE_HZ, ("en",), ("fake",), False)

    def __init__(self, delay_ms: float = 20.0) -> None:
        self.delay_ms = delay_ms

    @classmethod
    def from_settings(cls, settings: object) -> Self:
        raise NotImplementedError

    async def warm_up(self) -> None:
        pass

    async def synthesize(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float | None = None
    ) -> AsyncIterator[PcmAudio]:
        await asyncio.sleep(self.delay_ms / 1000)
        yield PcmAudio(_samples(1000, TTS_WORD_MS * len(text.split())), RATE_HZ)

    async def aclose(self) -> None:
        pass


@dataclass
class ScriptedReplies:
    """Answers from a script (user text → answer); any other input gets `default`."""

    script: dict[str, str] = field(default_factory=dict)
    default: str = "Okay."
    token_ms: float = 10.0
    requests: list[ReplyRequest] = field(default_factory=list)

    async def reply(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]:
        self.requests.append(request)
        for index, word in enumerate(self.script.get(request.user_text, self.default).split()):
            await asyncio.sleep(self.token_ms / 1000)
            yield ReplyText(word if index == 0 else " " + word)


# -- the client -------------------------------------------------------------------------------------


@dataclass
class Client:
    """What the client received, each frame with the virtual time it arrived, and what was committed."""

    frames: list[tuple[float, Frame]] = field(default_factory=list)
    commits: list[CompletedTurn] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    commit_hook: Callable[[CompletedTurn], Awaitable[None]] | None = None

    async def send(self, frame: Frame) -> None:
        self.frames.append((now_ms(), frame))
        self.arrived.set()

    async def commit(self, turn: CompletedTurn) -> None:
        if self.commit_hook is not None:
            await self.commit_hook(turn)
        self.commits.append(turn)

    def of(self, kind: type[Frame], turn_id: str | None = None) -> list[Any]:
        return [
            frame
            for _, frame in self.frames
            if isinstance(frame, kind) and (turn_id is None or getattr(frame, "turn_id", None) == turn_id)
        ]

    def at(self, kind: type[Frame]) -> list[float]:
        return [at for at, frame in self.frames if isinstance(frame, kind)]

    def words_sent(self, turn_id: str) -> str:
        return " ".join(f.spoken_text for f in self.of(AudioOutFrame, turn_id) if f.spoken_text)

    async def wait_for(self, condition: Callable[[], bool], timeout_secs: float = 60.0) -> None:
        """Waits on virtual time: 60 s here is a few milliseconds of the machine's."""
        async with asyncio.timeout(timeout_secs):
            while not condition():
                self.arrived.clear()
                await self.arrived.wait()


@dataclass
class Scene:
    conversation: Conversation
    client: Client
    codes: WordCodes
    replies: ScriptedReplies

    async def say(self, text: str, *, then_silence_ms: float = 1000.0) -> None:
        """The user speaks `text` in real time (20 ms chunks), then is silent."""
        await self._stream(self.codes.speech(text) + silence(then_silence_ms))

    async def pause(self, ms: float) -> None:
        """The microphone streams `ms` of quiet."""
        await self._stream(silence(ms))

    async def _stream(self, audio: bytes) -> None:
        chunk = RATE_HZ * 2 * 20 // 1000
        for offset in range(0, len(audio), chunk):
            await self.conversation.push_audio(audio[offset : offset + chunk])
            await asyncio.sleep(0.02)


async def scene(
    replies: ScriptedReplies | None = None,
    *,
    mode: ModeState | None = None,
    listening: ListeningOptions | None = None,
    client: Client | None = None,
    stt_ms: float = 50.0,
    tts_ms: float = 20.0,
    turn: TurnEngine | None = None,
) -> Scene:
    codes, replies, client = WordCodes(), replies or ScriptedReplies(), client or Client()
    engines = ConversationEngines(
        vad=FakeVad(),
        stt=FakeStt(codes, stt_ms),
        tts=FakeTts(tts_ms),
        llm=cast(LlmEngine, None),  # never asked: the scripted replies answer
        replies=replies,
        turn=turn,
    )
    options = ConversationOptions(
        reply=ReplyOptions(system_prompt="Be brief."), listening=listening or ListeningOptions()
    )
    conversation = Conversation(
        engines,
        options,
        mode=mode or ModeState(),
        memory=ConversationMemory([], client.commit),
        send=client.send,
    )
    await conversation.start()
    return Scene(conversation, client, codes, replies)
