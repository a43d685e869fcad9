"""The connection to Redis shared by the cluster's parts, and whether it is up: one warning when it goes,
one line when it comes back; while it is down every part answers from this instance alone."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from voxhub.errors import VoxhubError

if TYPE_CHECKING:
    from redis.asyncio import Redis

_log = logging.getLogger("voxhub.cluster")


def _redis_errors() -> tuple[type[BaseException], ...]:
    """What a lost or refusing Redis raises through the asyncio client (the package is an extra)."""
    try:
        exceptions = importlib.import_module("redis.exceptions")
    except ImportError:
        return (OSError, TimeoutError)
    return (exceptions.RedisError, OSError, TimeoutError)


REDIS_ERRORS = _redis_errors()


class RedisMissing(VoxhubError):
    code = "redis_missing"


class RedisLink:
    """A Redis client plus the up/down state every cluster part consults before it waits on Redis."""

    def __init__(self, url: str, prefix: str, client: Redis | None = None) -> None:
        self.url = url
        self.prefix = prefix
        self.client: Redis = client or _client(url)
        self.up = False
        self._warned = False

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def connect(self) -> bool:
        """Ping Redis; up when it answers (logged once after an outage), else the one warning."""
        try:
            await self.client.ping()
        except REDIS_ERRORS as exc:
            self.lost(exc)
            return False
        if not self.up:
            if self._warned:
                _log.warning("redis is reachable again: cluster-wide limits, registry and events resume")
            self.up = True
            self._warned = False
        return True

    def lost(self, exc: BaseException) -> None:
        """Redis failed: warn once per outage, and let every part fall back to local state."""
        self.up = False
        if not self._warned:
            self._warned = True
            _log.warning(
                "redis unreachable, falling back to this instance's local limits and events: %s",
                exc or type(exc).__name__,
                extra={"redis_url": _redacted(self.url)},
            )

    async def aclose(self) -> None:
        await self.client.aclose()


def _redacted(url: str) -> str:
    """The URL without a password."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def _client(url: str) -> Redis:
    try:
        from redis.asyncio import Redis
    except ImportError:
        raise RedisMissing(
            "redis_url is set but the redis package is missing: pip install 'voxhub[redis]'"
        ) from None
    return Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=3.0, retry_on_timeout=False)


def stopping() -> bool:
    """Whether the running task was asked to stop. The Redis client can swallow a cancellation that lands
    in a blocking read (XREAD BLOCK, a pub/sub wait), so the cluster's loops ask at each turn."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def stop_tasks(tasks: Sequence[asyncio.Task[None]], grace_secs: float = 3.0) -> None:
    """Cancel `tasks` and give them `grace_secs` to end (a blocking read ends within its timeout)."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=grace_secs)
