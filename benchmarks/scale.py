"""Scale-out: 1, 2 and 3 voxhub instances behind nginx on this machine, with PostgreSQL and Redis.

    .venv/bin/python benchmarks/scale.py [--clients 8] [--turns 25]

Starts three `voxhub serve` processes sharing a fresh PostgreSQL database and a private redis-server, a
fourth with the same database but no Redis (the baseline), and Debian's nginx with deploy/nginx/nginx.conf
pointed at 1, 2, then 3 of them. Each run: `--clients` WebSocket clients at once, each with a session of its
own, each sending `--turns` text turns one after another ("what time is it": the offline agent answers, no
LLM, so what is measured is voxhub's own cost per turn, not a model's). Prints, for docs/benchmarks.md:

- turns per second through nginx and the turn's latency (text sent → `response` received) p50/p99, for 1,
  2 and 3 instances;
- the per-turn cost of Redis: one client, turns in order, directly to an instance with `redis_url` and to
  the baseline without (p50 and p99 of each, and the difference);
- Redis commands per turn (INFO commandstats of the private server) and PostgreSQL transactions and row
  writes per turn (pg_stat_database of the run's database);
- event bus latency A→B: a subscriber on instance A, a client on instance B; an event's `timestamp`
  (taken on B when it is made) to its arrival on A, p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.cluster.processes import (
    Nginx,
    RedisServer,
    Voxhub,
    fresh_postgres,
    start_all,
)

TURN = "what time is it"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def _response(socket: Any) -> dict[str, Any]:
    while True:
        body: dict[str, Any] = json.loads(await socket.recv())
        if body.get("type") == "response":
            return body


async def client(base: str, session: str, turns: int, latencies: list[float]) -> None:
    async with websockets.connect(f"{base}/ws?session_id={session}&voice_output=false") as socket:
        while json.loads(await socket.recv()).get("type") != "session_started":
            pass
        for _ in range(turns):
            sent = time.perf_counter()
            await socket.send(json.dumps({"type": "text_message", "data": {"text": TURN}}))
            await _response(socket)
            latencies.append(time.perf_counter() - sent)


async def load(base: str, clients: int, turns: int, tag: str) -> tuple[float, list[float]]:
    """Turns per second and every turn's latency, `clients` at once."""
    await client(base, f"warm-{tag}", 3, [])
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(client(base, f"{tag}-{n}", turns, latencies) for n in range(clients)))
    return len(latencies) / (time.perf_counter() - started), latencies


def redis_commands(redis: RedisServer) -> int:
    import redis as redis_client

    stats = redis_client.Redis(port=redis.port).info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_ping"))


