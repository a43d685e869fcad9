"""The conversation as the LLM sees it, and the hooks that write each ended turn to the session's store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from voxhub.engines.llm.base import ChatMessage, ToolCall
from voxhub.pipeline.turns import Turn, TurnState


@dataclass(frozen=True, slots=True)
class CompletedTurn:
    """What the store keeps of one ended turn."""

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


class ConversationMemory:
    """The messages the LLM is given, kept in step with the store. Per-turn state lives on the `Turn`."""

    def __init__(
        self,
        history: Sequence[ChatMessage],
        commit: CommitTurn,
        commit_summary: CommitSummary | None = None,
    ) -> None:
        self.messages: list[ChatMessage] = list(history)
        self._commit = commit
        self._commit_summary = commit_summary

    def begin(self, turn: Turn) -> None:
        """The turn's inputs join the conversation (the answer is being made from them)."""
        turn.in_memory = True
        self.messages.extend(turn.inputs)

    def record_exchange(self, turn: Turn, messages: Sequence[ChatMessage]) -> None:
        """Tool calls the server ran for this turn: kept even if the answer is then cut short."""
        turn.exchange.extend(messages)
        self.messages.extend(messages)

    def record_tool_calls(self, turn: Turn, calls: Sequence[ToolCall]) -> None:
        turn.tool_calls += tuple(calls)

    async def commit(self, turn: Turn) -> None:
        """Write the ended turn to the store, then add its answer to the messages (even if the store
        failed: the LLM must see what the user got)."""
        if not turn.in_memory:
            # Ended before its answer began (stopped while waiting for the previous turn): the store
            # still keeps what the user said.
            self.messages.extend(turn.inputs)
        turn.in_memory = False
        answer = turn.answer or ""
        completed = CompletedTurn(
            turn.turn_id,
            turn.inputs,
            answer,
            turn.state is not TurnState.DONE,
            tuple(turn.exchange),
            turn.tool_calls,
        )
        try:
            await self._commit(completed)
        finally:
            if answer or turn.tool_calls:
                self.messages.append(ChatMessage("assistant", answer, tool_calls=turn.tool_calls))

    def discard(self, turn: Turn) -> None:
        """Forget a turn that never happened (its tentative answer was retracted)."""
        if not turn.in_memory:
            return
        turn.in_memory = False
        for message in (*turn.exchange, *turn.inputs):
            self._remove_latest(message)

    async def compact(self, replaced: Sequence[ChatMessage], summary: ChatMessage) -> None:
        """Let `summary` stand for `replaced` (older messages, and any earlier summary) from now on."""
        gone = {id(message) for message in replaced}
        kept = [message for message in self.messages if id(message) not in gone]
        removed = len(self.messages) - len(kept)
        earlier = sum(1 for message in replaced if message.role == "system" and id(message) in gone)
        self.messages = [summary, *kept]
        if self._commit_summary is not None:
            await self._commit_summary(summary.content, removed - earlier)

    def rewrite(self, role: str, old: str, new: str | None) -> None:
        """Replace the latest `role` message saying `old` with `new`, or remove it if `new` is None (the
        store is changed by the caller)."""
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].role == role and self.messages[index].content == old:
                if new is None:
                    del self.messages[index]
                else:
                    self.messages[index] = replace(self.messages[index], content=new)
                return

    def _remove_latest(self, message: ChatMessage) -> None:
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index] == message:
                del self.messages[index]
                return
