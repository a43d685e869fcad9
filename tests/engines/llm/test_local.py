"""The `local` LLM engine: the bundled SmolLM2-135M served by llama.cpp inside the process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from voxhub.agent.personas import shipped_personas
from voxhub.config import Settings, load_settings
from voxhub.engines.llm.base import ChatMessage, complete
from voxhub.engines.llm.local import LocalLlm
from voxhub.errors import ModelError

CAPITAL = [
    ChatMessage("system", "You are a helpful assistant."),
    ChatMessage("user", "What is the capital of France?"),
]


@pytest.fixture(scope="session")
async def llm(session_settings: Settings) -> AsyncIterator[LocalLlm]:
    # One thread: two spinning llama.cpp threads on a 2-core machine slow down many-fold when anything else runs.
    engine = LocalLlm.from_settings(session_settings.model_copy(update={"llm_threads": 1}))
    await engine.warm_up()
    yield engine
    await engine.aclose()


async def test_answers_a_question_in_streamed_pieces(llm: LocalLlm) -> None:
    chunks = [chunk async for chunk in llm.chat(CAPITAL, temperature=0.0)]

    texts = [chunk.text for chunk in chunks if chunk.text]
    assert len(texts) > 1
    assert "Paris" in "".join(texts)
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


async def test_tell_me_a_joke_is_a_short_answer_that_does_not_loop(llm: LocalLlm) -> None:
    # The README's first example: greedy decoding alone looped to the 256-token cap (45-57 s of speech).
    persona = shipped_personas()["assistant"].system_prompt()
    joke = [ChatMessage("system", persona), ChatMessage("user", "Tell me a joke")]

    answer = await complete(llm, joke, temperature=0.0)

    words = answer.text.lower().split()
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    assert 0 < len(words) < 80
    assert max(map(trigrams.count, trigrams)) < 3
    assert answer.finish_reason in ("stop", "repetition")


async def test_two_conversations_at_once_both_finish(llm: LocalLlm) -> None:
    colour = [ChatMessage("user", "Name a colour.")]

    first, second = await asyncio.gather(
        complete(llm, CAPITAL, temperature=0.0, max_tokens=24),
        complete(llm, colour, temperature=0.0, max_tokens=24),
    )

    assert "Paris" in first.text
    assert second.text.strip()
    assert {first.finish_reason, second.finish_reason} <= {"stop", "length"}


async def test_many_turns_in_a_row_all_get_answers(llm: LocalLlm) -> None:
    # llama.cpp's HTTP server silently drops a kept-alive connection after five requests.
    replies = [await complete(llm, [ChatMessage("user", f"Say {n}.")], max_tokens=2) for n in range(8)]

    assert all(reply.finish_reason in {"stop", "length"} for reply in replies)


async def test_loopback_server_refuses_requests_without_its_key(llm: LocalLlm) -> None:
    request = {"model": "any", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}

    async with httpx.AsyncClient(base_url=llm.base_url) as client:
        without_key = await client.post("/chat/completions", json=request)
        wrong_key = await client.post(
            "/chat/completions", json=request, headers={"Authorization": "Bearer x"}
        )
        with_key = await client.post(
            "/chat/completions", json=request, headers={"Authorization": f"Bearer {llm.api_key}"}
        )

    assert llm.base_url.startswith("http://127.0.0.1:")
    assert (without_key.status_code, wrong_key.status_code, with_key.status_code) == (401, 401, 200)


async def test_smollm2_template_has_no_tools_so_tool_calling_is_off(llm: LocalLlm) -> None:
    assert llm.capabilities.tool_calling is False
    assert llm.capabilities.model == "SmolLM2-135M-Instruct.Q4_1"


async def test_missing_bundled_model_says_how_to_install_it(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, models_dir=tmp_path / "empty")

    with pytest.raises(ModelError, match="voxhub models install smollm2"):
        LocalLlm.from_settings(settings)


async def test_a_file_that_is_not_a_model_is_a_model_error(tmp_path: Path) -> None:
    not_a_model = tmp_path / "notes.gguf"
    not_a_model.write_text("not a model")
    settings = load_settings(data_dir=tmp_path, llm_model=not_a_model)

    with pytest.raises(ModelError, match=r"could not load .*notes\.gguf"):
        LocalLlm.from_settings(settings)


async def test_closing_stops_the_loopback_server(settings: Settings) -> None:
    engine = LocalLlm.from_settings(
        settings.model_copy(update={"llm_slots": 1, "llm_context_tokens": 512, "llm_threads": 1})
    )
    await engine.aclose()

    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(engine.base_url.removesuffix("/v1") + "/health")
