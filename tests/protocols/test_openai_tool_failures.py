"""A server-side tool that fails inside `/v1/chat/completions` is logged and its reason goes back to the LLM.

voxhub's LLM is the OpenAI-compatible test double (no tool-calling model runs here), scripted to call
`call_service` with the `entity_id` beside `service_data`; Home Assistant is a real core.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from tests.api.live import live_server
from tests.doubles.openai_server import running_double
from tests.home_assistant import HomeAssistant
from voxhub.config import load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool


@pytest.fixture
async def url(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool, home_assistant: HomeAssistant
) -> AsyncIterator[str]:
    settings = load_settings(
        data_dir=tmp_path,
        models_dir=models_dir,
        llm_engine="openai",
        openai_base_url=running_double().base_url,
        homeassistant_url=home_assistant.url,
        homeassistant_token=home_assistant.token,
        wyoming_enabled=False,
    )
    shared = Engines(stt=await engine_pool.get("stt"), tts=await engine_pool.get("tts"))
    async with live_server(settings, EnginePool(settings, shared)) as base:
        yield base


async def test_a_misplaced_entity_id_is_refused_logged_and_explained_to_the_llm(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    double = running_double()
    double.state.tool_arguments = {
        "domain": "light",
        "service": "turn_on",
        "entity_id": "light.kitchen_light",
    }
    sdk = AsyncOpenAI(base_url=f"{url}/v1", api_key="anything", max_retries=0)

    with caplog.at_level(logging.WARNING, "voxhub.agent.tools.registry"):
        completion = await sdk.chat.completions.create(
            model="x", messages=[{"role": "user", "content": "Call the service for the kitchen light."}]
        )

    told = double.state.chat_requests[-1]["messages"][-1]
    assert told["role"] == "tool"
    assert "unknown argument 'entity_id'" in told["content"]
    assert "goes inside 'service_data'" in told["content"]
    assert completion.choices[0].message.content == f"The tool says: {told['content']}"
    [logged] = [r for r in caplog.records if getattr(r, "tool", None) == "call_service"]
    assert "light.kitchen_light" in logged.__dict__["arguments"]
