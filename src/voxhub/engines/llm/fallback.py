"""The LLM chain: `llm_engine` first, then `llm_fallbacks` in order, like LiveKit's FallbackAdapter.

A turn goes to the first member that is not cooling down. When a member fails before its first word
(connection refused, HTTP 5xx or 429, a timeout), the next one answers the same turn; the failed one is
skipped for `llm_fallback_cooldown_secs`, then tried again. A failure after the first word is not hidden: the
user already heard part of an answer, so the error goes to the caller (the brain then apologises).
Every switch is logged and travels in the stream as a chunk with a `notice` (the brain makes it an
`llm_switch` event).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from voxhub.engines.llm.base import ChatMessage, LlmCapabilities, LlmChunk, LlmEngine, ToolSpec
from voxhub.errors import ConfigError, EngineError, VoxhubError

if TYPE_CHECKING:
    from voxhub.config import Settings

logger = logging.getLogger(__name__)

LLM_SWITCH = "llm_switch"  # the notice's kind
# Statuses that say the request itself is wrong: the next member would refuse it too.
_REQUEST_FAULTS = frozenset({400, 413, 422})


def switchable(exc: BaseException) -> bool:
    """Whether another member should answer after this failure."""
    if isinstance(exc, TimeoutError):
        return True
    if not isinstance(exc, EngineError):
        return False
    return exc.details.get("status") not in _REQUEST_FAULTS


@dataclass
class Member:
    """One LLM of the chain: `engine` once loaded (`load` makes it on first need), and its cool-down."""

    label: str  # `qwen2.5:3b (Ollama)`, `SmolLM2-135M-Instruct (embedded)`
    engine: LlmEngine | None = None
    load: Callable[[], Awaitable[LlmEngine]] | None = None
    failed_until: float = 0.0
    last_error: str = ""

    def cooling(self, now: float) -> bool:
        return now < self.failed_until


class FallbackLlm:
    """Several LLMs answering as one; `answering` is the label of the one that answered last."""

    def __init__(
        self,
        members: Sequence[Member],
        *,
        name: str,
        cooldown_secs: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not members or members[0].engine is None:
            raise ConfigError("an LLM chain needs its first member loaded")
        self.members = list(members)
        self.name = name
        self.cooldown_secs = cooldown_secs
        self._clock = clock
        self._current = 0
        self._lock = asyncio.Lock()  # one lazy load at a time
        self.capabilities: LlmCapabilities = members[0].engine.capabilities

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        raise ConfigError("an LLM chain is built by voxhub.engines.llm.chain.load_llm")

    @property
    def answering(self) -> str:
        return self.members[self._current].label

    def status(self) -> list[dict[str, Any]]:
        """Each member: its label, and `answering`, `cooling down`, `standby` or `not loaded`."""
        now = self._clock()
        rows = []
        for index, member in enumerate(self.members):
            if index == self._current:
                state = "answering"
            elif member.cooling(now):
                state = "cooling down"
            else:
                state = "standby" if member.engine is not None else "not loaded"
            rows.append({"llm": member.label, "state": state, "last_error": member.last_error})
        return rows

    def next_up(self) -> list[Member]:
        """The members in the order the next turn tries them: those not cooling down first."""
        now = self._clock()
        ready = [member for member in self.members if not member.cooling(now)]
        return ready + [member for member in self.members if member.cooling(now)]

    async def warm_up(self) -> None:
        """The first member is warmed up when loaded; the others when first needed."""

    async def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[LlmChunk]:
        failures: list[str] = []
        previous = self._current
        for member in self.next_up():
            try:
                engine = await self.engine_of(member)
            except VoxhubError as exc:
                self._failed(member, exc.message)
                failures.append(f"{member.label}: {exc.message}")
                continue
            index = self.members.index(member)
            started = False
            try:
                chunks = engine.chat(
                    messages,
                    tools=tools,
                    tool_choice=tool_choice,
                    max_tokens=max_tokens,
                    temperature=temperature,
                )
                try:
                    async for chunk in chunks:
                        if not started:
                            started = True
                            notice = self._answered(index, previous, failures)
                            if notice is not None:
                                yield notice
                        yield chunk
                finally:
                    # At once, also when the caller stops reading (barge-in): the server stops generating.
                    close = getattr(chunks, "aclose", None)
                    if close is not None:
                        await close()
            except (EngineError, TimeoutError) as exc:
                if started or not switchable(exc):
                    raise
                reason = exc.message if isinstance(exc, VoxhubError) else "it timed out"
                self._failed(member, reason)
                failures.append(f"{member.label}: {reason}")
                continue
            if not started:  # an empty answer is still an answer
                notice = self._answered(index, previous, failures)
                if notice is not None:
                    yield notice
            return
        raise EngineError(
            "no LLM of the chain could answer: " + "; ".join(failures),
            details={"tried": [member.label for member in self.members]},
        )

    async def engine_of(self, member: Member) -> LlmEngine:
        """The member's engine, loaded now if it was not yet (as a turn that reaches it would)."""
        if member.engine is not None:
            return member.engine
        async with self._lock:
            if member.engine is None:
                if member.load is None:
                    raise ConfigError(f"{member.label} cannot be loaded")
                logger.info("loading the fallback LLM %s", member.label)
                member.engine = await member.load()
            return member.engine

    def _failed(self, member: Member, reason: str) -> None:
        member.failed_until = self._clock() + self.cooldown_secs
        member.last_error = reason
        logger.warning(
            "LLM %s failed: %s; it is skipped for %g s",
            member.label,
            reason,
            self.cooldown_secs,
            extra={"llm": member.label, "reason": reason},
        )

    def _answered(self, index: int, previous: int, failures: list[str]) -> LlmChunk | None:
        """Mark member `index` as the one answering; the notice of a switch, if this is one."""
        member = self.members[index]
        member.last_error = ""
        self._current = index
        assert member.engine is not None
        self.capabilities = member.engine.capabilities
        if index == previous:
            return None
        reason = "; ".join(failures) if failures else f"{member.label} answers again after its cool-down"
        logger.warning(
            "LLM switch: %s answers instead of %s (%s)",
            member.label,
            self.members[previous].label,
            reason,
            extra={"llm": member.label, "previous_llm": self.members[previous].label},
        )
        data = {"llm": member.label, "previous_llm": self.members[previous].label, "reason": reason}
        return LlmChunk(notice=(LLM_SWITCH, data))

    async def aclose(self) -> None:
        for member in self.members:
            if member.engine is not None:
                try:
                    await member.engine.aclose()
                except Exception:  # closing the others matters more
                    logger.exception("closing the LLM %s failed", member.label)
                member.engine = None
