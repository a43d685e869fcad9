"""The OpenAI-compatible API under /v1, driven by the official `openai` SDK against a running voxhub."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from tests.api.error_shape import assert_error
from tests.api.live import live_server
from tests.doubles.openai_server import running_double
from tests.speech import espeak_speech, padded, word_error_rate
from voxhub.audio import PcmAudio, decode_audio, encode_audio, peak_dbfs
from voxhub.config import load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool

SENTENCE = "turn on the kitchen lights"
# Several servers run at once here; Wyoming has its own tests and would want one port for all.
NO_WYOMING: Any = {"wyoming_enabled": False}
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
async def local_url(
    tmp_path_factory: pytest.TempPathFactory,
    models_dir: Path,
    engine_pool: EnginePool,
) -> AsyncIterator[str]:
    """voxhub with its default, fully local engines (SmolLM2, Whisper, hibari)."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("local"), models_dir=models_dir, **NO_WYOMING)
    async with live_server(settings, engine_pool) as url:
        yield url


@pytest.fixture(scope="module")
async def tool_url(
    tmp_path_factory: pytest.TempPathFactory,
    models_dir: Path,
    engine_pool: EnginePool,
) -> AsyncIterator[str]:
    """voxhub whose LLM is the OpenAI-compatible test double (no cloud is reachable here), which calls
    tools; the bundled 135M model has no tool support."""
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("tools"),
        models_dir=models_dir,
        llm_engine="openai",
        openai_base_url=running_double().base_url,
        **NO_WYOMING,
    )
    shared = Engines(stt=await engine_pool.get("stt"), tts=await engine_pool.get("tts"))
    async with live_server(settings, EnginePool(settings, shared)) as url:
        yield url


def sdk(url: str) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key="anything", max_retries=0)


def async_sdk(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=f"{url}/v1", api_key="anything", max_retries=0)


# models and chat with the local model


async def test_models_lists_the_configured_llm_stt_and_tts(local_url: str, engine_pool: EnginePool) -> None:
    listed = await asyncio.to_thread(sdk(local_url).models.list)

    ids = [model.id for model in listed.data]
    assert (await engine_pool.get("llm")).capabilities.model in ids
    assert {"local", "whisper", "whisper-1", "hibari", "tts-1"} <= set(ids)
    assert {model.owned_by for model in listed.data} == {"voxhub"}


async def test_the_local_model_answers_a_question_through_the_sync_sdk(local_url: str) -> None:
    client = sdk(local_url)
    completion = await asyncio.to_thread(
        lambda: client.chat.completions.create(
            model="gpt-4o-mini",  # a client's own model name: the default LLM answers
            messages=[{"role": "user", "content": "What is the capital of France?"}],
            max_tokens=24,
            temperature=0,
            stop=["\n\n"],
        )
    )

    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    assert completion.usage is not None
    assert (
        completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert completion.usage.completion_tokens > 0


async def test_the_local_model_streams_its_answer_in_pieces_through_the_async_sdk(local_url: str) -> None:
    stream = await async_sdk(local_url).chat.completions.create(
        model="local",
        messages=[
            {"role": "system", "content": "You are brief."},
            {"role": "user", "content": [{"type": "text", "text": "Name three colours."}]},
        ],
        # Room to stream: in a budget's last 48 tokens text waits for its sentence's end (clean_cut.py).
        max_tokens=96,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]

    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1
    assert "".join(pieces).strip()
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0


async def test_with_auth_on_the_api_key_is_voxhubs_token(
    tmp_path: Path,
    models_dir: Path,
    engine_pool: EnginePool,
) -> None:
    settings = load_settings(
        data_dir=tmp_path, models_dir=models_dir, auth_token="s3cret-token", **NO_WYOMING
    )
    async with live_server(settings, engine_pool) as url:
        listed = await AsyncOpenAI(base_url=f"{url}/v1", api_key="s3cret-token").models.list()
        with pytest.raises(openai.AuthenticationError):
            await async_sdk(url).models.list()

    assert listed.data


async def test_a_request_without_messages_is_a_validation_error(local_url: str) -> None:
    async with httpx.AsyncClient(base_url=local_url) as http:
        response = await http.post("/v1/chat/completions", json={"model": "local"})

    assert_error(response, 422, "validation_error")


# tools, with the test double as voxhub's LLM


async def test_a_whole_tool_round_trip(tool_url: str) -> None:
    double = running_double()
    client = sdk(tool_url)
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?", "name": "ada"}]

    first = await asyncio.to_thread(
        client.chat.completions.create, model="x", messages=messages, tools=[WEATHER_TOOL]
    )
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),  # echoed back as it came
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 24 degrees."},
    ]
    final = await asyncio.to_thread(
        client.chat.completions.create, model="x", messages=messages, tools=[WEATHER_TOOL]
    )

    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == "The tool says: Sunny, 24 degrees."
    assert double.state.chat_requests[-1]["messages"][1]["tool_calls"][0]["id"] == call.id


