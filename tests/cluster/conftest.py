"""Redis for the cluster tests: the machine's at 127.0.0.1:6379 (`.ci/run` starts it), each test under a
key prefix of its own, deleted afterwards; VOXHUB_TEST_REDIS_URL names another."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from voxhub.api.cluster.link import RedisLink

REDIS_URL = os.environ.get("VOXHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class FakeClock:
    """Unix time that moves only when the test says so."""

    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def link() -> AsyncIterator[RedisLink]:
    """A link to the shared Redis under a fresh prefix, up; every key under it is deleted afterwards."""
    prefix = f"voxhub-test-{uuid.uuid4().hex[:10]}:"
    redis_link = RedisLink(REDIS_URL, prefix)
    assert await redis_link.connect(), f"Redis at {REDIS_URL} must be running for the cluster tests"
    yield redis_link
    keys = [key async for key in redis_link.client.scan_iter(match=prefix + "*")]
    if keys:
        await redis_link.client.delete(*keys)
    await redis_link.aclose()
