"""The sandbox: generated code runs confined in its own process, and every escape is stopped there too."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.agent.autofunction.conftest import CELSIUS_TOOL
from tests.agent.autofunction.escapes import ESCAPES
from voxhub.agent.autofunction.sandbox import Sandbox

# What stops each attempt, when the static check is bypassed and the code goes straight to the sandbox.
STOPPED_BY = {
    "read /etc/passwd": "PermissionError",
    "write outside its directory": "PermissionError",
    "open a socket": "PermissionError",
    "spawn a process": "PermissionError",
    "fork bomb": "PermissionError",
    "endless loop": "cpu",
    "memory bomb": "memory",
    "getattr import trick": "PermissionError",
    "__subclasses__ trick": "PermissionError",
}


async def test_a_call_returns_the_functions_value_and_what_it_printed(sandbox: Sandbox) -> None:
    source = "import math\n\ndef hypot(a, b):\n    print('measuring')\n    return math.hypot(a, b)\n"
    result = await sandbox.call(source, "hypot", {"a": 3, "b": 4})
    assert (result.ok, result.value, result.output) == (True, 5.0, "measuring\n")


async def test_an_exception_comes_back_with_its_line(sandbox: Sandbox) -> None:
    result = await sandbox.call("def halve(n):\n    return n / 0\n", "halve", {"n": 1})
    assert not result.ok
    assert result.error is not None
    assert (result.error.type, result.error.line) == ("ZeroDivisionError", 2)


async def test_tests_run_beside_the_function_and_failures_are_reported(sandbox: Sandbox) -> None:
    passing = await sandbox.test(CELSIUS_TOOL["source"], CELSIUS_TOOL["tests"])
    assert passing.tests is not None
    assert passing.tests.passed
    failing = await sandbox.test(
        CELSIUS_TOOL["source"], "def test_boiling():\n    assert celsius_to_fahrenheit(100) == 100\n"
    )
    assert failing.tests is not None
    assert not failing.tests.passed
    assert failing.tests.failures[0]["test"] == "test_boiling"


async def test_the_network_is_cut_by_a_namespace_on_this_kernel(sandbox: Sandbox) -> None:
    result = await sandbox.call("def ping():\n    return 1\n", "ping", {})
    assert result.network == "namespace"


@pytest.mark.slow
@pytest.mark.parametrize("attempt", ESCAPES, ids=list(ESCAPES))
async def test_escape_attempts_are_stopped_by_the_sandbox_alone(
    attempt: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "escaped.txt"
    result = await sandbox.call(ESCAPES[attempt], "escape", {"path": str(target)})
    assert not result.ok
    assert result.error is not None
    expected = STOPPED_BY[attempt]
    if expected in ("cpu", "memory"):
        assert result.killed == expected
    else:
        assert result.error.type == expected
        assert result.error.message.startswith("sandbox:")  # refused by the audit hook, not by chance
    assert not target.exists()
    assert "root:" not in str(result.value) + result.output + result.error.message


@pytest.mark.slow
async def test_a_call_past_the_wall_clock_limit_is_killed(sandbox: Sandbox) -> None:
    source = "import time\n\ndef nap():\n    time.sleep(60)\n"
    started = time.monotonic()
    result = await sandbox.call(source, "nap", {})
    assert result.killed == "timeout"
    assert time.monotonic() - started < sandbox.limits.timeout_secs + 1.0


@pytest.mark.slow
async def test_the_server_keeps_serving_while_a_sandbox_spins(sandbox: Sandbox) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.05)

    ticker = asyncio.create_task(tick())
    spinning = asyncio.gather(
        *(sandbox.call(ESCAPES["endless loop"], "escape", {"path": ""}) for _ in range(2))
    )
    quick = await sandbox.call(CELSIUS_TOOL["source"], "celsius_to_fahrenheit", {"celsius": 37})
    results = await spinning
    ticker.cancel()
    assert quick.value == 98.6
    assert [result.killed for result in results] == ["cpu", "cpu"]  # not the wall clock: they got their CPU
    assert ticks >= 10  # the loop ran every 50 ms through the second of CPU the spinners were allowed
