"""Tool calls for clients that bring their own tools, even with a model that cannot call any.

`ClientToolsLlm` wraps the engine `/v1/chat/completions` uses. When the request offers a Home Assistant
service tool (Extended OpenAI Conversation's `execute_services`) and the offline agent recognises the user's
words as a command on a device the client listed, the answer is a call of that tool, made here; once the
client sends the call's result, the answer is a short spoken confirmation. Everything else goes to the engine,
except a demand for a tool call (`tool_choice: required` or a named tool) that neither can meet: that is a
`tools_unsupported` error naming the model, not a text answer pretending to be one.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Self

from voxhub.agent.client_commands import (
    ListedEntity,
    confirmation,
    listed_entities,
    service_calls,
    service_tool,
)
from voxhub.agent.exact import solve
from voxhub.agent.intents import IntentMatch, IntentMatcher
from voxhub.agent.offline import OfflineAgent
from voxhub.engines.llm.base import ChatMessage, LlmChunk, LlmEngine, LlmUsage, ToolCall, ToolSpec
from voxhub.errors import ConfigError, InputError

if TYPE_CHECKING:
    from voxhub.config import Settings

logger = logging.getLogger(__name__)

CALL_PREFIX = "call_voxhub_"  # the ids of the calls made here, so their results are recognised
_MATCHERS_KEPT = 8  # matchers compiled for the device lists clients sent, most recent kept
_NO_TOKENS = LlmUsage(0, 0)  # no model read or wrote anything


class ToolsUnsupported(InputError):
    """The request demands a tool call, and neither the model nor the offline agent can make one."""

    code = "tools_unsupported"


class ClientToolsLlm:
    """`llm`, plus calls of the client's own Home Assistant service tool for commands the offline agent knows."""

    def __init__(
        self,
        llm: LlmEngine,
        offline: OfflineAgent | None,
        *,
        offline_first: bool = True,
        language: str = "en",
    ) -> None:
        self.llm = llm
        self.name = llm.name
        self.capabilities = llm.capabilities
        self.offline = offline
        # With a model that can call tools, commands still go offline first unless that is turned off.
        self.offline_first = offline_first or not llm.capabilities.tool_calling
        self.language = language

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        raise ConfigError("ClientToolsLlm wraps a loaded engine; it is not configured on its own")

    async def warm_up(self) -> None:
        await self.llm.warm_up()

    async def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[LlmChunk]:
        own = await self._answer(messages, tools, tool_choice) or self._exact(messages, tool_choice)
        if own is not None:
            yield own
            return
        forced = tool_choice is not None and tool_choice not in ("auto", "none")
        if forced and tools and not self.llm.capabilities.tool_calling:
            model = self.llm.capabilities.model
            raise ToolsUnsupported(
                f"the model {model!r} cannot call tools, and the offline agent did not recognise a command"
                f" for them; tool_choice {tool_choice!r} cannot be honoured",
                details={"model": model, "tool_choice": tool_choice, "tools": [t.name for t in tools]},
            )
        async for chunk in self.llm.chat(
            messages, tools=tools, tool_choice=tool_choice, max_tokens=max_tokens, temperature=temperature
        ):
            yield chunk

    async def aclose(self) -> None:
        """The wrapped engine belongs to whoever made it."""

    async def _answer(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], tool_choice: str | None
    ) -> LlmChunk | None:
        """A call of the client's service tool, or the confirmation of one made here; None: the LLM answers."""
        if not messages:
            return None
        if messages[-1].role == "tool":
            return self._confirmation(messages)
        tool = service_tool(tools)
        if (
            tool is None
            or messages[-1].role != "user"
            or self.offline is None
            or not self.offline_first
            or tool_choice not in (None, "auto", "required", tool.name)
        ):
            return None
        entities = listed_entities(messages) or _known(self.offline)
        if not entities:
            return None
        found = await self._match(messages[-1].content, entities)
        if found is None:
            return None
        calls = service_calls(found, entities)
        if not calls:
            return None
        call = ToolCall(f"{CALL_PREFIX}{uuid.uuid4().hex[:20]}", tool.name, json.dumps({"list": calls}))
        logger.info(
            "offline agent: %s as a call of the client's %s",
            found.intent,
            tool.name,
            extra={"intent": found.intent, "tool": tool.name, "arguments": call.arguments_json},
        )
        return LlmChunk(tool_calls=(call,), finish_reason="tool_calls", usage=_NO_TOKENS)

    def _exact(self, messages: Sequence[ChatMessage], tool_choice: str | None) -> LlmChunk | None:
        """Arithmetic, a conversion or a date, answered exactly (`voxhub.agent.exact`) as on every surface."""
        if (
            not messages
            or messages[-1].role != "user"
            or self.offline is None
            or not self.offline_first
            or self.language != "en"
            or tool_choice not in (None, "auto", "none")
        ):
            return None
        exact = solve(messages[-1].content, date.today())
        return None if exact is None else LlmChunk(exact.text, finish_reason="stop", usage=_NO_TOKENS)

    def _confirmation(self, messages: Sequence[ChatMessage]) -> LlmChunk | None:
        """After the client ran calls made here: what it did, in a sentence."""
        start = len(messages)
        while start > 0 and messages[start - 1].role == "tool":
            start -= 1
        if start == 0 or not messages[start - 1].tool_calls:
            return None
        calls = messages[start - 1].tool_calls
        results = messages[start:]
        # A legacy `function_call` has no id to recognise; a model that cannot call tools did not make it.
        legacy = all(call.id.startswith("call_legacy_") for call in calls)
        ours = all(call.id.startswith(CALL_PREFIX) for call in calls)
        if not ours and not (legacy and not self.llm.capabilities.tool_calling):
            return None
        text = confirmation(calls, results, listed_entities(messages))
        return LlmChunk(text, finish_reason="stop", usage=_NO_TOKENS)

    async def _match(self, text: str, entities: Sequence[ListedEntity]) -> IntentMatch | None:
        assert self.offline is not None
        base = self.offline.matcher(self.language) or self.offline.matcher("en")
        if base is None:
            return None
        matcher = await _scoped(base, tuple(entities))
        return await asyncio.to_thread(matcher.match, text)


def _known(offline: OfflineAgent) -> list[ListedEntity]:
    """Without a list from the client, the devices the offline agent read from Home Assistant."""
    return [
        ListedEntity(entity.entity_id, entity.name, entity.state, entity.aliases)
        for entity in offline.entities.values()
    ]


_Names = tuple[tuple[str, str, tuple[str, ...]], ...]
_scoped_matchers: OrderedDict[tuple[int, _Names], IntentMatcher] = OrderedDict()


async def _scoped(base: IntentMatcher, entities: tuple[ListedEntity, ...]) -> IntentMatcher:
    """`base` knowing only these entities' names, compiled once per device list (a client sends the same)."""
    key = (id(base), tuple((e.entity_id, e.name, e.aliases) for e in entities))  # states change, names stay
    matcher = _scoped_matchers.get(key)
    if matcher is None:  # two requests at once may both compile it: harmless, the last one is kept
        matcher = copy.copy(base)  # shares the compiled sentences; its own entity names
        speakable = [state for entity in entities for state in entity.speakable()]
        await asyncio.to_thread(matcher.set_entities, speakable)
        _scoped_matchers[key] = matcher
        while len(_scoped_matchers) > _MATCHERS_KEPT:
            _scoped_matchers.popitem(last=False)
    _scoped_matchers.move_to_end(key)
    return matcher
