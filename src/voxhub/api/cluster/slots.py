"""Cluster-wide limits in Redis: connection slots held on leases, and per-client turn budgets.

A slot is a member of one sorted set scored by the time its lease ends. Taking one is one Lua script
(drop lapsed leases, count, add), so two instances never both take the last slot. Every instance renews
the leases of the slots it holds every third of `cluster_lease_secs`; a crashed instance stops renewing,
and its slots lapse within one lease. Times are the instances' own clocks (unix seconds), so their clocks
must agree to well within a lease (NTP does).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

from voxhub.api.cluster.link import RedisLink

# KEYS[1] the slots; ARGV now, lease end, member, cap → {taken (0/1), slots in use}
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local used = redis.call('ZCARD', KEYS[1])
if used >= tonumber(ARGV[4]) then return {0, used} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return {1, used + 1}
"""

# KEYS[1] the slots; ARGV now, lease end, members... → slots in use. Re-adds members lost with Redis.
_RENEW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i]) end
return redis.call('ZCARD', KEYS[1])
"""

# KEYS[1] the client's bucket; ARGV now, tokens per second, burst, ttl ms → seconds to wait (0: spent one)
_BUCKET = """
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return tostring(wait)
"""


@dataclass(frozen=True)
class Admission:
    """The answer to a slot request: taken or not, and the slots then in use cluster-wide."""

    taken: bool
    used: int
    member: str = ""


class ClusterSlots:
    """This instance's leases on the cluster's `cap` connection slots."""

    def __init__(
        self,
        link: RedisLink,
        instance: str,
        cap: int,
        lease_secs: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.link = link
        self.instance = instance
        self.cap = cap
        self.lease_secs = lease_secs
        self._clock = clock
        self._key = link.key("slots")
        self._held: set[str] = set()
        self._ids = itertools.count(1)
        self._acquire = link.client.register_script(_ACQUIRE)
        self._renew = link.client.register_script(_RENEW)
        self.used = 0  # cluster-wide, as of the last answer from Redis

    @property
    def held(self) -> int:
        return len(self._held)

    async def acquire(self) -> Admission:
        """Take a slot on a fresh lease, or say the cluster is full. Raises what Redis raises."""
        now = self._clock()
        member = f"{self.instance}:{next(self._ids)}"
        taken, used = await self._acquire(
            keys=[self._key], args=[now, now + self.lease_secs, member, self.cap]
        )
        self.used = int(used)
        if not taken:
            return Admission(False, self.used)
        self._held.add(member)
        return Admission(True, self.used, member)

    def forget(self, member: str) -> bool:
        """Stop renewing `member`; True when it was held (then `release` it in Redis)."""
        if member in self._held:
            self._held.discard(member)
            return True
        return False

    async def release(self, member: str) -> None:
        """Give `member` back at once (a slot not given back lapses with its lease anyway)."""
        self.forget(member)
        await self.link.client.zrem(self._key, member)

    async def renew(self) -> int:
        """Extend every held lease by `lease_secs` (adding back any Redis lost); the slots in use."""
        now = self._clock()
        used = await self._renew(keys=[self._key], args=[now, now + self.lease_secs, *sorted(self._held)])
        self.used = int(used)
        return self.used

    async def in_use(self) -> int:
        """Slots held cluster-wide now (lapsed leases not counted)."""
        now = self._clock()
        self.used = int(await self.link.client.zcount(self._key, f"({now}", "+inf"))
        return self.used


class ClusterRates:
    """A token bucket per client address in Redis: `per_minute` turns, bursts of `burst`, all instances."""

    def __init__(
        self, link: RedisLink, per_minute: float, burst: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.link = link
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._bucket = link.client.register_script(_BUCKET)
        # An idle bucket refills in burst/rate seconds; after that its key is worth nothing.
        self._ttl_ms = max(1000, int(1000 * self._burst / self._rate) + 1000)

    async def retry_after_secs(self, client: str) -> float | None:
        """Spend one turn of `client`'s budget: None when it had one, else the seconds until it will."""
        wait = await self._bucket(
            keys=[self.link.key("rate", client)], args=[self._clock(), self._rate, self._burst, self._ttl_ms]
        )
        seconds = float(wait)
        return None if seconds <= 0 else seconds
