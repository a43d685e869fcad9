"""Per-turn cost of the history write on each store backend: SQLite (embedded) and PostgreSQL.

    .venv/bin/python benchmarks/store.py [--turns 2000] [--postgres postgresql://postgres@127.0.0.1/postgres]

A turn's write is what the session manager does after each answer: one `append_messages` of the user's and
the assistant's message (one transaction) and one `touch`. Each backend gets a fresh database (PostgreSQL: a
database of this run's own, dropped after), 20 sessions taking turns in order, and a warm-up of 100 turns;
then the script prints p50/p95/p99 in milliseconds per turn, and the same for one `history` read of the last
50 messages, for docs/benchmarks.md.
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

from voxhub.sessions import HistoryMessage, Store, open_store

SESSIONS = 20
WARM_UP = 100


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {cuts[49]:.3f}  p95 {cuts[94]:.3f}  p99 {cuts[98]:.3f} ms"


async def measure(store: Store, turns: int) -> tuple[list[float], list[float]]:
    ids = [f"bench-{n}" for n in range(SESSIONS)]
    for session_id in ids:
        await store.create_session(session_id, {"persona": "assistant"}, time.time())
    writes: list[float] = []
    reads: list[float] = []
    for turn in range(turns + WARM_UP):
        session_id = ids[turn % SESSIONS]
        now = time.time()
        messages = [
            HistoryMessage("user", "What's the weather like tomorrow?", turn_id=f"t{turn}", created_at=now),
            HistoryMessage(
                "assistant", "Tomorrow looks sunny, around 21 degrees.", turn_id=f"t{turn}", created_at=now
            ),
        ]
        started = time.perf_counter()
        await store.append_messages(session_id, messages)
        await store.touch(session_id, now)
        wrote = time.perf_counter()
        await store.history(session_id, 50)
        read = time.perf_counter()
        if turn >= WARM_UP:
            writes.append((wrote - started) * 1000)
            reads.append((read - wrote) * 1000)
    return writes, reads


async def run(turns: int, admin_url: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(f"sqlite:///{Path(folder) / 'voxhub.db'}")
        try:
            writes, reads = await measure(store, turns)
        finally:
            await store.close()
    print(f"sqlite      turn write  {percentiles(writes)}")
    print(f"sqlite      history 50  {percentiles(reads)}")

    name = f"voxhub_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
        store = await open_store(url)
        try:
            writes, reads = await measure(store, turns)
        finally:
            await store.close()
        print(f"postgresql  turn write  {percentiles(writes)}")
        print(f"postgresql  history 50  {percentiles(reads)}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(run(args.turns, args.postgres))


if __name__ == "__main__":
    main()
