"""What a webhook costs: the outbox write an event waits for (`Webhooks.emit`), then delivery throughput.

    .venv/bin/python benchmarks/webhooks.py [--events 2000] [--postgres postgresql://postgres@127.0.0.1/postgres]

On each store backend (SQLite in a temporary directory; PostgreSQL in a database of this run's own, dropped
after): `emit` of final transcripts for one receiver, 20 sessions in turn, after a warm-up of 100, with no
worker running (the write alone, p50/p95/p99 ms); then a worker started against a local receiver that
answers 204 at once delivers them all: events per second, signing and marking included.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from pydantic import SecretStr

from voxhub.api.webhooks import RetrySchedule, Webhooks
from voxhub.sessions.outbox import Outbox
from voxhub.sessions.store import open_store
from voxhub.settings.webhooks import WebhookSetting

SESSIONS = 20
WARM_UP = 100


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {cuts[49]:.3f}  p95 {cuts[94]:.3f}  p99 {cuts[98]:.3f} ms"


async def receiver(expected: int) -> tuple[asyncio.Server, int, asyncio.Event]:
    count = [0]
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            count[0] += 1
            if count[0] >= expected:
                done.set()
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], done


async def measure(url: str, events: int) -> tuple[list[float], float]:
    server, port, delivered = await receiver(events + WARM_UP)
    store = await open_store(url)
    target = WebhookSetting(url=f"http://127.0.0.1:{port}/hook", secret=SecretStr("bench"))
    webhooks = Webhooks(Outbox(store), [target], RetrySchedule(0.01, 0.1))
    emits: list[float] = []
    try:
        for n in range(events + WARM_UP):
            body = {
                "type": "transcript",
                "session_id": f"bench-{n % SESSIONS}",
                "timestamp": time.time(),
                "turn_id": f"t{n}",
                "data": {"text": "What's the weather like tomorrow?", "is_final": True, "language": "en"},
            }
            started = time.perf_counter()
            await webhooks.emit(body)
            if n >= WARM_UP:
                emits.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await webhooks.start()
        await delivered.wait()
        rate = (events + WARM_UP) / (time.perf_counter() - started)
    finally:
        await webhooks.aclose()
        await store.close()
        server.close()
    return emits, rate


async def run(events: int, admin_url: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        emits, rate = await measure(f"sqlite:///{Path(folder) / 'voxhub.db'}", events)
    print(f"sqlite      emit  {percentiles(emits)}   delivery {rate:.0f} events/s")
    name = f"voxhub_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        emits, rate = await measure(urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}")), events)
        print(f"postgresql  emit  {percentiles(emits)}   delivery {rate:.0f} events/s")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.postgres))


if __name__ == "__main__":
    main()
