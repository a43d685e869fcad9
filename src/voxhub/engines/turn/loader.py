"""Which end-of-turn engines exist, and loading one (sharing the embedded LLM when `text` needs it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voxhub.engines.llm.local import LocalLlm
from voxhub.engines.turn.base import TurnEngine
from voxhub.engines.turn.combined import CombinedTurn
from voxhub.engines.turn.silence import SilenceTurn
from voxhub.engines.turn.smart_turn import SmartTurn
from voxhub.engines.turn.text import TextTurn
from voxhub.errors import UnknownEngineError

if TYPE_CHECKING:
    from voxhub.config import Settings

TURN_ENGINES = ("silence", "text", "smart-turn", "combined")


def _text(settings: Settings, llm: object | None) -> TextTurn:
    return TextTurn.sharing(llm) if isinstance(llm, LocalLlm) else TextTurn.from_settings(settings)


async def load_turn_engine(name: str, settings: Settings, llm: object | None = None) -> TurnEngine:
    """Engine `name`, warmed up; `llm` is the loaded LLM, reused by `text` if it is the embedded one."""
    engine: TurnEngine
    if name == "silence":
        engine = SilenceTurn()
    elif name == "text":
        engine = _text(settings, llm)
    elif name == "smart-turn":
        engine = SmartTurn.from_settings(settings)
    elif name == "combined":
        engine = CombinedTurn((_text(settings, llm), SmartTurn.from_settings(settings)))
    else:
        raise UnknownEngineError(
            f"turn_engine (VOXHUB_TURN_ENGINE): unknown engine {name!r}; choose one of: "
            + ", ".join(TURN_ENGINES),
            details={"setting": "turn_engine", "engine": name, "choices": list(TURN_ENGINES)},
        )
    await engine.warm_up()
    return engine