def postgres_writes(url: str) -> tuple[int, int]:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_force_next_flush()")
        row = connection.execute(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def interleaved(
    clustered: Voxhub, alone: Voxhub, turns: int, redis: RedisServer, database_url: str
) -> tuple[list[float], list[float], tuple[int, int, int]]:
    """Turns alternating between an instance with Redis and one without (drift in the machine's load hits
    both alike); the Redis commands and PostgreSQL writes of the clustered instance's turns."""
    latencies: dict[str, list[float]] = {"with": [], "without": []}
    counts = [0, 0, 0]
    urls = {"with": clustered.ws, "without": alone.ws}
    sockets = {
        name: await websockets.connect(f"{url}/ws?session_id=alt-{name}&voice_output=false")
        for name, url in urls.items()
    }
    try:
        for socket in sockets.values():
            while json.loads(await socket.recv()).get("type") != "session_started":
                pass
        for _ in range(turns):
            for name, socket in sockets.items():
                before = (redis_commands(redis), *postgres_writes(database_url)) if name == "with" else None
                sent = time.perf_counter()
                await socket.send(json.dumps({"type": "text_message", "data": {"text": TURN}}))
                await _response(socket)
                latencies[name].append(time.perf_counter() - sent)
                if before is not None:
                    await asyncio.sleep(0.05)  # the turn's events leave in the background
                    after = (redis_commands(redis), *postgres_writes(database_url))
                    for i in range(3):
                        counts[i] += after[i] - before[i]
    finally:
        for socket in sockets.values():
            await socket.close()
    return latencies["with"], latencies["without"], (counts[0], counts[1], counts[2])


async def micro(redis: RedisServer, rounds: int) -> None:
    """Redis's own cost, in this process: one turn-budget check (the round trip an HTTP turn waits for) and
    one event from one bus to another (publish → the other instance's subscriber)."""
    from voxhub.api.cluster.bus import EventBus
    from voxhub.api.cluster.link import RedisLink
    from voxhub.api.cluster.slots import ClusterRates

    prefix = f"bench-{uuid.uuid4().hex[:6]}:"
    link_a, link_b = RedisLink(redis.url, prefix), RedisLink(redis.url, prefix)
    await link_a.connect()
    await link_b.connect()
    rates = ClusterRates(link_a, per_minute=1e9, burst=10**9)
    checks: list[float] = []
    for n in range(rounds):
        started = time.perf_counter()
        await rates.retry_after_secs(f"10.0.{n % 250}.1")
        checks.append(time.perf_counter() - started)
    sender, receiver = EventBus("a", link_a), EventBus("b", link_b)
    await sender.start()
    await receiver.start()
    hops: list[float] = []
    async with receiver.subscribe() as subscription:
        for n in range(rounds // 4):
            started = time.perf_counter()
            sender.publish(
                {"type": "response", "session_id": "bench", "data": {"text": "It's 11:51 PM.", "n": n}}
            )
            await subscription.queue.get()
            hops.append(time.perf_counter() - started)
    await sender.aclose()
    await receiver.aclose()
    await link_a.aclose()
    await link_b.aclose()
    print(
        f"\nin one process: turn-budget check p50 {1000 * pct(checks, 50):.3f} ms, "
        f"p99 {1000 * pct(checks, 99):.3f} ms; one event bus→bus p50 {1000 * pct(hops, 50):.3f} ms, "
        f"p99 {1000 * pct(hops, 99):.3f} ms"
    )


async def bus_latency(a: Voxhub, b: Voxhub, turns: int) -> list[float]:
    session = f"bus-{uuid.uuid4().hex[:6]}"
    arrivals: list[float] = []
    async with websockets.connect(f"{a.ws}/api/v1/events?session_id={session}") as events:
        await events.recv()

        async def follow() -> None:
            while True:
                body = json.loads(await events.recv())
                arrivals.append(time.time() - float(body["timestamp"]))

        follower = asyncio.create_task(follow())
        await client(b.ws, session, turns, [])
        await asyncio.sleep(0.5)
        follower.cancel()
    return arrivals


async def main(clients: int, turns: int) -> None:
    with tempfile.TemporaryDirectory(prefix="voxhub-scale-") as tmp, fresh_postgres() as database_url:
        directory = Path(tmp)
        redis = RedisServer(directory)
        redis.start()
        common = {
            "VOXHUB_DATABASE_URL": database_url,
            "VOXHUB_TTS_ENGINE": "espeak",
            "VOXHUB_LOG_LEVEL": "WARNING",
        }
        clustered = {**common, "VOXHUB_REDIS_URL": redis.url, "VOXHUB_CLUSTER_MAX_CONNECTIONS": "1000"}
        instances = [Voxhub(f"voxhub-{n}", directory, clustered) for n in (1, 2, 3)]
        baseline = Voxhub("voxhub-alone", directory, common)
        try:
            start_all([*instances, baseline], timeout_secs=300)
            print(f"{clients} clients × {turns} text turns each, through nginx")
            print("instances | turns/s | turn p50 ms | turn p99 ms")
            for count in (1, 2, 3):
                nginx = Nginx(directory / f"n{count}", instances[:count])
                nginx.start()
                try:
                    rate, latencies = await load(nginx.ws, clients, turns, f"n{count}")
                finally:
                    nginx.stop()
                print(
                    f"{count} | {rate:.0f} | {1000 * pct(latencies, 50):.1f} | {1000 * pct(latencies, 99):.1f}"
                )

            sequential = 4 * turns
            with_redis, without, counts = await interleaved(
                instances[0], baseline, sequential, redis, database_url
            )
            commands, xacts, rows = counts
            print(f"\none client, {sequential} turns to each, alternating between the two, directly")
            print("redis_url | turn p50 ms | turn p99 ms")
            for name, values in (("set", with_redis), ("unset", without)):
                print(f"{name} | {1000 * pct(values, 50):.2f} | {1000 * pct(values, 99):.2f}")
            added = 1000 * (pct(with_redis, 50) - pct(without, 50))
            print(f"Redis adds {added:.2f} ms per turn at p50")
            print(
                "per turn of the instance with Redis: "
                f"{commands / sequential:.1f} Redis commands, "
                f"{xacts / sequential:.1f} PostgreSQL transactions, {rows / sequential:.1f} rows written"
            )
            await micro(redis, 2000)

            arrivals = await bus_latency(instances[0], instances[1], 2 * turns)
            print(
                f"\nevent bus B→A: {len(arrivals)} events, p50 {1000 * pct(arrivals, 50):.2f} ms, "
                f"p99 {1000 * pct(arrivals, 99):.2f} ms"
            )
        finally:
            for instance in [*instances, baseline]:
                instance.stop()
            redis.kill()


if __name__ == "__main__":
    # SIGTERM (e.g. `timeout`) ends the run through its `finally`, so no instance is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--turns", type=int, default=25)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.clients, arguments.turns))
