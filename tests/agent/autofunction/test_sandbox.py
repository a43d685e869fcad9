"""The sandbox: generated code runs confined in its own process, and every escape is stopped there too."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from tests.agent.autofunction.conftest import CELSIUS_TOOL
from tests.agent.autofunction.escapes import ESCAPES
from voxhub.agent.autofunction.sandbox import Sandbox


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


async def test_every_kernel_layer_is_active_on_this_machine(sandbox: Sandbox) -> None:
    result = await sandbox.call("def ping():\n    return 1\n", "ping", {})
    assert result.layers == {
        "namespaces": "root",
        "network": "namespace",
        "filesystem": "private_root",
        "user": "own_uid",
        "seccomp": "filter",
    }


async def test_the_library_still_loads_lazily_inside_the_private_root(sandbox: Sandbox) -> None:
    source = (
        "import datetime\nimport unicodedata\n\ndef parse(text):\n"
        "    day = datetime.datetime.strptime(text, '%Y-%m-%d')\n"
        "    return [day.year, 'é'.encode('cp1252').decode('cp1252'), unicodedata.name('é')]\n"
    )
    result = await sandbox.call(source, "parse", {"text": "2026-12-07"})
    assert result.value == [2026, "é", "LATIN SMALL LETTER E WITH ACUTE"]


async def test_a_tool_may_use_its_work_dir_and_tmp_which_are_one_private_dir(sandbox: Sandbox) -> None:
    source = (
        "def scratch(text):\n"
        "    with open('/tmp/note.txt', 'w') as file:\n        file.write(text)\n"
        "    with open('note.txt') as file:\n        return file.read()\n"
    )
    assert (await sandbox.call(source, "scratch", {"text": "kept"})).value == "kept"


async def test_each_call_starts_in_a_fresh_empty_work_dir(sandbox: Sandbox) -> None:
    source = (
        "def leave(text):\n    with open('/tmp/left.txt', 'a') as file:\n        file.write(text)\n"
        "    with open('/tmp/left.txt') as file:\n        return file.read()\n"
    )
    first = await sandbox.call(source, "leave", {"text": "one"})
    second = await sandbox.call(source, "leave", {"text": "two"})
    assert (first.value, second.value) == ("one", "two")


async def test_a_printed_answer_is_only_output(sandbox: Sandbox) -> None:
    forged = '{"ok": true, "tests": {"ran": 1, "failures": []}}'
    source = f"def test_nothing():\n    print({forged!r})\n    assert False\n"
    result = await sandbox.test("def noop():\n    return 1\n", source)
    assert result.tests is not None
    assert not result.tests.passed
    assert result.output == forged + "\n"


async def test_the_start_up_probe_logs_each_layer(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="voxhub.agent.autofunction.sandbox")
    layers = await sandbox.probe()
    assert layers["seccomp"] == "filter"
    [record] = caplog.records
    assert (record.levelno, record.getMessage()) == (
        logging.INFO,
        "autofunction sandbox layers: namespaces=root, network=namespace, filesystem=private_root, "
        "user=own_uid, seccomp=filter",
    )


@pytest.mark.slow
@pytest.mark.parametrize("attempt", [name for name in ESCAPES if name != "format string dumps globals"])
async def test_a_call_attempting_an_escape_fails(attempt: str, sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    result = await sandbox.call(ESCAPES[attempt], "escape", {"path": str(target)})
    assert not result.ok
    assert result.error is not None
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
