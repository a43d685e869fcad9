"""Realtime conversation items mapped onto pipeline turns, for `conversation.item.delete` / `truncate`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from voxhub.errors import InputError
from voxhub.pipeline.memory import ConversationMemory
from voxhub.protocols.realtime_events import REALTIME_RATE_HZ, InvalidEvent
from voxhub.sessions.manager import SessionManager

BYTES_PER_MS = REALTIME_RATE_HZ * 2 / 1000  # pcm16 mono


class ItemNotFound(InputError):
    code = "item_not_found"


class ItemNotCommitted(InputError):
    code = "item_not_committed"


@dataclass(slots=True)
class ItemRef:
    """What the adapter knows of one item: whose it is and which pipeline turn holds it."""

    role: str
    turn_id: str | None = None  # None until a turn answers it (a user text item before response.create)
    audio_ms: float = 0.0  # assistant items: how much of their audio was sent
    held: str | None = (
        None  # a spoken user item waiting for `response.create` (create_response off): its words
    )


def find_item(items: Mapping[str, ItemRef], body: Mapping[str, Any]) -> tuple[str, ItemRef]:
    item_id = body.get("item_id")
    if not isinstance(item_id, str) or item_id not in items:
        raise ItemNotFound(f"no conversation item {item_id!r}", details={"param": "item_id"})
    return item_id, items[item_id]


def heard_ms(body: Mapping[str, Any], item: ItemRef) -> float:
    """The validated `audio_end_ms` of a truncate of `item`."""
    if item.role != "assistant":
        raise InvalidEvent("only assistant message items can be truncated", details={"param": "item_id"})
    if body.get("content_index", 0) != 0:
        raise InvalidEvent(
            "an assistant item has one content part: content_index 0", details={"param": "content_index"}
        )
    end_ms = body.get("audio_end_ms")
    if not isinstance(end_ms, int) or isinstance(end_ms, bool) or end_ms < 0:
        raise InvalidEvent(
            "audio_end_ms must be a whole number of milliseconds", details={"param": "audio_end_ms"}
        )
    if end_ms > item.audio_ms:
        raise InvalidEvent(
            f"audio_end_ms {end_ms} is past the item's {int(item.audio_ms)} ms of audio",
            details={"param": "audio_end_ms"},
        )
    return float(end_ms)


async def rewrite_item(
    manager: SessionManager,
    session_id: str,
    memory: ConversationMemory,
    item: ItemRef,
    edit: Callable[[str], str | None],
) -> None:
    """Apply `edit` (None: delete) to the item's committed message, in the store and in the LLM's memory."""
    stored = await manager.history(session_id) if item.turn_id else []
    old = next(
        (m.content for m in reversed(stored) if (m.turn_id, m.role) == (item.turn_id, item.role)), None
    )
    if old is None or item.turn_id is None:
        raise ItemNotCommitted(
            "the item is not in history yet: its response is still in progress (cancel it first)",
            details={"param": "item_id"},
        )
    new = edit(old)
    await manager.rewrite(session_id, item.turn_id, item.role, new)
    memory.rewrite(item.role, old, new)
