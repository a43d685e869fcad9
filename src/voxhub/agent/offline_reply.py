"""What the offline agent answers, and the small pieces of English its replies are made of."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from voxhub.agent.tools.base import ToolError
from voxhub.errors import VoxhubError


@dataclass(frozen=True, slots=True)
class OfflineReply:
    """What the offline agent says, which intent it recognized, and whether the action worked."""

    text: str
    intent: str
    slots: Mapping[str, Any] = field(default_factory=dict)
    success: bool = True
    error: VoxhubError | None = None


def failed(intent: str, slots: Mapping[str, Any], error: ToolError) -> OfflineReply:
    return OfflineReply(error.spoken, intent, dict(slots), success=False, error=error)


def the(name: str) -> str:
    return name if name.casefold().startswith("the ") else f"the {name}"


def sentence(text: str) -> str:
    """First letter up, the rest (friendly names) as they are."""
    return text[:1].upper() + text[1:]


def number(value: Any) -> str:
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(as_float)) if as_float.is_integer() else f"{as_float:g}"


def listed(names: Sequence[str], *, most: int = 3) -> str:
    """ "the Kitchen Light", "the Lamp and the Ceiling", "5 devices"."""
    if len(names) > most:
        return f"{len(names)} devices"
    spoken = [the(n) for n in names]
    return spoken[0] if len(spoken) == 1 else f"{', '.join(spoken[:-1])} and {spoken[-1]}"
