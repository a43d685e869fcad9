"""Each session's timers, outliving the conversation that set them, and where they ring.

A timer set in a one-shot REST turn (`/process`, `/offline/chat`, `POST /sessions/{id}/text`) would die with the
turn's conversation; here it belongs to the session instead. When it runs out it rings on every conversation
of that session open at the time (the announcement spoken and shown, plus a `timer_finished` event on its
socket) and, if `homeassistant_timer_notify` names a service, as a Home Assistant notification too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from voxhub.agent.homeassistant import HomeAssistantClient
from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.timers import Clock, Sleep, Timer, TimerService

logger = logging.getLogger(__name__)

Ring = Callable[[Timer], Awaitable[None]]


def timer_event(timer: Timer) -> dict[str, Any]:
    """The `timer_finished` event's data."""
    return {
        "id": timer.id,
        "name": timer.name,
        "label": timer.label,
        "duration_secs": timer.duration_secs,
        "text": timer.announcement,
    }


class HomeAssistantNotifier:
    """Rings a timer as a Home Assistant notification: `notify.<target>` or `persistent_notification.create`."""

    def __init__(self, client: HomeAssistantClient, service: str) -> None:
        domain, _, name = service.partition(".")
        if not domain or not name:
            raise ValueError(f"a Home Assistant service is domain.service, not {service!r}")
        self.client = client
        self.domain, self.service = domain, name

    async def __call__(self, timer: Timer) -> None:
        data = {"title": "Timer", "message": timer.announcement}
        if self.domain == "persistent_notification":
            data["notification_id"] = f"voxhub_timer_{timer.id}"
        try:
            await self.client.call_service(self.domain, self.service, data)
        except ToolError as error:
            logger.warning("timer notification through Home Assistant failed: %s", error.message)


class SessionTimers:
    """One TimerService per session; conversations attach to hear its timers ring while they are open."""

    def __init__(
        self,
        notify: Ring | None = None,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.notify = notify
        self._clock = clock
        self._sleep = sleep
        self._services: dict[str, TimerService] = {}
        self._listeners: dict[str, list[Ring]] = {}

    def of(self, session_id: str) -> TimerService:
        """The session's timers (made on first use)."""
        service = self._services.get(session_id)
        if service is None:
            service = TimerService(clock=self._clock, sleep=self._sleep)
            service.on_fired = lambda timer: self._ring(session_id, timer)
            self._services[session_id] = service
        return service

    def attach(self, session_id: str, ring: Ring) -> Callable[[], Awaitable[None]]:
        """`ring` hears the session's timers until the returned function is awaited (the conversation closed)."""
        listeners = self._listeners.setdefault(session_id, [])
        listeners.append(ring)

        async def detach() -> None:
            with contextlib.suppress(ValueError):
                listeners.remove(ring)
            if not listeners:
                self._listeners.pop(session_id, None)
                service = self._services.get(session_id)
                if service is not None and not service.timers():
                    self._services.pop(session_id, None)

        return detach

    def listening(self, session_id: str) -> int:
        return len(self._listeners.get(session_id, ()))

    async def drop(self, session_id: str) -> None:
        """The session is gone: its timers stop."""
        service = self._services.pop(session_id, None)
        if service is not None:
            await service.aclose()

    async def aclose(self) -> None:
        services = list(self._services.values())
        self._services.clear()
        await asyncio.gather(*(s.aclose() for s in services), return_exceptions=True)

    async def _ring(self, session_id: str, timer: Timer) -> None:
        for ring in list(self._listeners.get(session_id, ())):
            try:
                await ring(timer)
            except Exception:
                logger.exception("announcing timer %s on session %s failed", timer.id, session_id)
        if self.notify is not None:
            await self.notify(timer)
        service = self._services.get(session_id)
        if service is not None and not service.timers() and not self.listening(session_id):
            self._services.pop(session_id, None)
