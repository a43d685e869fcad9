"""Long conversations and long acquaintances: older turns folded into a summary, notes kept per user."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voxhub.agent.context_fit import CHARS_PER_TOKEN, MESSAGE_TOKENS
from voxhub.agent.tools.base import ToolError, ToolKind, ToolResult
from voxhub.engines.llm.base import ChatMessage, LlmEngine, ToolSpec, complete
from voxhub.pipeline.reply import ReplyCompacted
from voxhub.sessions.store import Store

SUMMARY_PREFIX = "Summary of the earlier conversation: "
NOTES_HEADER = "What you remember about this user:"
_SUMMARY_TOKENS = 200
_SUMMARISE = (
    "You keep the memory of a conversation. Summarise the conversation below in at most five sentences."
    " Keep names, facts, numbers, decisions, open questions and what the user likes or dislikes."
)


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    """A cheap, slightly generous count (about four characters a token, plus each message's framing)."""
    total = 0
    for message in messages:
        total += 4 + len(message.content) // 4
        total += sum(8 + len(call.arguments_json) // 4 for call in message.tool_calls)
    return total


@dataclass(frozen=True, slots=True)
class HistoryCompactor:
    """Summarises the older half of the history once it fills `fill_ratio` of the LLM's context window."""

    llm: LlmEngine
    fill_ratio: float = 0.75

    async def fit(self, messages: Sequence[ChatMessage], reserve_tokens: int) -> ReplyCompacted | None:
        """A compaction of `messages` (system prompt first, this turn's inputs last), or None if they fit."""
        budget = self.llm.capabilities.context_tokens - reserve_tokens
        if estimate_tokens(messages) <= self.fill_ratio * budget:
            return None
        history = list(messages[1:])  # the system prompt is rebuilt every turn; it is not history
        cut = _turn_boundary(history, estimate_tokens(history) // 2)
        if cut == 0:
            return None
        older = history[:cut]
        transcript = "\n".join(_line(message) for message in older)
        # The summary's own prompt must fit too: what does not is the oldest, already summarised or least used.
        room = (
            self.llm.capabilities.context_tokens - _SUMMARY_TOKENS - 2 * MESSAGE_TOKENS - len(_SUMMARISE) // 3
        )
        transcript = transcript[-max(room, 64) * CHARS_PER_TOKEN :]
        summary = await complete(
            self.llm,
            [ChatMessage("system", _SUMMARISE), ChatMessage("user", transcript)],
            max_tokens=_SUMMARY_TOKENS,
            temperature=0.0,
        )
        text = summary.text.strip()
        if not text:
            return None  # nothing is dropped without a summary to stand for it
        return ReplyCompacted(ChatMessage("system", SUMMARY_PREFIX + text), tuple(older))


def _turn_boundary(history: Sequence[ChatMessage], tokens: int) -> int:
    """The index of the first user message after about `tokens` tokens, leaving the last turn alone."""
    seen = 0
    last_user = max((i for i, m in enumerate(history) if m.role == "user"), default=0)
    for index, message in enumerate(history):
        if message.role == "user" and seen >= tokens and 0 < index <= last_user:
            return index
        seen += estimate_tokens([message])
    return 0


def _line(message: ChatMessage) -> str:
    if message.role == "system" and message.content.startswith(SUMMARY_PREFIX):
        return message.content
    if message.tool_calls:
        return "assistant called: " + ", ".join(f"{c.name}({c.arguments_json})" for c in message.tool_calls)
    return f"{message.role}: {message.content}"


class UserNotes:
    """What the assistant remembers about a user (`user_id`), across sessions, in the session store."""

    def __init__(self, store: Store, *, limit: int = 50) -> None:
        self.store = store
        self.limit = limit

    async def add(self, user_id: str, note: str) -> int:
        return await self.store.add_note(user_id, note.strip(), time.time())

    async def all(self, user_id: str) -> list[tuple[int, str, float]]:
        return await self.store.notes(user_id)

    async def delete(self, user_id: str, note_id: int) -> bool:
        return await self.store.delete_note(user_id, note_id)

    async def prompt(self, user_id: str) -> str:
        """The notes as a paragraph for the system prompt ("" when there are none)."""
        notes = (await self.store.notes(user_id))[-self.limit :]
        if not notes:
            return ""
        return NOTES_HEADER + "\n" + "\n".join(f"- {note}" for _, note, _ in notes)

    def tools(self, user_id: str) -> list[RememberTool]:
        return [RememberTool(self, user_id)]


class RememberTool:
    """Lets the LLM keep a note about the user for later sessions."""

    kind: ToolKind = "builtin"
    spec = ToolSpec(
        "remember",
        "Remember a short fact about the user for future conversations (a preference, a name, a date).",
        {
            "type": "object",
            "properties": {"note": {"type": "string", "description": "The fact, in one sentence."}},
            "required": ["note"],
        },
    )

    def __init__(self, notes: UserNotes, user_id: str) -> None:
        self.notes = notes
        self.user_id = user_id

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        note = str(arguments.get("note", "")).strip()
        if not note:
            raise ToolError("remember: the note is empty", spoken="I didn't catch what to remember.")
        note_id = await self.notes.add(self.user_id, note)
        return ToolResult(f"Remembered: {note}", {"id": note_id, "note": note})
