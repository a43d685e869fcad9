"""A scripted Wyoming server for the `wyoming` engines' tests: it records what it hears, answers from a script."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from wyoming.event import Event
from wyoming.server import AsyncEventHandler, AsyncTcpServer

# Given each event received and the double, the events to answer with (None: close the connection).
Script = Callable[[Event, "WyomingDouble"], list[Event] | None]


@dataclass
class WyomingDouble:
    script: Script
    port: int = 0
    received: list[Event] = field(default_factory=list)
    heard: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def host(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def types(self) -> list[str]:
        return [event.type for event in self.received]

    async def wait_for(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(30):
            async with self.heard:
                await self.heard.wait_for(done)


class _Handler(AsyncEventHandler):
    def __init__(self, double: WyomingDouble, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self._double = double

    async def handle_event(self, event: Event) -> bool:
        async with self._double.heard:
            self._double.received.append(event)
            self._double.heard.notify_all()
        answers = self._double.script(event, self._double)
        if answers is None:
            return False
        for answer in answers:
            await self.write_event(answer)
        return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def wyoming_double(script: Script) -> AsyncIterator[WyomingDouble]:
    double = WyomingDouble(script, free_port())
    server = AsyncTcpServer("127.0.0.1", double.port)
    await server.start(lambda reader, writer: _Handler(double, reader, writer))
    try:
        yield double
    finally:
        await server.stop()
