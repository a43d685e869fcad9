"""What is checked against the loaded engines before a session's config or a profile is saved.

The session manager knows the store, not the engines: the server gives it these checks, so a bad
engine, voice or wake word is refused when it is set (400) rather than failing every later turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voxhub.engines.tts.base import synthesize_all
from voxhub.errors import InputError, VoxhubError
from voxhub.sessions.models import SessionConfig
from voxhub.sessions.profiles import Profile

if TYPE_CHECKING:
    from voxhub.engines.pool import EnginePool


class InvalidSetting(InputError):
    code = "invalid_setting"


class EngineChecks:
    """Checks a config or a profile against the engines of `pool` (each check loads what it names)."""

    def __init__(self, pool: EnginePool) -> None:
        self._pool = pool
        self._voices_seen: set[tuple[str, str]] = set()

    async def config(self, config: SessionConfig) -> None:
        """Raises InvalidSetting (400) for an engine that cannot be built or a voice the TTS lacks."""
        for stage in ("stt", "tts", "llm"):
            name = getattr(config, f"{stage}_engine")
            if name is None:
                continue
            try:
                await self._pool.get(stage, name)
            except VoxhubError as exc:
                raise InvalidSetting(
                    f"{stage}_engine {name!r} cannot be used: {exc.message}",
                    details={"setting": f"{stage}_engine", "engine": name, "reason": exc.code},
                ) from None
        if config.voice:
            await self._voice(config)

    async def _voice(self, config: SessionConfig) -> None:
        tts = await self._pool.get("tts", config.tts_engine)
        key = (tts.name, config.voice or "")
        if key in self._voices_seen:
            return
        try:  # engines name voices their own way (espeak takes titles and languages too): ask the engine
            await synthesize_all(tts, "Hi.", voice=config.voice)
        except InputError as exc:
            raise InvalidSetting(
                exc.message, details={"setting": "voice", "voice": config.voice, **exc.details}
            ) from None
        self._voices_seen.add(key)

    async def profile(self, profile: Profile) -> None:
        """Raises InvalidSetting (400) for a wake word the wake engine does not have."""
        if not profile.wake_words:
            return
        wake = await self._pool.get("wake", None)
        known = wake.capabilities.wake_words
        unknown = [word for word in profile.wake_words if word not in known]
        if unknown:
            raise InvalidSetting(
                f"unknown wake word {unknown[0]!r}; known: {', '.join(known)}",
                details={"setting": "wake_words", "unknown": unknown, "known": list(known)},
            )
