"""Polish end to end against a real Home Assistant: a spoken Polish command (espeak-ng -v pl) is heard by
Whisper base, matched by the offline agent, carried out by Home Assistant, and confirmed in Polish speech."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.home_assistant import HomeAssistant
from tests.speech import espeak_speech, words
from voxhub.agent.homeassistant import HomeAssistantClient
from voxhub.agent.offline import OfflineAgent
from voxhub.agent.spoken import speakable
from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.stt.whisper import WhisperStt
from voxhub.engines.tts.espeak import EspeakTts

TELEVISION = "input_boolean.telewizor"
COMMAND = "Włącz telewizor."


@pytest.fixture(scope="module")
async def stt(session_settings: Settings) -> AsyncIterator[WhisperStt]:
    engine = WhisperStt.from_settings(session_settings)
    yield engine
    await engine.aclose()


def spoken_command() -> PcmAudio:
    return espeak_speech(COMMAND, voice="pl", words_per_minute=130)


@pytest.fixture
async def client(home_assistant: HomeAssistant) -> AsyncIterator[HomeAssistantClient]:
    """Home Assistant with a device named in Polish ("Telewizor"), exposed to Assist and switched off."""
    helpers = await home_assistant.ws_command("input_boolean/list")
    if not any(helper.get("name") == "Telewizor" for helper in helpers):
        await home_assistant.ws_command("input_boolean/create", name="Telewizor")
    await home_assistant.ws_command(
        "homeassistant/expose_entity",
        assistants=["conversation"],
        entity_ids=[TELEVISION],
        should_expose=True,
    )
    async with HomeAssistantClient(home_assistant.url, home_assistant.token) as client:
        await client.call_service("input_boolean", "turn_off", {"entity_id": TELEVISION})
        yield client


@pytest.mark.slow
async def test_the_spoken_polish_command_is_heard_word_for_word(stt: WhisperStt) -> None:
    transcript = await stt.transcribe(spoken_command(), language="pl")

    assert words(transcript.text) == ["włącz", "telewizor"]
    assert transcript.language == "pl"


@pytest.mark.slow
async def test_a_spoken_polish_command_switches_the_device_and_is_confirmed_in_polish(
    client: HomeAssistantClient, stt: WhisperStt, session_settings: Settings
) -> None:
    tts = EspeakTts.from_settings(session_settings)

    transcript = await stt.transcribe(spoken_command(), language="pl")
    agent = await OfflineAgent.load(client, languages=("pl", "en"))
    reply = await agent.handle(transcript.text, transcript.language or "pl")

    assert reply is not None, f"no Polish command matched {transcript.text!r}"
    assert reply.success
    assert (await client.state(TELEVISION)).state == "on"
    confirmation = speakable(reply.text, "pl")
    assert confirmation.startswith("Włączono"), confirmation  # Home Assistant's own Polish response
    audio = [chunk async for chunk in tts.synthesize(confirmation, language="pl")]
    assert sum(chunk.duration_ms for chunk in audio) > 300
    await agent.aclose()
    await tts.aclose()
