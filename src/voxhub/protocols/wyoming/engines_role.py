"""`voxhub serve --role engines`: only the speech engines, over Wyoming, for other voxhub instances.

No LLM is loaded and no HTTP is served: `wyoming_port` offers asr, tts and wake (a `describe` lists just
those), so instances elsewhere set `stt_engine: wyoming` (and tts, wake) with this box as the host. A
`transcript` (Wyoming's `handle`, a conversation) is refused with an error event naming the role.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wyoming.event import Event
from wyoming.info import Info
from wyoming.server import AsyncTcpServer

from voxhub.api.limits import ConnectionTracker
from voxhub.api.metrics import Metrics
from voxhub.api.state import ServerState
from voxhub.config import Settings, env_name
from voxhub.engines.pool import EnginePool
from voxhub.engines.registry import Stage
from voxhub.errors import ConfigError, InputError
from voxhub.protocols.wyoming.access import listen_address
from voxhub.protocols.wyoming.admission import ClientLimit
from voxhub.protocols.wyoming.handler import Connection
from voxhub.protocols.wyoming.info import describe
from voxhub.sessions.manager import SessionManager
from voxhub.sessions.store import SqliteStore

logger = logging.getLogger(__name__)
ENGINE_STAGES: tuple[Stage, ...] = ("stt", "tts", "wake")


class NotServed(InputError):
    code = "not_served"


@dataclass(frozen=True, slots=True)
class _NoModel:
    model: str = "none"


@dataclass(frozen=True, slots=True)
class _NoLlm:
    """Stands in for the LLM `describe` names in its `handle` entry, which this role leaves out."""

    capabilities: _NoModel = _NoModel()


class _EnginesPool(EnginePool):
    async def get(self, stage: Stage, name: str | None = None) -> Any:
        if stage == "llm":
            return _NoLlm()
        return await super().get(stage, name)


class EnginesConnection(Connection):
    async def handle_event(self, event: Event) -> bool:
        if event.type == "describe":
            info = await describe(self._state)
            await self.write_event(Info(asr=info.asr, tts=info.tts, wake=info.wake).event())
            return True
        if event.type == "transcript":
            raise NotServed(
                "this voxhub serves speech engines only (`voxhub serve --role engines`): no conversation"
            )
        return await super().handle_event(event)


async def serve_engines(
    settings: Settings, stop: asyncio.Event, ready: Callable[[int], None] | None = None
) -> None:
    """Load stt, tts and wake, listen on `wyoming_host`:`wyoming_port` until `stop` is set."""
    pool = await _EnginesPool.load(settings, ENGINE_STAGES)
    store = await SqliteStore.open(Path(":memory:"))  # a conversation is never held here
    try:
        tracker = ConnectionTracker(settings.max_connections)
        manager = SessionManager(store, settings)
        state = ServerState(
            settings,
            pool,
            manager,
            tracker,
            Metrics(settings, tracker, lambda: manager.active_count),
            started_at=time.time(),
        )
        address = listen_address(settings, settings.wyoming_port)
        if address.warning is not None:
            logger.warning(address.warning, extra={"host": address.host, "port": settings.wyoming_port})
        tasks: set[asyncio.Task[None]] = set()
        clients = ClientLimit(settings.wyoming_max_connections_per_client)
        server = AsyncTcpServer(address.host, settings.wyoming_port)
        try:
            await server.start(lambda r, w: EnginesConnection(state, r, w, tasks, clients))
        except OSError as exc:
            raise ConfigError(
                f"wyoming_port ({env_name('wyoming_port')}): cannot listen on {address.host}:"
                f"{settings.wyoming_port}: {exc.strerror}",
                details={"setting": "wyoming_port", "port": settings.wyoming_port},
            ) from exc
        logger.info(
            "voxhub engines ready",
            extra={"host": address.host, "port": settings.wyoming_port, "engines": pool.loaded()},
        )
        if ready is not None:
            ready(settings.wyoming_port)
        try:
            await stop.wait()
        finally:
            await server.stop()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await pool.aclose()
        await store.close()
        logger.info("voxhub engines stopped")
