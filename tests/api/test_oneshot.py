"""One-shot speech over HTTP: transcribe an uploaded file, synthesize a text."""

from __future__ import annotations

import base64

import httpx

from tests.api.error_shape import assert_error
from tests.speech import espeak_speech, padded, word_error_rate
from voxhub.audio import OUTPUT_FORMATS, decode_audio, encode_audio, peak_dbfs

SENTENCE = "turn on the kitchen lights"


def _question_wav() -> bytes:
    return encode_audio(padded(espeak_speech(SENTENCE), before_ms=300, after_ms=300), "wav")


async def test_transcribe_a_multipart_file(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/transcribe", files={"file": ("question.wav", _question_wav(), "audio/wav")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert word_error_rate(SENTENCE, body["text"]) <= 0.2
    assert body["engine"] == "whisper"
    assert body["language"] == "en"


async def test_transcribe_base64_json(client: httpx.AsyncClient) -> None:
    audio = base64.b64encode(_question_wav()).decode()
    response = await client.post("/api/v1/transcribe", json={"audio": audio, "language": "en"})
    assert response.status_code == 200, response.text
    assert word_error_rate(SENTENCE, response.json()["text"]) <= 0.2


async def test_transcribe_with_language_auto_says_which_language_it_heard(client: httpx.AsyncClient) -> None:
    polish = encode_audio(
        espeak_speech("Dzień dobry, jak się masz?", voice="pl", words_per_minute=130), "wav"
    )
    audio = base64.b64encode(polish).decode()

    response = await client.post("/api/v1/transcribe", json={"audio": audio, "language": "auto"})

    assert response.status_code == 200, response.text
    assert response.json()["language"] == "pl"


async def test_transcribe_raw_pcm_at_its_rate(client: httpx.AsyncClient) -> None:
    speech = padded(espeak_speech(SENTENCE, sample_rate_hz=8000), before_ms=300, after_ms=300)
    audio = base64.b64encode(speech.pcm_s16le).decode()
    response = await client.post(
        "/api/v1/transcribe", json={"audio": audio, "format": "pcm", "sample_rate": 8000}
    )
    assert word_error_rate(SENTENCE, response.json()["text"]) <= 0.2


async def test_corrupt_audio_is_400(client: httpx.AsyncClient) -> None:
    broken = b"RIFF\x10\x00\x00\x00WAVEjunk"
    response = await client.post("/api/v1/transcribe", files={"file": ("broken.wav", broken, "audio/wav")})
    assert_error(response, 400, "invalid_audio")


async def test_a_multipart_request_without_a_file_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/transcribe", data={"language": "en"}, files={"other": ("x", b"1")})
    body = assert_error(response, 400, "invalid_input")
    assert body["details"] == {"field": "file"}


async def test_synthesize_answers_a_wav_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/synthesize", json={"text": "Hello, how can I help?"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    audio = decode_audio(response.content)
    assert audio.duration_secs > 0.8
    assert peak_dbfs(audio) > -20
    assert int(response.headers["x-sample-rate"]) == audio.sample_rate_hz


async def test_synthesize_in_another_format_and_engine(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/synthesize", json={"text": "Hello", "format": "mp3", "engine": "espeak"}
    )
    assert response.headers["content-type"] == "audio/mpeg"
    assert decode_audio(response.content).duration_secs > 0.2


async def test_synthesize_can_answer_json_with_base64_audio(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/synthesize", json={"text": "Hello", "response": "json"})
    body = response.json()
    assert body["format"] == "wav"
    assert decode_audio(base64.b64decode(body["audio"])).sample_rate_hz == body["sample_rate_hz"]


async def test_an_unsupported_format_is_400_listing_the_supported_ones(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/synthesize", json={"text": "Hello", "format": "aiff"})
    body = assert_error(response, 400, "invalid_input")
    assert body["details"]["supported"] == list(OUTPUT_FORMATS)
    assert "wav, pcm, mp3, opus, flac" in body["message"]


async def test_empty_text_is_400(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/api/v1/synthesize", json={"text": "  "}), 400, "empty_text")


async def test_an_unknown_engine_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/synthesize", json={"text": "Hello", "engine": "festival"})
    assert_error(response, 400, "invalid_input")
