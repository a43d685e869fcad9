"""A long Extended OpenAI Conversation session against the embedded model: its history outgrows the model's
context slot many times over, and no turn fails.

EOC sends its whole history with every request and trims it only past its own threshold (13000 tokens), far
above a llama.cpp slot (2048 tokens with the defaults). Here a slot holds 1024 tokens, turns are short and
answers capped at a few tokens, so the history overflows it many times while the test stays bounded on a
small CPU.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from openai import AsyncOpenAI

from tests.api.live import live_server
from tests.protocols.eoc import TOOLS, conversation
from voxhub.config import load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool

TURNS = 100
CONTEXT_TOKENS, SLOTS = 2048, 2
SLOT_TOKENS = CONTEXT_TOKENS // SLOTS


@pytest.fixture(scope="module")
async def url(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, engine_pool: EnginePool
) -> AsyncIterator[str]:
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("long"),
        models_dir=models_dir,
        llm_context_tokens=CONTEXT_TOKENS,
        llm_slots=SLOTS,
        wyoming_enabled=False,
    )
    shared = Engines(stt=await engine_pool.get("stt"), tts=await engine_pool.get("tts"))
    pool = EnginePool(settings, shared)  # the embedded model, in smaller slots
    try:
        async with live_server(settings, pool) as base:
            yield base
    finally:  # its own LLM only: speech engines belong to the session's pool
        for stage, _, engine in pool.items():
            if stage == "llm":
                await engine.aclose()


@pytest.mark.slow
@pytest.mark.timeout(900)  # a hundred requests on a shared two-core machine
async def test_a_hundred_turn_eoc_conversation_never_errors(url: str) -> None:
    sdk = AsyncOpenAI(base_url=f"{url}/v1", api_key="anything", max_retries=0)
    messages: list[Any] = conversation()
    prompt_tokens: list[int] = []
    for turn in range(TURNS):
        command = turn % 10 == 9
        fact = f"Give me one short fact about the number {turn}, please."
        text = "Turn on the kitchen light." if command else fact
        messages.append({"role": "user", "content": text})
        while True:  # as EOC does: run the tool calls, ask again with their results
            completion = await sdk.chat.completions.create(
                model="gpt-3.5-turbo-1106",
                messages=messages,
                tools=TOOLS,
                tool_choice="none" if messages[-1]["role"] == "tool" else "auto",
                max_tokens=6,
                temperature=0.5,
                user="conversation-01",
            )
            message = completion.choices[0].message
            messages.append(message.model_dump(exclude_none=True))
            if not message.tool_calls:
                break
            for call in message.tool_calls:
                messages.append({"role": "tool", "tool_call_id": call.id, "content": "[{'success': True}]"})
        assert completion.usage is not None
        if not command:
            prompt_tokens.append(completion.usage.prompt_tokens)

    # By the model's own count, a turn adds `growth` tokens: the whole history would need twice the slot.
    growth = (prompt_tokens[5] - prompt_tokens[0]) / 5
    assert prompt_tokens[0] + growth * TURNS > 2 * SLOT_TOKENS
    assert max(prompt_tokens) + 6 <= SLOT_TOKENS  # what the model read (its own count) always fit
    assert messages[-1]["content"] == "Turned on the Kitchen Light."