async def test_tool_choice_none_answers_in_text_and_sends_no_tools_to_the_llm(tool_url: str) -> None:
    double = running_double()
    completion = await async_sdk(tool_url).chat.completions.create(
        model="x",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
        tool_choice="none",
    )

    assert completion.choices[0].message.content == double.state.reply
    assert not completion.choices[0].message.tool_calls
    assert "tools" not in double.state.chat_requests[-1]


async def test_a_streamed_tool_call_arrives_whole_with_its_finish_reason(tool_url: str) -> None:
    running_double()
    stream = await async_sdk(tool_url).chat.completions.create(
        model="x",
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        stream=True,
    )
    chunks = [chunk async for chunk in stream]

    calls = [call for c in chunks for call in c.choices[0].delta.tool_calls or ()]
    assert [(c.function.name, c.function.arguments) for c in calls] == [("get_weather", '{"city": "Paris"}')]  # type: ignore[union-attr]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_legacy_functions_come_back_as_a_function_call(tool_url: str) -> None:
    running_double()
    completion = await async_sdk(tool_url).chat.completions.create(
        model="x",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        functions=[WEATHER_TOOL["function"]],
        function_call="auto",
    )

    assert completion.choices[0].finish_reason == "function_call"
    assert completion.choices[0].message.function_call is not None
    assert completion.choices[0].message.function_call.name == "get_weather"


async def test_user_records_the_conversation_in_that_session(tool_url: str) -> None:
    double = running_double()
    await async_sdk(tool_url).chat.completions.create(
        model="x", messages=[{"role": "user", "content": "Hello there."}], user="kitchen-display"
    )
    async with httpx.AsyncClient(base_url=tool_url) as http:
        history = (await http.get("/api/v1/sessions/kitchen-display/history")).json()

    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("user", "Hello there."),
        ("assistant", double.state.reply),
    ]


# stop sequences, with the test double's fixed answer ("The capital of France is Paris.")


async def test_the_answer_ends_before_the_first_stop_sequence(tool_url: str) -> None:
    running_double()
    completion = await async_sdk(tool_url).chat.completions.create(
        model="x", messages=[{"role": "user", "content": "Capital?"}], stop=["Paris", "capital"]
    )

    assert completion.choices[0].message.content == "The "
    assert completion.choices[0].finish_reason == "stop"


