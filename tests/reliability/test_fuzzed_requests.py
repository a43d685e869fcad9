"""What schemathesis found, one story each: a request the schema allows gets an answer, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tests.api.conftest import ServeFactory
from tests.api.error_shape import assert_error
from voxhub.engines.tts.base import require_text
from voxhub.engines.tts.hibari import _next_sentence
from voxhub.errors import EngineError


async def test_a_persona_longer_than_the_model_reads_is_refused_with_413_and_the_limit(
    serve: ServeFactory,
) -> None:
    persona = "Ava likes trains and long walks by the sea. " * 440  # under the field's 20,000 characters

    async with serve() as server:
        refused = await server.client.post(
            "/api/v1/personas/respond", json={"user_query": "Hi!", "persona_context": persona}
        )
        answered = await server.client.post(
            "/api/v1/personas/respond", json={"user_query": "Hi!", "persona_context": persona[:200]}
        )

    body = assert_error(refused, 413, "context_overflow")
    assert "longer than the language model can read" in body["message"]
    assert body["details"]["limit_tokens"] < body["details"]["prompt_tokens"]
    assert "127.0.0.1" not in body["message"]  # the engine's address stays in the log
    assert answered.status_code == 200, answered.text


def test_a_run_of_more_digits_than_any_number_is_read_digit_by_digit() -> None:
    assert require_text("call 4155550123 now") == "call 4155550123 now"  # a number a voice can say
    assert require_text("id 12345678901234567") == "id 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7"
    assert require_text("0" * 1999).count("0") == 1999  # hibari's G2P raised on a long run: a 500


async def test_a_text_longer_than_a_quarter_hour_of_speech_is_refused_with_413(serve: ServeFactory) -> None:
    async with serve() as server:
        digits = await server.client.post("/api/v1/synthesize", json={"text": "0" * 9999})
        words = await server.client.post(
            "/v1/audio/speech", json={"model": "tts-1", "input": "la " * 2001, "voice": "alloy"}
        )

    for response in (digits, words):
        body = assert_error(response, 413, "payload_too_large")
        assert body["details"]["limit_words"] == 2000


def test_a_text_hibari_cannot_read_is_an_engine_error_not_a_crash() -> None:
    def sentences() -> Iterator[np.ndarray]:
        raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")
        yield np.zeros(1, dtype=np.float32)

    with pytest.raises(EngineError, match="hibari cannot say this text"):
        _next_sentence(sentences())


async def test_every_post_documents_the_conflict_and_bad_request_it_can_answer(serve: ServeFactory) -> None:
    async with serve() as server:
        spec = (await server.client.get("/openapi.json")).json()

    approve = spec["paths"]["/api/v1/autofunctions/{function_id}/approve"]["post"]["responses"]
    raw_body = spec["paths"]["/stream-speech-to-text"]["post"]["responses"]
    assert "409" in approve  # "its tests did not pass in the sandbox"
    assert "400" in raw_body  # "audio is empty"
