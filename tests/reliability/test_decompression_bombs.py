"""Decompression bombs: a small upload that decodes to an hour of audio is refused with 413 naming the limit
(`max_audio_secs`), from its header or by a decoder that stops at the limit, on every route taking audio."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.api.conftest import ServeFactory
from tests.api.error_shape import assert_error
from tests.audio import ffmpeg
from tests.speech import espeak_speech, padded, word_error_rate
from voxhub.audio import encode_audio

HOUR_SECS = 3600
SENTENCE = "turn on the kitchen lights"
DECLARED = {
    "flac": ffmpeg.FLAC,
    "ogg-opus": ffmpeg.OGG_OPUS,
    "mp3": ffmpeg.MP3,
    "adpcm-wav": ffmpeg.IMA_ADPCM_WAV,
}


async def transcribe(client: httpx.AsyncClient, data: bytes) -> httpx.Response:
    return await client.post(
        "/v1/audio/transcriptions", files={"file": ("upload", data)}, data={"model": "whisper-1"}
    )


@pytest.mark.parametrize("kind", DECLARED)
async def test_an_hour_in_a_small_file_is_refused_from_its_header(serve: ServeFactory, kind: str) -> None:
    bomb = ffmpeg.silence(HOUR_SECS, DECLARED[kind])

    async with serve() as server:
        assert len(bomb) < server.settings.max_audio_bytes  # an upload that passes the size limit
        response = await transcribe(server.client, bomb)

    body = assert_error(response, 413, "audio_too_long")
    assert "limit of 600 s (max_audio_secs)" in body["message"]
    assert body["details"]["limit_secs"] == 600
    assert body["details"]["declared_secs"] == pytest.approx(HOUR_SECS, abs=1)
    assert body["details"]["decoded_samples"] == 0  # nothing was decoded


@pytest.mark.parametrize(("kind", "codec"), [("flac", ffmpeg.FLAC), ("mp3", ffmpeg.MP3)], ids=["flac", "mp3"])
async def test_an_hour_that_hides_its_length_is_decoded_only_up_to_the_limit(
    serve: ServeFactory, kind: str, codec: tuple[str, ...]
) -> None:
    bomb = ffmpeg.silence(HOUR_SECS, codec, streamed=True)  # written through a pipe: no length in the header

    async with serve(max_audio_secs=60) as server:
        response = await transcribe(server.client, bomb)

    body = assert_error(response, 413, "audio_too_long")
    assert "limit of 60 s (max_audio_secs): decoding stopped after 60" in body["message"]
    assert 60 <= body["details"]["decoded_secs"] <= 61  # of the 3600 the file holds
    assert body["details"]["decoded_samples"] <= 61 * 8000


Upload = Callable[[httpx.AsyncClient, bytes], Awaitable[httpx.Response]]


async def _session_audio(client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
    session = (await client.post("/api/v1/sessions", json={"mode": {"voice_output": False}})).json()["id"]
    return await client.post(f"/api/v1/sessions/{session}/audio", **payload)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ROUTES: dict[str, Upload] = {
    "/v1/audio/transcriptions": transcribe,
    "/api/v1/transcribe multipart": lambda c, d: c.post("/api/v1/transcribe", files={"file": ("a", d)}),
    "/api/v1/transcribe json": lambda c, d: c.post("/api/v1/transcribe", json={"audio": _b64(d)}),
    "/api/v1/sessions/{id}/audio multipart": lambda c, d: _session_audio(c, {"files": {"file": ("a", d)}}),
    "/api/v1/sessions/{id}/audio json": lambda c, d: _session_audio(c, {"json": {"audio": _b64(d)}}),
    "/speech-to-text": lambda c, d: c.post("/speech-to-text", json={"audio_data": _b64(d)}),
    "/stream-speech-to-text": lambda c, d: c.post("/stream-speech-to-text", content=d),
    "/api/v1/transcription/transcribe": lambda c, d: c.post(
        "/api/v1/transcription/transcribe", json={"audio_data": _b64(d)}
    ),
    "/interact": lambda c, d: c.post("/interact", json={"audio_data": _b64(d)}),
    "/speech/process": lambda c, d: c.post("/speech/process", json={"audio_data": _b64(d)}),
}


@pytest.mark.parametrize("route", ROUTES)
async def test_every_route_taking_audio_refuses_the_bomb_and_still_transcribes(
    serve: ServeFactory, route: str
) -> None:
    upload = ROUTES[route]
    speech = padded(espeak_speech(SENTENCE), before_ms=300, after_ms=300)

    async with serve() as server:
        refused = await upload(server.client, ffmpeg.silence(HOUR_SECS, ffmpeg.FLAC))
        answered = await upload(server.client, encode_audio(speech, "flac"))

    assert_error(refused, 413, "audio_too_long")
    assert refused.json()["details"]["limit_secs"] == 600
    assert answered.status_code == 200, answered.text


@pytest.mark.parametrize("output_format", ["flac", "opus", "mp3"])
async def test_a_short_clip_still_transcribes(serve: ServeFactory, output_format: str) -> None:
    speech = padded(espeak_speech(SENTENCE), before_ms=300, after_ms=300)

    async with serve() as server:
        response = await transcribe(server.client, encode_audio(speech, output_format))

    assert response.status_code == 200, response.text
    assert word_error_rate(SENTENCE, response.json()["text"]) <= 0.2


@pytest.mark.parametrize("route", ROUTES)
async def test_every_route_taking_audio_refuses_a_file_over_the_size_limit_with_413(
    serve: ServeFactory, route: str
) -> None:
    async with serve(max_audio_bytes=64 * 1024) as server:
        response = await ROUTES[route](server.client, bytes(64 * 1024 + 100))

    body = assert_error(response, 413, "payload_too_large")
    assert body["details"]["limit_bytes"] == 64 * 1024
