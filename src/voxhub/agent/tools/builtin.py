"""Built-in tools that need nothing outside this machine: time, date, a calculator and timers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voxhub.agent.exact_units import convert
from voxhub.agent.tools.base import FunctionTool, Tool, ToolError, ToolResult
from voxhub.agent.tools.calculator import CalculationError, evaluate, format_number
from voxhub.agent.tools.timers import Timer, TimerService, describe_duration
from voxhub.engines.llm.base import ToolSpec

_TIMEZONE_PROPERTY = {
    "type": "string",
    "description": "IANA time zone, e.g. Europe/Paris or America/New_York; omit for the server's local time.",
}

GET_TIME_SPEC = ToolSpec(
    "get_time",
    "Get the current time, optionally in another time zone.",
    {"type": "object", "properties": {"timezone": _TIMEZONE_PROPERTY}},
)
GET_DATE_SPEC = ToolSpec(
    "get_date",
    "Get today's date and weekday, optionally in another time zone.",
    {"type": "object", "properties": {"timezone": _TIMEZONE_PROPERTY}},
)
CALCULATOR_SPEC = ToolSpec(
    "calculator",
    "Evaluate an arithmetic expression exactly. Supports + - * / // % ** and parentheses, the constants pi "
    "and e, and sqrt, abs, round, floor, ceil, log, log10, exp, sin, cos, tan, min, max.",
    {
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "e.g. (12.5 * 4) / 3 or sqrt(2)"}},
        "required": ["expression"],
    },
)
CONVERT_UNITS_SPEC = ToolSpec(
    "convert_units",
    "Convert a quantity exactly between units of length, mass, volume, temperature, speed or time "
    "(e.g. miles to km, fahrenheit to celsius, cups to ml, hours to minutes). Returns the answer to say.",
    {
        "type": "object",
        "properties": {
            "value": {"type": "number"},
            "from_unit": {"type": "string", "description": "e.g. miles, kg, fahrenheit, cups, km/h, hours"},
            "to_unit": {
                "type": "string",
                "description": "e.g. kilometres, pounds, celsius, ml, mph, minutes",
            },
        },
        "required": ["value", "from_unit", "to_unit"],
    },
)
SET_TIMER_SPEC = ToolSpec(
    "set_timer",
    "Start a countdown timer; the user is told when it is done. Give the duration in any of the units.",
    {
        "type": "object",
        "properties": {
            "hours": {"type": "number", "minimum": 0},
            "minutes": {"type": "number", "minimum": 0},
            "seconds": {"type": "number", "minimum": 0},
            "name": {"type": "string", "description": "What the timer is for, e.g. pasta; optional."},
        },
    },
)
CANCEL_TIMER_SPEC = ToolSpec(
    "cancel_timer",
    "Stop a running timer.",
    {
        "type": "object",
        "properties": {"name": {"type": "string", "description": "The timer's name (or id)."}},
        "required": ["name"],
    },
)
LIST_TIMERS_SPEC = ToolSpec("list_timers", "List the running timers and the time left on each.")


def builtin_tools(timers: TimerService | None = None) -> list[Tool]:
    """Time, date, calculator and unit conversion; with a TimerService, the three timer tools too."""
    tools: list[Tool] = [
        FunctionTool(GET_TIME_SPEC, get_time),
        FunctionTool(GET_DATE_SPEC, get_date),
        FunctionTool(CALCULATOR_SPEC, calculate),
        FunctionTool(CONVERT_UNITS_SPEC, convert_units),
    ]
    if timers is not None:
        tools += [
            FunctionTool(SET_TIMER_SPEC, lambda arguments: set_timer(timers, arguments)),
            FunctionTool(CANCEL_TIMER_SPEC, lambda arguments: cancel_timer(timers, arguments)),
            FunctionTool(LIST_TIMERS_SPEC, lambda arguments: list_timers(timers, arguments)),
        ]
    return tools


def _now(arguments: Mapping[str, Any]) -> datetime:
    zone_name = arguments.get("timezone")
    zone: tzinfo | None = None
    if zone_name:
        try:
            zone = ZoneInfo(str(zone_name))
        except (ZoneInfoNotFoundError, ValueError):
            raise ToolError(
                f"unknown time zone {zone_name!r}; use an IANA name such as Europe/Paris",
                spoken="Sorry, I don't know that time zone.",
            ) from None
    return datetime.now(zone).astimezone(zone)


async def get_time(arguments: Mapping[str, Any]) -> ToolResult:
    now = _now(arguments)
    zone = str(arguments.get("timezone") or now.tzname())
    data = {"time": now.strftime("%H:%M"), "timezone": zone, "iso": now.isoformat(timespec="seconds")}
    return ToolResult(f"It is {now:%H:%M} ({zone}).", data=data)


async def get_date(arguments: Mapping[str, Any]) -> ToolResult:
    now = _now(arguments)
    spoken = f"{now:%A}, {now.day} {now:%B %Y}"
    return ToolResult(f"Today is {spoken}.", data={"date": now.date().isoformat(), "weekday": f"{now:%A}"})


async def calculate(arguments: Mapping[str, Any]) -> ToolResult:
    expression = str(arguments["expression"])
    try:
        value = evaluate(expression)
    except CalculationError as exc:
        raise ToolError(
            f"cannot calculate {expression!r}: {exc}", spoken="Sorry, I couldn't work that out."
        ) from None
    return ToolResult(format_number(value), data={"expression": expression, "value": value})


async def convert_units(arguments: Mapping[str, Any]) -> ToolResult:
    value, source, target = arguments["value"], str(arguments["from_unit"]), str(arguments["to_unit"])
    answer = convert(float(value), source, target) if isinstance(value, int | float) else None
    if answer is None:
        raise ToolError(
            f"cannot convert {value!r} {source!r} to {target!r}: unknown, ambiguous or mismatched units",
            spoken="Sorry, I can't convert between those units.",
        )
    return ToolResult(answer.text, data={"value": value, "from_unit": source, "to_unit": target})


def _timer_data(timer: Timer) -> dict[str, Any]:
    return {
        "id": timer.id,
        "name": timer.name,
        "duration_secs": timer.duration_secs,
        "remaining_secs": round(timer.remaining_secs(), 1),
    }


async def set_timer(timers: TimerService, arguments: Mapping[str, Any]) -> ToolResult:
    duration_secs = (
        float(arguments.get("hours", 0)) * 3600
        + float(arguments.get("minutes", 0)) * 60
        + float(arguments.get("seconds", 0))
    )
    if duration_secs <= 0:
        raise ToolError("give the timer a duration: hours, minutes or seconds", spoken="For how long?")
    timer = timers.start(duration_secs, arguments.get("name"))
    content = f"The {timer.label} is set for {describe_duration(duration_secs)}."
    return ToolResult(content, data=_timer_data(timer))


async def cancel_timer(timers: TimerService, arguments: Mapping[str, Any]) -> ToolResult:
    timer = timers.cancel(str(arguments["name"]))
    return ToolResult(f"The {timer.label} is cancelled.", data=_timer_data(timer))


async def list_timers(timers: TimerService, arguments: Mapping[str, Any]) -> ToolResult:
    running = timers.timers()
    if not running:
        return ToolResult("No timers are running.", data=[])
    data = [_timer_data(timer) for timer in running]
    lines = [f"{timer.label}: {describe_duration(timer.remaining_secs())} left" for timer in running]
    return ToolResult(json.dumps(lines, ensure_ascii=False), data=data)
