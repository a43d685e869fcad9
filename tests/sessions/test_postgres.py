"""PostgreSQL only: migrations shared by many instances, and a server that restarts or vanishes mid-use.

A restart of the machine's PostgreSQL would disturb everything else using it, so these tests cut the store's
connections with `pg_terminate_backend` (what a restart does to them), or put a TCP relay of their own between
the store and the server and stop it (the server gone, then back on the same address).
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.sessions.conftest import empty_postgres
from voxhub.errors import ConfigError
from voxhub.sessions import HistoryMessage, open_store
from voxhub.sessions.errors import DatabaseUnavailable
from voxhub.sessions.store import LATEST


@pytest.fixture
def url(postgres_url: str) -> str:
    """The run's database, with no table in it."""
    empty_postgres(postgres_url)
    return postgres_url


def _terminate_store_connections(url: str) -> int:
    """Cut every other connection to the test database, as a server restart would; how many were cut."""
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


class Relay:
    """A TCP relay to PostgreSQL that the test can stop (dropping every connection) and start again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))


async def test_a_new_database_is_migrated_to_the_latest_version(url: str) -> None:
    store = await open_store(url)
    try:
        assert await store.schema_version() == LATEST
    finally:
        await store.close()


async def test_instances_starting_together_migrate_the_schema_once(url: str) -> None:
    stores = await asyncio.gather(*(open_store(url) for _ in range(4)))
    try:
        assert [await store.schema_version() for store in stores] == [LATEST] * 4
        with psycopg.connect(url) as reader:
            assert reader.execute("SELECT version FROM schema_version").fetchall() == [(LATEST,)]
    finally:
        for store in stores:
            await store.close()


async def test_without_migrate_on_start_an_old_schema_is_refused_with_the_command_to_run(url: str) -> None:
    await (await open_store(url)).close()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP TABLE documents")
        admin.execute("DROP TABLE webhook_outbox, webhook_leases")
        admin.execute("DROP TABLE timers")
        admin.execute("UPDATE schema_version SET version = 2")

    with pytest.raises(ConfigError, match="voxhub db migrate"):
        await open_store(url, migrate=False)

    store = await open_store(url)  # migrating, it adds what versions 3 and on bring
    try:
        await store.put_document("persona", "pirate", {"name": "pirate"}, 1.0)
        assert await store.schema_version() == LATEST
    finally:
        await store.close()


async def test_a_database_newer_than_this_voxhub_is_refused(url: str) -> None:
    await (await open_store(url)).close()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("UPDATE schema_version SET version = %s", (LATEST + 1,))

    with pytest.raises(ConfigError, match="newer than this voxhub"):
        await open_store(url)


async def test_writes_go_on_after_the_servers_connections_are_cut(url: str) -> None:
    store = await open_store(url, pool_size=3)
    try:
        await store.create_session("s1", {}, created_at=100.0)
        await asyncio.gather(*(store.message_count("s1") for _ in range(3)))  # fill the pool

        assert _terminate_store_connections(url) >= 1
        await store.append_messages("s1", [HistoryMessage("user", "still there?", created_at=101.0)])

        assert [m.content for m in await store.history("s1")] == ["still there?"]
    finally:
        await store.close()


async def test_a_vanished_server_fails_writes_with_database_unavailable_and_they_work_when_it_is_back(
    url: str,
) -> None:
    target = urlsplit(url)
    relay = Relay(target.hostname or "127.0.0.1", target.port or 5432)
    await relay.start()
    store = await open_store(_through(url, relay.port), timeout_secs=1.0)
    try:
        await store.create_session("s1", {}, created_at=100.0)
        await relay.stop()

        with pytest.raises(DatabaseUnavailable) as caught:  # not a hang: the test's timeout would end that
            await store.append_messages("s1", [HistoryMessage("user", "lost", created_at=101.0)])
        assert caught.value.code == "database_unavailable"
        assert caught.value.status_code == 503

        await relay.start()  # the server is back on the same address
        for _ in range(30):  # the pool reconnects with a backoff: until then a write still says unavailable
            try:
                await store.append_messages("s1", [HistoryMessage("user", "back", created_at=102.0)])
                break
            except DatabaseUnavailable:
                continue
        assert [m.content for m in await store.history("s1")] == ["back"]
    finally:
        await store.close()
        with contextlib.suppress(AssertionError, RuntimeError):
            await relay.stop()


async def test_an_unreachable_server_at_start_is_database_unavailable(url: str) -> None:
    relay = Relay("127.0.0.1", 9)
    await relay.start()
    port = relay.port
    await relay.stop()  # nothing listens on `port` now

    with pytest.raises(DatabaseUnavailable, match="cannot connect to PostgreSQL"):
        await open_store(_through(url, port), timeout_secs=1.0)
