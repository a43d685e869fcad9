"""Load the configured engines once per process, each timed and warmed up."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from voxhub.config import Settings
from voxhub.engines.llm.base import LlmEngine
from voxhub.engines.llm.chain import load_llm
from voxhub.engines.registry import (
    STAGES,
    Stage,
    check_engine_name,
    check_settings,
    engine_class,
    setting_for,
)
from voxhub.engines.stt.base import SttEngine
from voxhub.engines.stt.scheduler import SttScheduler, stt_workers
from voxhub.engines.tts.base import TtsEngine
from voxhub.engines.vad.base import VadEngine
from voxhub.engines.wake.base import WakeEngine

# (stage, engine name, finished?)
LoadProgress = Callable[[Stage, str, bool], None]


async def load_engine(stage: Stage, name: str, settings: Settings) -> Any:
    """Construct engine `name` of `stage` from settings and warm it up (an LLM with its fallbacks)."""
    if stage == "llm":
        check_engine_name(stage, name)
        return await load_llm(name, settings)
    engine = engine_class(stage, name).from_settings(settings)
    if stage == "stt":  # one queue for every session's decodes: finals first
        engine = SttScheduler(engine, workers=stt_workers(settings), max_batch=settings.stt_batch)
    await engine.warm_up()
    return engine


@dataclass
class Engines:
    """The engines of one process, shared by every session."""

    vad: VadEngine | None = None
    wake: WakeEngine | None = None
    stt: SttEngine | None = None
    tts: TtsEngine | None = None
    llm: LlmEngine | None = None
    load_secs: dict[str, float] = field(default_factory=dict)

    @classmethod
    async def load(
        cls, settings: Settings, stages: Sequence[Stage] = STAGES, progress: LoadProgress | None = None
    ) -> Engines:
        check_settings(settings)
        engines = cls()
        for stage in stages:
            name = cast(str, getattr(settings, setting_for(stage)))
            if progress:
                progress(stage, name, False)
            started = time.perf_counter()
            setattr(engines, stage, await load_engine(stage, name, settings))
            engines.load_secs[stage] = time.perf_counter() - started
            if progress:
                progress(stage, name, True)
        return engines

    async def aclose(self) -> None:
        for stage in STAGES:
            engine = getattr(self, stage)
            if engine is not None:
                await engine.aclose()
                setattr(self, stage, None)
