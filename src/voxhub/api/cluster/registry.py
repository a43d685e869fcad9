"""Which instance holds which live session, in Redis: a session opened on a second connection moves there.

Opening a session claims `session:<id>` for this instance on a lease (renewed with the slots). When the
session was live elsewhere, that instance is told on its channel `instance:<name>` and closes its
connection with 4409 `session moved`; the newest connection wins, so a client that reconnects (through
the load balancer, perhaps to another instance) never waits for the old one to time out. History,
persona and profile are in the shared store (PostgreSQL), so the new instance continues the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from voxhub.api.cluster.link import REDIS_ERRORS, RedisLink, stopping

_log = logging.getLogger("voxhub.cluster")

# KEYS[1] the session's key; ARGV instance, lease ms → the previous holder ('' when none)
_CLAIM = """
local old = redis.call('GET', KEYS[1]) or ''
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return old
"""

# KEYS the sessions' keys; ARGV instance, lease ms → the keys now held by another instance
_RENEW = """
local lost = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == false or holder == ARGV[1] then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  else
    table.insert(lost, key)
  end
end
return lost
"""

# KEYS[1] the session's key; ARGV instance: deleted only when still ours
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

Moved = Callable[[], None]


class SessionRegistry:
    """This instance's live sessions, registered cluster-wide; `moved` callbacks close local holders."""

    def __init__(self, link: RedisLink, instance: str, lease_secs: float) -> None:
        self.link = link
        self.instance = instance
        self.lease_ms = int(lease_secs * 1000)
        self._claim = link.client.register_script(_CLAIM)
        self._renew = link.client.register_script(_RENEW)
        self._release = link.client.register_script(_RELEASE)
        self._local: dict[str, list[Moved]] = {}  # session id → its connections here, oldest first
        self.on_lost: Callable[[str], None] | None = None  # told of a session another instance took

    def _key(self, session_id: str) -> str:
        return self.link.key("session", session_id)

    @property
    def channel(self) -> str:
        return self.link.key("instance", self.instance)

    def sessions(self) -> list[str]:
        return sorted(self._local)

    async def claim(self, session_id: str, moved: Moved) -> str | None:
        """Hold `session_id` here; earlier holders (here or elsewhere) are moved. The other instance it was
        live on, if any. Local bookkeeping happens even when Redis fails (which then raises)."""
        for earlier in self._local.pop(session_id, []):
            earlier()
        self._local[session_id] = [moved]
        if not self.link.up:
            return None
        old = await self._claim(keys=[self._key(session_id)], args=[self.instance, self.lease_ms])
        holder = old.decode() if isinstance(old, bytes) else str(old)
        if holder and holder != self.instance:
            await self.link.client.publish(self.link.key("instance", holder), session_id)
            _log.info("session moved here", extra={"session_id": session_id, "from_instance": holder})
            return holder
        return None

    async def release(self, session_id: str, moved: Moved) -> None:
        """The connection holding `session_id` ended (a moved one releases nothing in Redis)."""
        holders = self._local.get(session_id)
        if holders is None or moved not in holders:
            return
        holders.remove(moved)
        if holders:
            return
        del self._local[session_id]
        if self.link.up:
            with contextlib.suppress(*REDIS_ERRORS):
                await self._release(keys=[self._key(session_id)], args=[self.instance])

    def moved_away(self, session_id: str) -> None:
        """Another instance took `session_id`: close its connections here (and `on_lost`)."""
        for holder in self._local.pop(session_id, []):
            holder()
        if self.on_lost is not None:
            self.on_lost(session_id)

    async def renew(self) -> None:
        """Extend the leases of the sessions held here; a session taken meanwhile is moved away."""
        if not self._local:
            return
        ids = list(self._local)
        lost = await self._renew(keys=[self._key(s) for s in ids], args=[self.instance, self.lease_ms])
        prefix = len(self.link.key("session", ""))
        for key in lost:
            self.moved_away((key.decode() if isinstance(key, bytes) else str(key))[prefix:])

    async def listen(self) -> None:
        """Hear of sessions taken from this instance, until cancelled; errors mark Redis down and retry."""
        while not stopping():
            pubsub = self.link.client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while not stopping():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                    if message is not None and message.get("type") == "message":
                        data = message["data"]
                        self.moved_away(data.decode() if isinstance(data, bytes) else str(data))
            except REDIS_ERRORS as exc:
                self.link.lost(exc)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(*REDIS_ERRORS):
                    await pubsub.aclose()
