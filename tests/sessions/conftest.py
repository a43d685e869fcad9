"""A session store on each backend (SQLite in a fresh data directory, PostgreSQL in a database of this run's
own), and a manager over it driven by a clock the test moves.

PostgreSQL runs on this machine (`.ci/run` starts it): VOXHUB_TEST_POSTGRES_URL names a database to connect
to for creating the run's database, by default `postgresql://postgres@127.0.0.1:5432/postgres`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from voxhub.config import Settings
from voxhub.sessions import SessionManager, Store, open_store

ADMIN_URL = os.environ.get("VOXHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class FakeClock:
    """Unix time that moves only when the test says so."""

    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database made for this test run, with a unique name, dropped when the run ends."""
    name = f"voxhub_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _with_database(ADMIN_URL, name)
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def empty_postgres(url: str) -> None:
    """The run's database emptied of every table, so each test starts as on a fresh install."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, settings: Settings) -> str:
    """The URL of an empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{settings.sqlite_path}"
    url: str = request.getfixturevalue("postgres_url")
    empty_postgres(url)
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await open_store(database_url)
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def manager(store: Store, settings: Settings, clock: FakeClock) -> SessionManager:
    return SessionManager(store, settings, clock=clock)
