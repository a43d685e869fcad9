"""A conversation wired to the real engines, with a recorder in place of the client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool
from voxhub.pipeline.conversation import Conversation, ConversationEngines, ConversationOptions
from voxhub.pipeline.frames import Frame
from voxhub.pipeline.listener import ListeningOptions
from voxhub.pipeline.memory import CompletedTurn, ConversationMemory
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.reply import ReplyOptions


@pytest.fixture(scope="session")
async def engines(engine_pool: EnginePool) -> Engines:
    """The run's shared engines, as the pipeline takes them."""
    return Engines(
        vad=await engine_pool.get("vad"),
        wake=await engine_pool.get("wake"),
        stt=await engine_pool.get("stt"),
        tts=await engine_pool.get("tts"),
        llm=await engine_pool.get("llm"),
    )


@dataclass
class Recorder:
    """What a client of the conversation would have received, in order, and what was committed."""

    frames: list[Frame] = field(default_factory=list)
    commits: list[CompletedTurn] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.arrived.set()

    async def commit(self, turn: CompletedTurn) -> None:
        self.commits.append(turn)

    def of(self, kind: type[Frame]) -> list[Frame]:
        return [frame for frame in self.frames if isinstance(frame, kind)]

    def index(self, kind: type[Frame]) -> int:
        return next(i for i, frame in enumerate(self.frames) if isinstance(frame, kind))

    async def wait_for(self, condition: Callable[[], bool], timeout_secs: float = 30.0) -> None:
        async with asyncio.timeout(timeout_secs):
            while not condition():
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def talk(
    engines: Engines, session_settings: Settings
) -> AsyncIterator[Callable[..., Awaitable[tuple[Conversation, Recorder]]]]:
    """Start a conversation: `conversation, recorder = await talk(mode=ModeState(...), ...)`."""
    opened: list[Conversation] = []

    async def start(
        mode: ModeState | None = None,
        listening: ListeningOptions | None = None,
        tts: object | None = None,
        llm: object | None = None,
        replies: object | None = None,
        reply: ReplyOptions | None = None,
    ) -> tuple[Conversation, Recorder]:
        recorder = Recorder()
        assert engines.vad
        assert engines.stt
        assert engines.tts
        assert engines.llm
        conversation = Conversation(
            ConversationEngines(
                engines.vad,
                engines.stt,
                tts or engines.tts,
                llm or engines.llm,
                engines.wake,  # type: ignore[arg-type]
                replies,  # type: ignore[arg-type]
            ),
            ConversationOptions(
                reply or ReplyOptions(session_settings.system_prompt, max_tokens=120),
                listening=listening or ListeningOptions(),
            ),
            mode=mode or ModeState(),
            memory=ConversationMemory([], recorder.commit),
            send=recorder.send,
        )
        await conversation.start()
        opened.append(conversation)
        return conversation, recorder

    yield start
    for conversation in opened:
        await conversation.close()


async def speak_in_real_time(conversation: Conversation, clip: PcmAudio, frame_ms: int = 20) -> None:
    """Feed `clip` as a microphone would: one frame every `frame_ms`."""
    step = clip.sample_rate_hz * frame_ms // 1000 * 2
    loop = asyncio.get_running_loop()
    started = loop.time()
    for index, offset in enumerate(range(0, len(clip.pcm_s16le), step)):
        await conversation.push_audio(clip.pcm_s16le[offset : offset + step])
        delay = started + (index + 1) * frame_ms / 1000 - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
