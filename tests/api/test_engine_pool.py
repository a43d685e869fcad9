"""The server's engine pool: the configured engines at start, others loaded once on first use."""

from __future__ import annotations

import asyncio

import pytest

from voxhub.config import Settings
from voxhub.engines.pool import EnginePool
from voxhub.errors import UnknownEngineError


async def test_no_name_means_the_configured_engine(engine_pool: EnginePool) -> None:
    stt = await engine_pool.get("stt")
    assert stt is await engine_pool.get("stt", "whisper")
    assert stt.name == "whisper"


async def test_sessions_asking_at_once_for_a_new_engine_share_one_load(session_settings: Settings) -> None:
    pool = EnginePool(session_settings)
    try:
        first, second = await asyncio.gather(pool.get("tts", "espeak"), pool.get("tts", "espeak"))
        assert first is second
        assert list(pool.loaded()) == ["tts"]
        assert list(pool.loaded()["tts"]) == ["espeak"]
    finally:
        await pool.aclose()
    assert pool.loaded() == {}


async def test_an_unknown_engine_name_is_refused_naming_the_choices(engine_pool: EnginePool) -> None:
    with pytest.raises(UnknownEngineError, match="choose one of: hibari, piper, espeak, openai"):
        await engine_pool.get("tts", "festival")


async def test_local_by_name_is_the_embedded_model_auto_chose_not_a_second_one(
    session_settings: Settings,
) -> None:
    pool = EnginePool(session_settings.model_copy(update={"llm_engine": "auto", "llm_fallbacks": []}))
    try:
        chosen = await pool.get("llm")  # no LLM server on this machine for the tests: the embedded model

        assert await pool.get("llm", "local") is chosen
        assert list(pool.loaded()["llm"]) == ["auto"]
    finally:
        await pool.aclose()