async def test_a_stop_sequence_split_across_streamed_pieces_still_stops_the_stream(tool_url: str) -> None:
    running_double()
    stream = await async_sdk(tool_url).chat.completions.create(
        model="x",
        messages=[{"role": "user", "content": "Capital?"}],
        stop="ance is",  # the double streams word by word: " France" and " is" are separate pieces
        stream=True,
    )
    chunks = [chunk async for chunk in stream]

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "The capital of Fr"
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_more_than_four_stop_sequences_are_refused(tool_url: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await async_sdk(tool_url).chat.completions.create(
            model="x", messages=[{"role": "user", "content": "Hi"}], stop=["a", "b", "c", "d", "e"]
        )

    assert refused.value.response.json()["details"]["param"] == "stop"


# audio


@pytest.fixture(scope="module")
def spoken_wav() -> bytes:
    return encode_audio(padded(espeak_speech(SENTENCE), before_ms=300, after_ms=300), "wav")


@pytest.mark.parametrize("response_format", ["json", "text", "verbose_json", "srt", "vtt"])
async def test_a_transcription_in_each_response_format(
    local_url: str, spoken_wav: bytes, response_format: Any
) -> None:
    result: Any = await async_sdk(local_url).audio.transcriptions.create(
        model="whisper-1", file=("question.wav", spoken_wav), language="en", response_format=response_format
    )

    text = result if isinstance(result, str) else result.text
    if response_format == "verbose_json":
        assert result.language == "en"
        assert 1.5 < result.duration < 5
        assert result.segments
        assert result.segments[0].end > result.segments[0].start
    if response_format == "srt":
        assert text.startswith("1\n00:00:0")
        assert " --> " in text
        text = text.splitlines()[2]
    if response_format == "vtt":
        assert text.startswith("WEBVTT\n\n00:00:0")
        text = text.splitlines()[3]
    assert word_error_rate(SENTENCE, text) <= 0.2


@pytest.mark.parametrize(("response_format", "rate_hz"), [("wav", None), ("mp3", None), ("pcm", 24000)])
async def test_speech_decodes_back_to_the_words(
    local_url: str,
    engine_pool: EnginePool,
    response_format: Any,
    rate_hz: int | None,
) -> None:
    response = await async_sdk(local_url).audio.speech.create(
        model="tts-1", voice="alloy", input="Turn on the kitchen lights.", response_format=response_format
    )

    data = response.content
    audio = PcmAudio(data, rate_hz) if rate_hz else decode_audio(data)
    assert peak_dbfs(audio) > -20
    heard = await (await engine_pool.get("stt")).transcribe(audio, language="en")
    assert word_error_rate(SENTENCE, heard.text) <= 0.2


async def test_speech_streams_each_sentence_as_it_is_synthesized(local_url: str) -> None:
    request = {
        "model": "tts-1",
        "input": "The first sentence. And now the second one.",
        "response_format": "pcm",
    }
    async with (
        httpx.AsyncClient(base_url=local_url) as http,
        http.stream("POST", "/v1/audio/speech", json=request) as response,
    ):
        pieces = [piece async for piece in response.aiter_raw() if piece]

    assert response.status_code == 200
    assert len(pieces) > 1


@pytest.mark.parametrize(
    ("path", "request_args", "supported"),
    [
        (
            "/v1/audio/speech",
            {"json": {"input": "Hello.", "response_format": "aac"}},
            ["wav", "pcm", "mp3", "opus", "flac"],
        ),
        (
            "/v1/audio/transcriptions",
            {"files": {"file": ("a.wav", b"RIFF")}, "data": {"response_format": "xml"}},
            ["json", "text", "verbose_json", "srt", "vtt"],
        ),
    ],
)
async def test_an_unsupported_response_format_is_refused_with_the_supported_list(
    local_url: str, path: str, request_args: dict[str, Any], supported: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=local_url) as http:
        response = await http.post(path, **request_args)

    body = assert_error(response, 400, "invalid_input")
    assert body["details"]["supported"] == supported
    assert ", ".join(supported) in body["message"]


async def test_speech_of_empty_input_is_refused(local_url: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await async_sdk(local_url).audio.speech.create(model="tts-1", voice="alloy", input="   ")

    assert refused.value.response.json()["error"] == "empty_text"


# the server's own tools run server-side; the client sees only the answer


async def test_a_server_tool_runs_inside_the_completion(tool_url: str) -> None:
    double = running_double()
    completion = await async_sdk(tool_url).chat.completions.create(
        model="x", messages=[{"role": "user", "content": "What time is it in the calculator's world?"}]
    )

    assert completion.choices[0].finish_reason == "stop"
    assert not completion.choices[0].message.tool_calls
    assert (completion.choices[0].message.content or "").startswith("The tool says:")
    assert double.state.chat_requests[-1]["messages"][-1]["role"] == "tool"


async def test_a_client_tool_wins_over_the_servers_namesake(tool_url: str) -> None:
    running_double()
    own_time = {"type": "function", "function": {"name": "get_time", "description": "The client's clock."}}
    completion = await async_sdk(tool_url).chat.completions.create(
        model="x", messages=[{"role": "user", "content": "What time is it?"}], tools=[own_time]
    )

    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.choices[0].message.tool_calls[0].function.name == "get_time"  # type: ignore[index,union-attr]
