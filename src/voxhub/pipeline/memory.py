"""The conversation as the LLM sees it, and the hook that commits each finished turn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from voxhub.engines.llm.base import ChatMessage


@dataclass(frozen=True, slots=True)
class CompletedTurn:
    turn_id: str
    user_text: str
    assistant_text: str  # what the user actually got: cut short if interrupted
    interrupted: bool


CommitTurn = Callable[[CompletedTurn], Awaitable[None]]


class ConversationMemory:
    """History for the LLM; a turn is settled (committed, then added) before the next one reads it."""

    def __init__(self, history: Sequence[ChatMessage], commit: CommitTurn) -> None:
        self.messages: list[ChatMessage] = list(history)
        self._commit = commit
        self._open: dict[str, tuple[str, asyncio.Event]] = {}

    def begin(self, turn_id: str, user_text: str) -> None:
        self._open[turn_id] = (user_text, asyncio.Event())
        self.messages.append(ChatMessage("user", user_text))

    def is_open(self, turn_id: str | None) -> bool:
        return turn_id is not None and turn_id in self._open

    async def settle(self, turn_id: str, assistant_text: str, *, interrupted: bool) -> bool:
        """Commit the turn and add the answer; False if the turn was settled already."""
        entry = self._open.pop(turn_id, None)
        if entry is None:
            return False
        user_text, settled = entry
        try:
            await self._commit(CompletedTurn(turn_id, user_text, assistant_text, interrupted))
        finally:
            if assistant_text:
                self.messages.append(ChatMessage("assistant", assistant_text))
            settled.set()
        return True

    def discard(self, turn_id: str) -> None:
        """Forget a turn that never happened (its tentative answer was retracted)."""
        entry = self._open.pop(turn_id, None)
        if entry is None:
            return
        user_text, settled = entry
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].role == "user" and self.messages[index].content == user_text:
                del self.messages[index]
                break
        settled.set()

    def rewrite(self, role: str, old: str, new: str | None) -> None:
        """Replace the latest `role` message saying `old` with `new`, or remove it if `new` is None."""
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].role == role and self.messages[index].content == old:
                if new is None:
                    del self.messages[index]
                else:
                    self.messages[index] = replace(self.messages[index], content=new)
                return

    async def wait_settled(self, turn_id: str | None, timeout_secs: float = 2.0) -> None:
        """Wait (briefly) for an interrupted turn's answer to be recorded before building on it."""
        entry = self._open.get(turn_id) if turn_id else None
        if entry is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry[1].wait(), timeout_secs)
