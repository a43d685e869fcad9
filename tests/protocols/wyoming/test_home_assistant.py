"""A real Home Assistant 2024.3 (Wyoming 1.5) adds voxhub with its own Wyoming integration and runs Assist on it.

Needs `make home-assistant` (part of `make test`); see docs/wyoming.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.home_assistant import HomeAssistant
from tests.protocols.wyoming.conftest import Voxhub
from tests.speech import espeak_speech, padded, word_error_rate
from voxhub.audio import decode_audio
from voxhub.engines.pool import EnginePool

pytestmark = pytest.mark.slow

COMMAND = "Turn on the kitchen light."


@dataclass(frozen=True)
class Added:
    """What Home Assistant's Wyoming config flow ended with, and the entities it created from voxhub's `info`."""

    flow_result: dict[str, Any]
    entity_ids: list[str]

    def entity(self, domain: str) -> str:
        return next(entity_id for entity_id in self.entity_ids if entity_id.startswith(f"{domain}."))


@pytest.fixture(scope="module")
async def added(home_assistant: HomeAssistant, voxhub: Voxhub) -> AsyncIterator[Added]:
    """voxhub added as Home Assistant's user would (host and port), removed again after this module."""
    async with home_assistant.http() as http:
        flow = await http.post("/api/config/config_entries/flow", json={"handler": "wyoming"})
        flow.raise_for_status()
        step = await http.post(
            f"/api/config/config_entries/flow/{flow.json()['flow_id']}",
            json={"host": "127.0.0.1", "port": voxhub.wyoming_port},
        )
        step.raise_for_status()
        result = step.json()
        entry_id = result.get("result", {}).get("entry_id")
        registry = await home_assistant.ws_command("config/entity_registry/list")
        entity_ids = sorted(e["entity_id"] for e in registry if e["config_entry_id"] == entry_id)
        yield Added(result, entity_ids)
        if entry_id:
            await http.delete(f"/api/config/config_entries/entry/{entry_id}")


@dataclass(frozen=True)
class PipelineRun:
    """The events of one Assist pipeline run, by type."""

    events: list[dict[str, Any]]

    def data(self, event_type: str) -> dict[str, Any]:
        found = [event for event in self.events if event["type"] == event_type]
        assert found, f"no {event_type} event; the run gave {[event['type'] for event in self.events]}"
        data: dict[str, Any] = found[0]["data"] or {}
        return data


@pytest.fixture(scope="module")
async def spoken_command(home_assistant: HomeAssistant, added: Added) -> PipelineRun:
    """An Assist pipeline with voxhub's speech to text and text to speech and Home Assistant's own conversation
    agent, run from stt to tts on a synthesized "Turn on the kitchen light." at 16 kHz."""
    stt, tts = added.entity("stt"), added.entity("tts")
    engine = await home_assistant.ws_command("tts/engine/get", engine_id=tts)
    tts_language = next(
        lang for lang in engine["provider"]["supported_languages"] if lang.lower().startswith("en")
    )
    voices = await home_assistant.ws_command("tts/engine/voices", engine_id=tts, language=tts_language)
    pipeline = await home_assistant.ws_command(
        "assist_pipeline/pipeline/create",
        name="voxhub",
        language="en",
        conversation_engine="homeassistant",
        conversation_language="en",
        stt_engine=stt,
        stt_language="en",
        tts_engine=tts,
        tts_language=tts_language,
        tts_voice=voices["voices"][0]["voice_id"],
        wake_word_entity=None,
        wake_word_id=None,
    )
    # One Home Assistant serves the whole session: start from every light off, whatever ran before.
    await home_assistant.call_service("light", "turn_off", entity_id="all")
    audio = padded(espeak_speech(COMMAND), before_ms=500, after_ms=1500).pcm_s16le
    events: list[dict[str, Any]] = []
    async with home_assistant.websocket() as socket:
        run = await socket.subscribe(
            "assist_pipeline/run",
            pipeline=pipeline["id"],
            start_stage="stt",
            end_stage="tts",
            input={"sample_rate": 16000},
        )
        events.append(await socket.event(run))
        handler = bytes([events[0]["data"]["runner_data"]["stt_binary_handler_id"]])
        for offset in range(0, len(audio), 3200):  # 100 ms messages, as a browser microphone sends
            await socket.send_bytes(handler + audio[offset : offset + 3200])
        await socket.send_bytes(handler)  # the end of the audio
        while events[-1]["type"] not in ("run-end", "error"):
            events.append(await socket.event(run, timeout_secs=60))
    return PipelineRun(events)


async def test_home_assistants_wyoming_config_flow_adds_voxhub(added: Added) -> None:
    assert added.flow_result["type"] == "create_entry"
    assert added.flow_result["title"] == "voxhub"


async def test_voxhubs_speech_to_text_text_to_speech_and_wake_word_entities_appear(added: Added) -> None:
    domains = {entity_id.split(".")[0] for entity_id in added.entity_ids}

    assert {"stt", "tts", "wake_word"} <= domains, added.entity_ids


async def test_the_spoken_command_is_transcribed_by_voxhub(spoken_command: PipelineRun) -> None:
    assert "kitchen light" in spoken_command.data("stt-end")["stt_output"]["text"].lower()


async def test_home_assistant_acts_on_the_transcript(
    home_assistant: HomeAssistant, spoken_command: PipelineRun
) -> None:
    speech = spoken_command.data("intent-end")["intent_output"]["response"]["speech"]["plain"]["speech"]

    assert await home_assistant.wait_for_state("light.kitchen_light", "on") == "on", speech
    assert await home_assistant.wait_for_state("light.living_room_lamp", "off") == "off"


async def test_voxhub_speaks_home_assistants_answer_as_audio_home_assistant_serves(
    home_assistant: HomeAssistant, spoken_command: PipelineRun, engine_pool: EnginePool
) -> None:
    url = spoken_command.data("tts-end")["tts_output"]["url"]
    assert spoken_command.events[-1]["type"] == "run-end"

    async with httpx.AsyncClient(base_url=home_assistant.url, timeout=30.0) as http:
        audio = await http.get(url)

    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/mpeg"
    answer = spoken_command.data("intent-end")["intent_output"]["response"]["speech"]["plain"]["speech"]
    heard = await (await engine_pool.get("stt")).transcribe(decode_audio(audio.content), language="en")
    assert word_error_rate(answer, heard.text) <= 0.25, (answer, heard.text)
