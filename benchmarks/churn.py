"""Connection churn: does the server give memory and file descriptors back when clients come and go?

    .venv/bin/python benchmarks/churn.py [--cycles 5000] [--warm-up 300] [--voice 0] [--trace]

The server runs in a child process (harness.ServerProcess). One cycle is what a short-lived client does:
open a text-only WebSocket (a new session each time), ask one question, read the answer, close. After
`--warm-up` cycles (caches, allocator arenas and the LLM's prompt cache fill up) the server's RSS and open
file descriptors are the baseline; after the rest, the growth in total and per cycle is printed, sampled
along the way so a slope shows. `--voice N` adds N cycles with voice output on (the speech stages too).
`--trace` runs the server under tracemalloc and prints the source lines whose live allocations grew most.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from client import send_event, session
from harness import ServerProcess

TEXT = "voice_input=false&text_input=true&voice_output=false&text_output=true"
VOICE = "voice_input=false&text_input=true&voice_output=true&text_output=true"


async def cycle(url: str, query: str) -> None:
    async with session(url, query) as (connection, receiver):
        sent = await send_event(connection, "text_message", text="Hi there.")
        await receiver.wait("response", after=sent, timeout_secs=60)


async def main(args: argparse.Namespace) -> None:
    overrides = {
        "llm_max_tokens": 8,
        "wyoming_enabled": False,
        "max_connections": 50,
        "client_turns_per_minute": 0,
        "session_idle_secs": args.session_idle_secs,
        "cleanup_interval_secs": min(60.0, args.session_idle_secs),
        "trace_allocations": args.trace,
    }
    with tempfile.TemporaryDirectory(prefix="voxhub-churn-") as tmp:
        async with ServerProcess(Path(tmp), args.config, overrides) as server:
            for _ in range(args.warm_up):
                await cycle(server.url, TEXT)
            base_rss, base_fds = await server.rss_bytes(), server.open_files()
            await server.allocation_growth()
            started = time.monotonic()
            print(
                f"after {args.warm_up} warm-up cycles: RSS {base_rss / 2**20:.1f} MiB, {base_fds} open files"
            )
            print("| cycles | RSS MiB | growth MiB | KiB per cycle | open files |")
            print("|---:|---:|---:|---:|---:|")
            step = max(1, args.cycles // 5)
            for done in range(1, args.cycles + 1):
                await cycle(server.url, TEXT)
                if done % step == 0 or done == args.cycles:
                    rss = await server.rss_bytes()
                    growth = rss - base_rss
                    print(
                        f"| {done} | {rss / 2**20:.1f} | {growth / 2**20:+.1f} | {growth / done / 1024:+.1f} "
                        f"| {server.open_files()} |",
                        flush=True,
                    )
            for _ in range(args.voice):
                await cycle(server.url, VOICE)
            if args.voice:
                rss = await server.rss_bytes()
                print(
                    f"after {args.voice} voice cycles: RSS {rss / 2**20:.1f} MiB ({(rss - base_rss) / 2**20:+.1f})"
                )
            secs = time.monotonic() - started
            print(f"{args.cycles + args.voice} cycles in {secs:.0f} s")
            if args.trace:
                print("\nlive allocations that grew most since the warm-up:")
                for line in await server.allocation_growth():
                    print("  " + line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=5000)
    parser.add_argument("--warm-up", type=int, default=300)
    parser.add_argument("--voice", type=int, default=0)
    parser.add_argument("--session-idle-secs", type=float, default=3600.0)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--config", type=Path, default=None)
    asyncio.run(main(parser.parse_args()))
