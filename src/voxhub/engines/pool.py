"""The engines of a server: the configured default per stage, plus any other a session names, loaded once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from voxhub.engines.llm.fallback import FallbackLlm
from voxhub.engines.llm.local import LocalLlm
from voxhub.engines.loader import Engines, LoadProgress, load_engine
from voxhub.engines.registry import STAGES, Stage, check_engine_name, setting_for
from voxhub.engines.turn.base import TurnEngine
from voxhub.engines.turn.loader import load_turn_engine

if TYPE_CHECKING:
    from voxhub.config import Settings
    from voxhub.engines.llm.base import LlmEngine
    from voxhub.engines.stt.base import SttEngine
    from voxhub.engines.tts.base import TtsEngine
    from voxhub.engines.vad.base import VadEngine
    from voxhub.engines.wake.base import WakeEngine

logger = logging.getLogger(__name__)


class EnginePool:
    """Shared by every session; `get` loads an engine on first use and keeps it until `aclose`."""

    def __init__(self, settings: Settings, defaults: Engines | None = None) -> None:
        self.settings = settings
        self._engines: dict[tuple[Stage, str], Any] = {}
        self._load_secs: dict[tuple[Stage, str], float] = {}
        self._locks: dict[tuple[Stage, str], asyncio.Lock] = {}
        self._turn: TurnEngine | None = None
        self._turn_lock = asyncio.Lock()
        if defaults is not None:
            for stage in STAGES:
                engine = getattr(defaults, stage)
                if engine is not None:
                    key = (stage, self.default_name(stage))
                    self._engines[key] = engine
                    self._load_secs[key] = defaults.load_secs.get(stage, 0.0)

    @classmethod
    async def load(
        cls, settings: Settings, stages: Sequence[Stage] = STAGES, progress: LoadProgress | None = None
    ) -> EnginePool:
        """A pool with the configured engine of each of `stages` loaded and warmed up."""
        return cls(settings, await Engines.load(settings, stages, progress))

    def default_name(self, stage: Stage) -> str:
        """The engine the settings choose for `stage`."""
        return cast(str, getattr(self.settings, setting_for(stage)))

    @overload
    async def get(self, stage: Literal["vad"], name: str | None = None) -> VadEngine: ...
    @overload
    async def get(self, stage: Literal["wake"], name: str | None = None) -> WakeEngine: ...
    @overload
    async def get(self, stage: Literal["stt"], name: str | None = None) -> SttEngine: ...
    @overload
    async def get(self, stage: Literal["tts"], name: str | None = None) -> TtsEngine: ...
    @overload
    async def get(self, stage: Literal["llm"], name: str | None = None) -> LlmEngine: ...
    async def get(self, stage: Stage, name: str | None = None) -> Any:
        """Engine `name` of `stage` (None: the configured one), loading it if no session used it yet.

        Raises UnknownEngineError for an unregistered name, ModelError or EngineError if it cannot load.
        """
        key = (stage, check_engine_name(stage, name or self.default_name(stage)))
        engine = self._engines.get(key) or self._embedded_llm(key)
        if engine is not None:
            return engine
        # One lock per engine: two sessions asking for the same new engine load it once, others are not held up.
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            engine = self._engines.get(key)
            if engine is None:
                logger.info("loading engine", extra={"stage": stage, "engine": key[1]})
                started = time.perf_counter()
                engine = await load_engine(stage, key[1], self.settings)
                self._load_secs[key] = time.perf_counter() - started
                self._engines[key] = engine
            return engine

    async def turn_engine(self) -> TurnEngine:
        """The configured end-of-turn engine (`turn_engine`), loaded on first use; `text` shares the embedded
        LLM when one is loaded."""
        async with self._turn_lock:
            if self._turn is None:
                name = self.settings.turn_engine
                llm: object | None = None
                if name in ("text", "combined"):
                    llm = self._embedded_llm(("llm", "local")) or self._embedded_in_a_chain()
                    if llm is None and self.default_name("llm") == "local":
                        llm = await self.get("llm", "local")
                self._turn = await load_turn_engine(name, self.settings, llm)
            return self._turn

    def _embedded_in_a_chain(self) -> LocalLlm | None:
        """The embedded model as a loaded fallback behind another LLM, if it is one."""
        for (stage, _), engine in self._engines.items():
            if stage == "llm" and isinstance(engine, FallbackLlm):
                for member in engine.members:
                    if isinstance(member.engine, LocalLlm):
                        return member.engine
        return None

    def _embedded_llm(self, key: tuple[Stage, str]) -> LocalLlm | None:
        """`local` asked for by name when `auto` already chose the embedded model: the same one, not a second
        llama.cpp server."""
        if key != ("llm", "local"):
            return None
        return next(
            (e for (s, _), e in self._engines.items() if s == "llm" and isinstance(e, LocalLlm)), None
        )

    def loaded(self) -> dict[str, dict[str, float]]:
        """Stage -> engine name -> seconds it took to load, for every engine loaded so far."""
        result: dict[str, dict[str, float]] = {}
        for stage, name in self._engines:
            result.setdefault(stage, {})[name] = self._load_secs.get((stage, name), 0.0)
        return result

    def items(self) -> Iterator[tuple[Stage, str, Any]]:
        """(stage, name, engine) for every loaded engine."""
        for (stage, name), engine in list(self._engines.items()):
            yield stage, name, engine

    async def aclose(self) -> None:
        """Close every engine; the pool is empty afterwards."""
        engines, self._engines = self._engines, {}
        if self._turn is not None:
            await self._turn.aclose()
            self._turn = None
        for (stage, name), engine in engines.items():
            try:
                await engine.aclose()
            except Exception:
                # Closing the others matters more than this one's failure at shutdown.
                logger.exception("closing engine failed", extra={"stage": stage, "engine": name})
