"""Built-in tools, called the way the LLM calls them: through the registry, with JSON arguments."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.builtin import builtin_tools
from voxhub.agent.tools.registry import ToolRegistry
from voxhub.agent.tools.timers import Timer, TimerService


@pytest.fixture
async def timers() -> TimerService:
    service = TimerService()
    yield service  # type: ignore[misc]
    await service.aclose()


@pytest.fixture
def registry(timers: TimerService) -> ToolRegistry:
    registry = ToolRegistry()
    for tool in builtin_tools(timers):
        registry.register(tool)
    return registry


async def calculate(registry: ToolRegistry, expression: str) -> str:
    return (await registry.call("calculator", {"expression": expression})).content


@pytest.mark.parametrize(
    ("expression", "answer"),
    [
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("7 / 2", "3.5"),
        ("7 // 2", "3"),
        ("7 % 4", "3"),
        ("-2 ** 2", "-4"),
        ("2 ^ 10", "1024"),
        ("0.1 + 0.2", "0.3"),
        ("sqrt(16) + abs(-3)", "7"),
        ("round(2 / 3, 2)", "0.67"),
        ("pi * 2", "6.28318530718"),
        ("12 × 3 ÷ 4", "9"),
    ],
)
async def test_the_calculator_answers_arithmetic(
    registry: ToolRegistry, expression: str, answer: str
) -> None:
    assert await calculate(registry, expression) == answer


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("__import__('os').system('true')", "unknown function"),
        ("x + 1", "unknown name 'x'"),
        ("(1).__class__", "Attribute is not allowed"),
        ("'a' * 3", "only numbers are allowed"),
        ("[1, 2]", "List is not allowed"),
        ("1 / 0", "division by zero"),
        ("sqrt(-1)", "math error"),
        ("1 +", "not an arithmetic expression"),
        ("9 ** 9 ** 9", "too large"),
        ("2 ** 100000", "too large"),
        ("10.0 ** 400", "too large"),
        ("round(1, 10 ** 20)", "round to at most"),
    ],
)
async def test_the_calculator_refuses_anything_but_safe_arithmetic(
    registry: ToolRegistry, expression: str, reason: str
) -> None:
    with pytest.raises(ToolError, match=reason):
        await calculate(registry, expression)


async def test_huge_powers_are_refused_quickly(registry: ToolRegistry) -> None:
    started = time.perf_counter()
    with pytest.raises(ToolError):
        await calculate(registry, "9**9**9**9")

    assert time.perf_counter() - started < 0.1


async def test_get_time_answers_in_the_asked_time_zone(registry: ToolRegistry) -> None:
    result = await registry.call("get_time", {"timezone": "Asia/Tokyo"})

    assert re.fullmatch(r"It is \d\d:\d\d \(Asia/Tokyo\)\.", result.content)
    assert result.data["iso"].endswith("+09:00")


async def test_get_time_refuses_an_unknown_time_zone(registry: ToolRegistry) -> None:
    with pytest.raises(ToolError, match="unknown time zone 'Mars/Olympus'"):
        await registry.call("get_time", {"timezone": "Mars/Olympus"})


async def test_get_date_names_the_weekday(registry: ToolRegistry) -> None:
    result = await registry.call("get_date", "{}")

    assert result.content.startswith(f"Today is {result.data['weekday']}, ")


async def test_a_timer_fires_and_announces_itself(registry: ToolRegistry, timers: TimerService) -> None:
    fired: list[Timer] = []
    timers.on_fired = fired.append

    result = await registry.call("set_timer", {"seconds": 0.05, "name": "pasta"})
    assert result.content.startswith("The pasta timer is set for")
    await asyncio.sleep(0.2)

    assert [timer.announcement for timer in fired] == ["Your pasta timer is done."]
    assert (await registry.call("list_timers", {})).content == "No timers are running."


async def test_an_async_announcer_is_awaited(registry: ToolRegistry, timers: TimerService) -> None:
    heard: list[str] = []

    async def announce(timer: Timer) -> None:
        heard.append(timer.announcement)

    timers.on_fired = announce
    await registry.call("set_timer", {"seconds": 0.05, "name": "tea"})
    await asyncio.sleep(0.2)

    assert heard == ["Your tea timer is done."]


def test_an_unnamed_timer_is_spoken_of_by_its_duration() -> None:
    assert Timer("1", None, 300.0, 0.0).announcement == "Your 5 minute timer is done."


async def test_timers_are_listed_soonest_first_and_can_be_cancelled(
    registry: ToolRegistry, timers: TimerService
) -> None:
    fired: list[Timer] = []
    timers.on_fired = fired.append
    await registry.call("set_timer", {"minutes": 10, "name": "pasta"})
    await registry.call("set_timer", {"hours": 1, "minutes": 30, "name": "bread"})
    await registry.call("set_timer", {"minutes": 5, "name": "eggs"})

    listed = json.loads((await registry.call("list_timers", {})).content)
    cancelled = await registry.call("cancel_timer", {"name": "Pasta timer"})

    assert [line.split(":")[0] for line in listed] == ["eggs timer", "pasta timer", "bread timer"]
    assert listed[2] == "bread timer: 1 hour 30 minutes left"
    assert cancelled.content == "The pasta timer is cancelled."
    assert [t.name for t in timers.timers()] == ["eggs", "bread"]
    assert fired == []


async def test_cancelling_an_unknown_timer_says_so(registry: ToolRegistry) -> None:
    with pytest.raises(ToolError, match="no timer named 'soup'"):
        await registry.call("cancel_timer", {"name": "soup"})


async def test_a_timer_needs_a_duration(registry: ToolRegistry) -> None:
    with pytest.raises(ToolError, match="give the timer a duration"):
        await registry.call("set_timer", {"name": "pasta"})


async def test_two_timers_cannot_share_a_name(registry: ToolRegistry) -> None:
    await registry.call("set_timer", {"minutes": 1, "name": "tea"})

    with pytest.raises(ToolError, match="already a timer named 'tea'"):
        await registry.call("set_timer", {"minutes": 2, "name": "tea"})
