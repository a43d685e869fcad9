"""The conversation as the LLM sees it, and the hook that commits each finished turn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from voxhub.engines.llm.base import ChatMessage, ToolCall


@dataclass(frozen=True, slots=True)
class CompletedTurn:
    turn_id: str
    inputs: tuple[ChatMessage, ...]  # what opened the turn: the user's words, or tool outputs
    assistant_text: str  # what the user actually got: cut short if interrupted
    interrupted: bool
    exchange: tuple[ChatMessage, ...] = ()  # server-side tool calls and results, before the answer
    tool_calls: tuple[ToolCall, ...] = ()  # calls of the client's tools the answer ends with

    @property
    def user_text(self) -> str:
        return "\n".join(message.content for message in self.inputs if message.role == "user")


CommitTurn = Callable[[CompletedTurn], Awaitable[None]]
# (summary, how many stored messages were replaced by it this time)
CommitSummary = Callable[[str, int], Awaitable[None]]


@dataclass
class _OpenTurn:
    inputs: tuple[ChatMessage, ...]
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    exchange: list[ChatMessage] = field(default_factory=list)
    tool_calls: tuple[ToolCall, ...] = ()


class ConversationMemory:
    """History for the LLM; a turn is settled (committed, then added) before the next one reads it."""

    def __init__(
        self,
        history: Sequence[ChatMessage],
        commit: CommitTurn,
        commit_summary: CommitSummary | None = None,
    ) -> None:
        self.messages: list[ChatMessage] = list(history)
        self._commit = commit
        self._commit_summary = commit_summary
        self._open: dict[str, _OpenTurn] = {}
        self._settling: dict[str, _OpenTurn] = {}  # being committed: the next turn waits for them too

    def begin(self, turn_id: str, inputs: Sequence[ChatMessage]) -> None:
        self._open[turn_id] = _OpenTurn(tuple(inputs))
        self.messages.extend(inputs)

    def is_open(self, turn_id: str | None) -> bool:
        return turn_id is not None and turn_id in self._open

    def record_exchange(self, turn_id: str, messages: Sequence[ChatMessage]) -> None:
        """Tool calls the server ran for this turn: kept even if the answer is then cut short."""
        if turn_id in self._open:
            self._open[turn_id].exchange.extend(messages)
            self.messages.extend(messages)

    def record_tool_calls(self, turn_id: str, calls: Sequence[ToolCall]) -> None:
        if turn_id in self._open:
            self._open[turn_id].tool_calls += tuple(calls)

    async def settle(self, turn_id: str, assistant_text: str, *, interrupted: bool) -> bool:
        """Commit the turn and add the answer; False if the turn was settled already."""
        turn = self._open.pop(turn_id, None)
        if turn is None:
            return False
        self._settling[turn_id] = turn
        completed = CompletedTurn(
            turn_id, turn.inputs, assistant_text, interrupted, tuple(turn.exchange), turn.tool_calls
        )
        try:
            await self._commit(completed)
        finally:
            if assistant_text or turn.tool_calls:
                self.messages.append(ChatMessage("assistant", assistant_text, tool_calls=turn.tool_calls))
            del self._settling[turn_id]
            turn.settled.set()
        return True

    async def compact(self, replaced: Sequence[ChatMessage], summary: ChatMessage) -> None:
        """Let `summary` stand for `replaced` (older messages, and any earlier summary) from now on."""
        gone = {id(message) for message in replaced}
        kept = [message for message in self.messages if id(message) not in gone]
        removed = len(self.messages) - len(kept)
        earlier = sum(1 for message in replaced if message.role == "system" and id(message) in gone)
        self.messages = [summary, *kept]
        if self._commit_summary is not None:
            await self._commit_summary(summary.content, removed - earlier)

    def discard(self, turn_id: str) -> None:
        """Forget a turn that never happened (its tentative answer was retracted)."""
        turn = self._open.pop(turn_id, None)
        if turn is None:
            return
        for message in (*turn.exchange, *turn.inputs):
            self._remove_latest(message)
        turn.settled.set()

    def _remove_latest(self, message: ChatMessage) -> None:
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index] == message:
                del self.messages[index]
                return

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
        turn = (self._open.get(turn_id) or self._settling.get(turn_id)) if turn_id else None
        if turn is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(turn.settled.wait(), timeout_secs)
