"""Each persona's answer budgets: short for an answer that is spoken, longer for text only.

The LLM is the OpenAI-compatible test double, which says its answer a word a token and stops at the
request's `max_tokens` with `finish_reason: length`, as llama.cpp does; the conversation runs on a live
server over the native WebSocket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import websockets

from tests.api.live import Client, live_server
from tests.doubles.openai_server import OpenAiDouble, running_double
from voxhub.agent.personas import DEFAULT_SPOKEN_TOKENS, shipped_personas
from voxhub.config import Settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool
from voxhub.pipeline.reply import ReplyOptions, ReplyRequest

STORY = "The dragon slept in a cave. One day a knight came by and woke it up with a song."
NARRATOR = """\
name: narrator
description: Tells stories.
max_spoken_tokens: 12
max_text_tokens: 40
"""


@pytest.fixture
def double() -> OpenAiDouble:
    served = running_double().reset()
    served.state.reply = STORY
    return served


@asynccontextmanager
async def conversation(
    settings: Settings, engine_pool: EnginePool, double: OpenAiDouble, tmp_path: Path, query: str
) -> AsyncIterator[Client]:
    """A native-socket conversation with the `narrator` persona, on a live server whose LLM is the double."""
    personas = tmp_path / "data" / "personas"
    personas.mkdir(parents=True)
    (personas / "narrator.yaml").write_text(NARRATOR, encoding="utf-8")
    settings = settings.model_copy(
        update={"llm_engine": "openai", "openai_base_url": double.base_url, "data_dir": tmp_path / "data"}
    )
    shared = Engines(**{stage: await engine_pool.get(stage) for stage in ("vad", "stt", "tts", "wake")})
    async with live_server(settings, EnginePool(settings, shared)) as url:
        address = url.replace("http", "ws", 1) + f"/ws?persona=narrator&voice_input=false&{query}"
        async with websockets.connect(address) as connection:
            client = Client(connection)
            await client.until("session_started")
            yield client


async def test_a_spoken_answer_is_cut_at_the_personas_spoken_budget_and_ends_with_a_whole_sentence(
    session_settings: Settings, engine_pool: EnginePool, double: OpenAiDouble, tmp_path: Path
) -> None:
    async with conversation(session_settings, engine_pool, double, tmp_path, "voice_output=true") as client:
        await client.send("text_message", text="Tell me a story.")
        cut = await client.until("answer_cut")
        answer = await client.until("response")

    assert double.state.chat_requests[-1]["max_tokens"] == 12
    assert cut["data"] == {"finish_reason": "length", "dropped": " One day a knight came by"}
    assert answer["data"]["text"] == "The dragon slept in a cave."  # what was spoken, and what history keeps


async def test_a_text_only_answer_gets_the_personas_text_budget(
    session_settings: Settings, engine_pool: EnginePool, double: OpenAiDouble, tmp_path: Path
) -> None:
    async with conversation(session_settings, engine_pool, double, tmp_path, "voice_output=false") as client:
        await client.send("text_message", text="Tell me a story.")
        answer = await client.until("response")

    assert double.state.chat_requests[-1]["max_tokens"] == 40
    assert answer["data"]["text"] == STORY  # 18 words: within 40


def test_a_spoken_budget_never_exceeds_the_text_budget() -> None:
    options = ReplyOptions("", max_tokens=50, max_spoken_tokens=96)

    assert ReplyRequest("t", (), options, spoken=True).max_tokens == 50
    assert ReplyRequest("t", (), options, spoken=False).max_tokens == 50


def test_the_shipped_personas_speak_briefly_and_the_storyteller_longer() -> None:
    personas = shipped_personas()

    assert personas["assistant"].max_spoken_tokens == DEFAULT_SPOKEN_TOKENS <= 100
    assert personas["storyteller"].max_spoken_tokens > DEFAULT_SPOKEN_TOKENS
    assert personas["assistant"].max_text_tokens is None  # the llm_max_tokens setting
