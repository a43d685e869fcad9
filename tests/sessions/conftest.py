"""A session store in a fresh data directory, and a manager over it driven by a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from voxhub.config import Settings
from voxhub.sessions import SessionManager, SessionStore


@dataclass
class FakeClock:
    """Unix time that moves only when the test says so."""

    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[SessionStore]:
    opened = await SessionStore.open(settings.sqlite_path)
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def manager(store: SessionStore, settings: Settings, clock: FakeClock) -> SessionManager:
    return SessionManager(store, settings, clock=clock)
