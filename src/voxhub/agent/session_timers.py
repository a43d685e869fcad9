"""Each session's timers, outliving the conversation that set them, and where they ring.

A timer set in a one-shot REST turn (`/process`, `/offline/chat`, `POST /sessions/{id}/text`) would die with the
turn's conversation; here it belongs to the session instead. When it runs out it rings on every conversation
of that session open at the time (the announcement spoken and shown, plus a `timer_finished` event on its
socket) and, if `homeassistant_timer_notify` names a service, as a Home Assistant notification too.

With a `TimerStore`, each timer is a row of the session store from the moment it starts until it is
cancelled or rings, and `restore` (at start-up) arms every stored timer again for the time it has left. One
whose end passed while voxhub was down rings at once: through Home Assistant straight away, and on the
session's conversations when the first one opens (its sockets were cut by the restart). Whoever rings a
timer first deletes its row (`TimerStore.claim`); an instance that finds the row gone stays silent, so
instances sharing a store that all restored a timer ring it once. A restored timer that no conversation of
this instance would hear waits `CLAIM_GRACE_SECS` before claiming, so the instance holding the session's
sockets (which claims at once) is the one that rings it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from voxhub.agent.homeassistant import HomeAssistantClient
from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.timers import Clock, Sleep, Timer, TimerService
from voxhub.sessions.timer_store import StoredTimer, TimerStore

logger = logging.getLogger(__name__)
T = TypeVar("T")
CLAIM_GRACE_SECS = 2.0  # a restored timer no conversation here hears waits this long for one that does
# Instances sharing a store look for timers set elsewhere this often, so a dead instance's timers ring on
# another one (late by at most this much if they ran out meanwhile) without waiting for a restart.
RESCAN_SECS = 30.0

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
        store: TimerStore | None = None,
        claim_grace_secs: float = CLAIM_GRACE_SECS,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.notify = notify
        self.store = store
        self.claim_grace_secs = claim_grace_secs
        self._clock = clock
        self._sleep = sleep
        self._services: dict[str, TimerService] = {}
        self._listeners: dict[str, list[Ring]] = {}
        self._keys: dict[tuple[str, str], str] = {}  # (session, timer id) → its row in the store
        self._restored: set[tuple[str, str]] = set()
        self._missed: dict[str, list[Timer]] = {}  # restored timers that rang with no conversation open
        self._last_write: asyncio.Task[Any] | None = None
        self._writes: set[asyncio.Task[Any]] = set()
        self._ringing: set[asyncio.Task[Any]] = set()
        self._gone: set[str] = set()  # rows this instance cancelled or rang, maybe not deleted yet
        self._rescan: asyncio.Task[None] | None = None

    def of(self, session_id: str) -> TimerService:
        """The session's timers (made on first use)."""
        service = self._services.get(session_id)
        if service is None:
            service = TimerService(clock=self._clock, sleep=self._sleep)
            service.on_fired = lambda timer: self._ring(session_id, timer)
            if self.store is not None:
                service.on_started = lambda timer: self._saved(session_id, timer)
                service.on_cancelled = lambda timer: self._deleted(session_id, timer)
            self._services[session_id] = service
        return service

    async def restore(self) -> int:
        """Every timer in the store armed again for the time it has left (at once if overdue); how many."""
        if self.store is None:
            return 0
        count = 0
        rows = await self.store.all()
        self._gone &= {row.key for row in rows}  # forgotten once their rows are deleted
        known = set(self._keys.values())
        for row in rows:
            if row.key in known or row.key in self._gone:
                continue
            timer = Timer(row.timer_id, row.name, row.duration_secs, row.ends_at)
            timer = self.of(row.session_id).restore(timer)
            self._keys[(row.session_id, timer.id)] = row.key
            self._restored.add((row.session_id, timer.id))
            count += 1
        if count:
            logger.info("%d timers restored from the session store", count)
        return count

    def rescan_every(self, every_secs: float = RESCAN_SECS) -> None:
        """Look in the store for timers set by other instances every `every_secs` (restore() each time)."""
        if self.store is None or self._rescan is not None:
            return

        async def rescan() -> None:
            while True:
                await self._sleep(every_secs)
                try:
                    await self.restore()
                except Exception as exc:  # the store is away for now: the next look may work
                    logger.warning("the stored timers could not be read: %s", exc)

        self._rescan = asyncio.create_task(rescan(), name="voxhub-timer-rescan")

    async def flush(self) -> None:
        """Every store write asked for so far done."""
        if self._last_write is not None:
            await asyncio.wait({self._last_write})

    async def settle(self) -> None:
        """Timers that have run out done ringing (or found rung elsewhere), and every store write done."""
        await asyncio.sleep(0)  # timers woken just now reach `_ring`
        while busy := self._ringing | self._writes:
            await asyncio.wait(busy)

    def attach(self, session_id: str, ring: Ring) -> Callable[[], Awaitable[None]]:
        """`ring` hears the session's timers until the returned function is awaited (the conversation closed)."""
        listeners = self._listeners.setdefault(session_id, [])
        listeners.append(ring)
        for timer in self._missed.pop(session_id, ()):
            self._background(self._announce(session_id, ring, timer))

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
        self._missed.pop(session_id, None)
        for key in [k for k in self._keys if k[0] == session_id]:
            self._keys.pop(key, None)
            self._restored.discard(key)
        store = self.store
        if store is not None:
            with contextlib.suppress(Exception):  # logged by `_serial`
                await self._serial(lambda: store.delete_session(session_id))

    async def aclose(self) -> None:
        """Timers stop here; their rows stay in the store for the next start."""
        if self._rescan is not None:
            self._rescan.cancel()
            await asyncio.gather(self._rescan, return_exceptions=True)
            self._rescan = None
        services = list(self._services.values())
        self._services.clear()
        await asyncio.gather(*(s.aclose() for s in services), return_exceptions=True)
        await self.flush()

    def _saved(self, session_id: str, timer: Timer) -> None:
        store = self.store
        assert store is not None
        key = uuid.uuid4().hex
        self._keys[(session_id, timer.id)] = key
        row = StoredTimer(
            key, session_id, timer.id, timer.name, timer.duration_secs, timer.ends_at, self._clock()
        )
        self._serial(lambda: store.save(row))

    def _deleted(self, session_id: str, timer: Timer) -> None:
        store = self.store
        key = self._keys.pop((session_id, timer.id), None)
        self._restored.discard((session_id, timer.id))
        if key is not None:
            self._gone.add(key)
        if store is not None and key is not None:
            self._serial(lambda: store.claim(key))

    async def _claimed(self, session_id: str, timer: Timer) -> bool:
        """Whether this instance rings the timer: its row was still in the store, and is deleted now."""
        store = self.store
        key = self._keys.pop((session_id, timer.id), None)
        if key is not None:
            self._gone.add(key)
        if store is None or key is None:
            return True
        try:
            return await self._serial(lambda: store.claim(key))
        except Exception:
            return True  # the store is unreachable: better twice than never

    def _serial(self, write: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """`write` run after the writes asked for before it (a timer's row is saved before it is deleted)."""
        previous = self._last_write

        async def run() -> T:
            if previous is not None and not previous.done():
                await asyncio.wait({previous})
            return await write()

        task = self._background(run())
        self._last_write = task
        return task

    def _background(self, work: Awaitable[T]) -> asyncio.Task[T]:
        task: asyncio.Task[T] = asyncio.ensure_future(work)
        self._writes.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.warning("keeping timers in the session store failed: %s", error)

    async def _announce(self, session_id: str, ring: Ring, timer: Timer) -> None:
        try:
            await ring(timer)
        except Exception:
            logger.exception("announcing timer %s on session %s failed", timer.id, session_id)

    async def _ring(self, session_id: str, timer: Timer) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._ringing.add(task)
        try:
            await self._ring_once(session_id, timer)
        finally:
            if task is not None:
                self._ringing.discard(task)

    async def _ring_once(self, session_id: str, timer: Timer) -> None:
        restored = (session_id, timer.id) in self._restored
        self._restored.discard((session_id, timer.id))
        if restored and not self.listening(session_id) and self.store is not None:
            # maybe another instance's timer, restored here too: the one with the session's sockets rings it
            await self._sleep(self.claim_grace_secs)
        if not await self._claimed(session_id, timer):
            logger.info("timer %s rang on another instance", timer.id)
            return
        listeners = list(self._listeners.get(session_id, ()))
        for ring in listeners:
            await self._announce(session_id, ring, timer)
        if restored and not listeners:
            self._missed.setdefault(session_id, []).append(timer)
        if self.notify is not None:
            await self.notify(timer)
        service = self._services.get(session_id)
        if service is not None and not service.timers() and not self.listening(session_id):
            self._services.pop(session_id, None)
