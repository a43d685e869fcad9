"""A prompt that always fits the LLM's context: the oldest turns go first; the system prompt and tools stay.

Every LLM call goes through `fit_context`, for native conversations (whose history the server keeps, and
summarises first: `voxhub.agent.memory`) and for `/v1` clients that send their whole history each time
(Extended OpenAI Conversation keeps every turn until its own threshold, far above a small model's slot).
The count is an estimate that errs high; if the server still says the prompt is too long, the caller fits
it again into less (`is_overflow`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from voxhub.engines.llm.base import ChatMessage, ToolSpec
from voxhub.errors import VoxhubError

CHARS_PER_TOKEN = 3  # on the safe side: English runs about 4, device lists and ids nearer 3
MESSAGE_TOKENS = 8  # a chat template's framing of one message
TEMPLATE_TOKENS = 16  # the template's own start and the assistant's opening
MIN_ANSWER_TOKENS = 32  # an answer is never squeezed below this to make room
DROP_STEP_TURNS = 8  # turns are dropped this many at a time (see `fit_context`)
_ELLIPSIS = "\n…\n"


@dataclass(frozen=True, slots=True)
class Fitted:
    """The messages to send, the answer's token budget, and how much was left out to fit."""

    messages: list[ChatMessage]
    max_tokens: int
    dropped: int = 0  # earlier messages left out
    shortened: int = 0  # messages cut in the middle (only when the newest turn alone is too long)


def message_tokens(message: ChatMessage) -> int:
    calls = sum(
        MESSAGE_TOKENS + -(-len(c.name + c.arguments_json) // CHARS_PER_TOKEN) for c in message.tool_calls
    )
    return MESSAGE_TOKENS + -(-len(message.content) // CHARS_PER_TOKEN) + calls


def tools_tokens(tools: Sequence[ToolSpec]) -> int:
    return sum(
        MESSAGE_TOKENS
        + -(-len(tool.name + tool.description + json.dumps(dict(tool.parameters))) // CHARS_PER_TOKEN)
        for tool in tools
    )


def fit_context(
    messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], *, context_tokens: int, max_tokens: int
) -> Fitted:
    """`messages` within `context_tokens` with room for the answer: whole turns dropped oldest first; the
    leading system messages (prompt, summary), the tools and the newest turn kept. Only if those alone do
    not fit is the answer's budget lowered (to `MIN_ANSWER_TOKENS`), then the longest kept message cut."""
    messages = list(messages)
    head_end = 0
    while head_end < len(messages) and messages[head_end].role == "system":
        head_end += 1
    tail_start = _newest_turn(messages, head_end)
    head, middle, tail = messages[:head_end], messages[head_end:tail_start], messages[tail_start:]
    fixed = TEMPLATE_TOKENS + tools_tokens(tools) + sum(map(message_tokens, head + tail))
    answer = max(1, min(max_tokens, max(MIN_ANSWER_TOKENS, context_tokens - fixed)))
    room = context_tokens - answer - fixed
    turns = _turns(middle)
    kept: list[list[ChatMessage]] = []
    for turn in reversed(turns):  # newest first, while they fit
        cost = sum(map(message_tokens, turn))
        if cost > room:
            break
        kept.insert(0, turn)
        room -= cost
    if len(kept) < len(turns):
        # Drop in steps counted from the conversation's start, so the kept history begins at the same turn
        # for several requests in a row and the LLM server reuses its cached prompt.
        gone = -(-(len(turns) - len(kept)) // DROP_STEP_TURNS) * DROP_STEP_TURNS
        kept = turns[gone:]
    dropped = sum(map(len, turns)) - sum(map(len, kept))
    shortened = 0
    if room < 0:  # the prompt and the newest turn alone are too long: cut the longest of them
        answer = max(1, min(max_tokens, context_tokens // 4))  # a cut prompt leaves the answer its share
        head, tail, shortened = _shorten(head, tail, fixed + answer - context_tokens)
    fitted = head + [m for turn in kept for m in turn] + tail
    return Fitted(fitted, answer, dropped, shortened)


def is_overflow(error: VoxhubError) -> bool:
    """Whether the LLM server refused the request for its length (llama.cpp: "exceeds the available
    context size"; OpenAI: "maximum context length")."""
    text = error.message.lower()
    return error.details.get("status") == 400 and "context" in text


def _newest_turn(messages: list[ChatMessage], start: int) -> int:
    """Where the newest turn begins: its user message (and the notes just before it), or what answers tools."""
    users = [i for i in range(start, len(messages)) if messages[i].role == "user"]
    index = users[-1] if users else max(start, len(messages) - 1)
    while index > start and messages[index - 1].role == "system":
        index -= 1
    return index


def _turns(messages: list[ChatMessage]) -> list[list[ChatMessage]]:
    """Whole turns, each from a user message up to the next: a tool call never loses its result."""
    turns: list[list[ChatMessage]] = []
    for message in messages:
        if message.role == "user" or not turns:
            turns.append([])
        turns[-1].append(message)
    return turns


def _shorten(
    head: list[ChatMessage], tail: list[ChatMessage], excess_tokens: int
) -> tuple[list[ChatMessage], list[ChatMessage], int]:
    """Cut `excess_tokens` out of the middle of the longest messages, the longest first."""
    pool = head + tail
    cut: set[int] = set()
    while excess_tokens > 0:
        index = max(range(len(pool)), key=lambda i: len(pool[i].content), default=None)
        if index is None or len(pool[index].content) <= 4 * len(_ELLIPSIS):
            break
        message = pool[index]
        keep = max(2 * len(_ELLIPSIS), len(message.content) - (excess_tokens + 2) * CHARS_PER_TOKEN)
        excess_tokens -= (len(message.content) - keep - len(_ELLIPSIS)) // CHARS_PER_TOKEN
        pool[index] = _cut(message, keep)
        cut.add(index)
    return pool[: len(head)], pool[len(head) :], len(cut)


def _cut(message: ChatMessage, keep: int) -> ChatMessage:
    """The first two thirds and the last third of `keep` characters (instructions often end a prompt)."""
    front = keep * 2 // 3
    text = message.content[:front] + _ELLIPSIS + message.content[len(message.content) - (keep - front) :]
    return ChatMessage(message.role, text, message.tool_calls, message.tool_call_id, message.name)
