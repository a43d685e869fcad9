"""The `combined` end-of-turn engine: the words (`text`) and the voice (`smart-turn`) must both agree.

The verdict is the lower of the two probabilities: a turn ends early only when both call it complete, and
waits long when either hears it cut off. One that fails or has no opinion leaves the other to decide.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Self

from voxhub.engines.turn.base import TurnCapabilities, TurnEngine, TurnQuery
from voxhub.engines.turn.smart_turn import SmartTurn
from voxhub.engines.turn.text import TextTurn

if TYPE_CHECKING:
    from voxhub.config import Settings


class CombinedTurn:
    name = "combined"
    capabilities = TurnCapabilities("text and smart-turn, both agreeing", reads_text=True, reads_audio=True)

    def __init__(self, engines: tuple[TurnEngine, ...]) -> None:
        self._engines = engines

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls((TextTurn.from_settings(settings), SmartTurn.from_settings(settings)))

    async def warm_up(self) -> None:
        for engine in self._engines:
            await engine.warm_up()

    async def complete(self, query: TurnQuery) -> float | None:
        results = await asyncio.gather(*(e.complete(query) for e in self._engines), return_exceptions=True)
        verdicts = [float(result) for result in results if isinstance(result, int | float)]
        if not verdicts:
            failed = next((result for result in results if isinstance(result, Exception)), None)
            if failed is not None:
                raise failed
            return None
        return min(verdicts)

    async def aclose(self) -> None:
        for engine in self._engines:
            await engine.aclose()
