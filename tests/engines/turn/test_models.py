"""The real end-of-turn models: SmolLM2's end-of-message probability, and smart-turn on synthetic speech."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from voxhub.audio import PcmAudio, resample
from voxhub.audio.wav import decode_wav
from voxhub.config import Settings
from voxhub.engines.llm.local import LocalLlm
from voxhub.engines.pool import EnginePool
from voxhub.engines.turn.base import COMPLETE_AT, INCOMPLETE_BELOW, TurnQuery
from voxhub.engines.turn.features import SAMPLES, last_seconds, log_mel
from voxhub.engines.turn.smart_turn import SmartTurn
from voxhub.engines.turn.text import TextTurn


@pytest.fixture(scope="module")
def smollm2() -> Iterator[LocalLlm]:
    llm = LocalLlm.from_settings(Settings(llm_slots=1))
    yield llm
    asyncio.run(llm.aclose())


def _verdict(llm: LocalLlm, text: str) -> float | None:
    async def ask() -> float | None:
        engine = TextTurn.sharing(llm)
        try:
            return await engine.complete(TurnQuery(PcmAudio(b"", 16000), text))
        finally:
            await engine.aclose()

    return asyncio.run(ask())


def test_smollm2_finds_a_whole_question_complete(smollm2: LocalLlm) -> None:
    verdict = _verdict(smollm2, "What is the tallest mountain in the world?")
    assert verdict is not None
    assert verdict >= COMPLETE_AT


def test_smollm2_finds_a_cut_phrase_incomplete(smollm2: LocalLlm) -> None:
    verdict = _verdict(smollm2, "What is the tallest mountain in the")
    assert verdict is not None
    assert verdict < INCOMPLETE_BELOW


def test_no_words_get_no_opinion(smollm2: LocalLlm) -> None:
    assert _verdict(smollm2, " . ") is None


def test_the_features_are_whisper_shaped_and_a_short_clip_is_padded_before_it() -> None:
    clip = np.full(16000, 0.1, np.float32)
    padded = last_seconds(clip)
    assert padded.size == SAMPLES
    assert padded[0] == 0.0
    assert padded[-1] == pytest.approx(0.1)
    features = log_mel(padded)
    assert features.shape == (80, 800)
    assert features.dtype == np.float32
    assert -1.5 <= float(features.min()) <= float(features.max()) <= 2.5


def test_smart_turn_scores_speech_as_a_probability(tmp_path: Path) -> None:
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Turn on the kitchen light."], check=True)
    audio = resample(decode_wav(wav.read_bytes()), 16000)
    engine = SmartTurn.from_settings(Settings())
    verdict = asyncio.run(engine.complete(TurnQuery(audio)))
    assert verdict is not None
    assert 0.0 <= verdict <= 1.0


def test_text_shares_the_embedded_llm_the_pool_answers_with_instead_of_starting_a_second() -> None:
    async def load() -> tuple[bool, float | None]:
        pool = EnginePool(Settings(llm_engine="local", turn_engine="text"))
        try:
            await pool.get("llm")
            engine = await pool.turn_engine()
            assert isinstance(engine, TextTurn)
            verdict = await engine.complete(TurnQuery(PcmAudio(b"", 16000), "What is the capital of"))
            return engine.owns_server, verdict
        finally:
            await pool.aclose()

    owns_server, verdict = asyncio.run(load())
    assert owns_server is False
    assert verdict is not None
