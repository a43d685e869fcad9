"""The conversation's memory: a turn being committed is still waited for by the next one."""

from __future__ import annotations

import asyncio

from voxhub.engines.llm.base import ChatMessage
from voxhub.pipeline.memory import CompletedTurn, ConversationMemory


async def test_the_next_turn_waits_for_an_answer_still_being_committed() -> None:
    store_written = asyncio.Event()

    async def slow_commit(turn: CompletedTurn) -> None:
        await store_written.wait()

    memory = ConversationMemory([], slow_commit)
    memory.begin("turn_1", [ChatMessage("user", "Hi")])
    settling = asyncio.create_task(memory.settle("turn_1", "Hello!", interrupted=False))
    await asyncio.sleep(0)  # the commit has started and is waiting on the store

    waiting = asyncio.create_task(memory.wait_settled("turn_1"))
    await asyncio.sleep(0.05)
    assert not waiting.done()

    store_written.set()
    await settling
    await waiting
    assert [message.content for message in memory.messages] == ["Hi", "Hello!"]
