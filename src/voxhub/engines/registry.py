"""Which engine names exist for each stage: one line per engine, imported only when chosen."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal, get_args

from voxhub.config import env_name
from voxhub.errors import UnknownEngineError

if TYPE_CHECKING:
    from voxhub.config import Settings

Stage = Literal["vad", "wake", "stt", "tts", "llm"]
STAGES: tuple[Stage, ...] = get_args(Stage)

ENGINES: dict[Stage, dict[str, str]] = {
    "vad": {
        "silero": "voxhub.engines.vad.silero:SileroVad",
        "webrtc": "voxhub.engines.vad.webrtc:WebRtcVad",
        "combined": "voxhub.engines.vad.combined:CombinedVad",
    },
    "wake": {
        "micro": "voxhub.engines.wake.micro:MicroWake",
        "openwakeword": "voxhub.engines.wake.openwakeword:OpenWake",
        "combined": "voxhub.engines.wake.combined:CombinedWake",
        "wyoming": "voxhub.engines.wake.wyoming:WyomingWake",  # another box's Wyoming server
    },
    "stt": {
        "whisper": "voxhub.engines.stt.whisper:WhisperStt",
        "openai": "voxhub.engines.stt.openai:OpenAiStt",
        "wyoming": "voxhub.engines.stt.wyoming:WyomingStt",
    },
    "tts": {
        "hibari": "voxhub.engines.tts.hibari:HibariTts",
        "piper": "voxhub.engines.tts.piper:PiperTts",
        "espeak": "voxhub.engines.tts.espeak:EspeakTts",
        "openai": "voxhub.engines.tts.openai:OpenAiTts",
        "wyoming": "voxhub.engines.tts.wyoming:WyomingTts",
    },
    "llm": {
        # The best model a server on this machine offers, else `local`: resolved at load time by
        # voxhub.engines.llm.chain.load_llm (which also puts `llm_fallbacks` behind every LLM).
        "auto": "voxhub.engines.llm.fallback:FallbackLlm",
        "local": "voxhub.engines.llm.local:LocalLlm",
        "openai": "voxhub.engines.llm.openai:OpenAiLlm",
    },
}


def setting_for(stage: Stage) -> str:
    return f"{stage}_engine"


def check_engine_name(stage: Stage, name: str) -> str:
    """Return `name` if registered for `stage`, else raise naming the setting and the choices."""
    if name not in ENGINES[stage]:
        choices = ", ".join(ENGINES[stage])
        raise UnknownEngineError(
            f"{setting_for(stage)} ({env_name(setting_for(stage))}): unknown engine {name!r}; choose one of: {choices}",
            details={"setting": setting_for(stage), "engine": name, "choices": list(ENGINES[stage])},
        )
    return name


def check_settings(settings: Settings) -> None:
    """Fail before loading anything if any stage names an unknown engine."""
    for stage in STAGES:
        check_engine_name(stage, getattr(settings, setting_for(stage)))


def engine_class(stage: Stage, name: str) -> Any:
    """Import and return the class registered as `name` for `stage`."""
    module_name, _, class_name = ENGINES[stage][check_engine_name(stage, name)].partition(":")
    return getattr(importlib.import_module(module_name), class_name)
