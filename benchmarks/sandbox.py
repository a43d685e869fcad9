"""What the AutoFunction sandbox costs: a bare interpreter start, a trivial call, a real tool call.

    .venv/bin/python benchmarks/sandbox.py [--runs 30]

Every call of a generated tool starts a fresh confined process (network namespace, own user, rlimits,
audit hook), so its start-up is the price of each call. Measured over `--runs` runs each, p50 and p95:

- **bare start**: `python -I -S -c pass`, the floor any per-call process pays;
- **sandbox start**: a call of `def noop(): return None` through `Sandbox.call`, i.e. start, confinement,
  JSON in and out, clean-up;
- **tool call**: a generated-looking tool that imports `math` and `statistics` and computes;
- **8 at once**: wall time of 8 tool calls started together (two cores here).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from voxhub.agent.autofunction.sandbox import Sandbox

NOOP = "def noop():\n    return None\n"
TOOL = (
    "import math\nimport statistics\n\n"
    "def describe(values):\n"
    "    return {'mean': statistics.fmean(values), 'norm': math.sqrt(sum(v * v for v in values))}\n"
)


async def _bare_start() -> None:
    process = await asyncio.create_subprocess_exec(sys.executable, "-I", "-S", "-c", "pass")
    await process.wait()


async def _timed(runs: int, action: Callable[[], Awaitable[object]]) -> list[float]:
    await action()  # warm the page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _row(label: str, times_ms: list[float]) -> str:
    p50 = statistics.median(times_ms)
    p95 = statistics.quantiles(times_ms, n=20)[-1] if len(times_ms) > 1 else times_ms[0]
    return f"{label:<16} {p50:8.1f} {p95:8.1f}"


async def main(runs: int) -> None:
    sandbox = Sandbox(max_concurrent=8)

    async def noop() -> None:
        result = await sandbox.call(NOOP, "noop", {})
        assert result.ok, result.error

    async def tool() -> None:
        result = await sandbox.call(TOOL, "describe", {"values": [1.0, 2.0, 3.0, 4.0]})
        assert result.ok, result.error

    async def eight() -> None:
        await asyncio.gather(*(tool() for _ in range(8)))

    network = (await sandbox.call(NOOP, "noop", {})).network
    print(f"network isolation: {network}; {runs} runs each")
    print(f"{'':<16} {'p50 ms':>8} {'p95 ms':>8}")
    print(_row("bare start", await _timed(runs, _bare_start)))
    print(_row("sandbox start", await _timed(runs, noop)))
    print(_row("tool call", await _timed(runs, tool)))
    print(_row("8 at once", await _timed(max(runs // 3, 3), eight)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))
