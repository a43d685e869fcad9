"""The `silence` end-of-turn engine: no opinion, so the VAD's silence window alone ends the turn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from voxhub.engines.turn.base import TurnCapabilities, TurnQuery

if TYPE_CHECKING:
    from voxhub.config import Settings


class SilenceTurn:
    """Today's rule: a turn ends after `vad_stop_secs` of silence, whatever was said."""

    name = "silence"
    capabilities = TurnCapabilities("VAD silence window", reads_text=False, reads_audio=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls()

    async def warm_up(self) -> None:
        pass

    async def complete(self, query: TurnQuery) -> float | None:
        return None

    async def aclose(self) -> None:
        pass
