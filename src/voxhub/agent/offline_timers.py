"""Timer intents: "set a timer for 45 minutes for the roast chicken", "cancel the roast chicken timer",
"how much time is left"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from voxhub.agent.intents import IntentMatch
from voxhub.agent.offline_reply import OfflineReply
from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.timers import Timer, TimerService, describe_duration


def _name(found: IntentMatch) -> str | None:
    name = found.slots.get("name")
    return str(name).strip().removeprefix("the ").strip() or None if name else None


def _duration(found: IntentMatch, prefix: str = "") -> float:
    slots = found.slots
    return (
        float(slots.get(f"{prefix}hours", 0)) * 3600
        + float(slots.get(f"{prefix}minutes", 0)) * 60
        + float(slots.get(f"{prefix}seconds", 0))
    )


def _left(timers: TimerService, timer: Timer) -> str:
    return describe_duration(timers.remaining_secs(timer))


def _one(timers: TimerService, found: IntentMatch, asking: str) -> Timer:
    """The timer the sentence means: by name, by its starting duration, else the only one running."""
    name = _name(found)
    running = timers.timers()
    if name is not None:
        timer = timers.find(name)
        if timer is None:
            raise ToolError(f"no timer named {name!r}", spoken=f"You have no {name} timer.")
        return timer
    started = _duration(found, "start_")
    if started:
        matching = [t for t in running if round(t.duration_secs) == round(started)]
        if len(matching) == 1:
            return matching[0]
    if len(running) == 1:
        return running[0]
    spoken = (
        "You have no timers running."
        if not running
        else f"You have {len(running)} timers running; which one should I {asking}?"
    )
    raise ToolError(f"{len(running)} timers running, none named", spoken=spoken)


async def start_timer(timers: TimerService, found: IntentMatch) -> OfflineReply | None:
    duration_secs = _duration(found)
    if not duration_secs:
        return None
    timer = timers.start(duration_secs, _name(found))
    duration = describe_duration(timer.duration_secs)
    text = f"Your {timer.label} is set for {duration}." if timer.name else f"Timer set for {duration}."
    return OfflineReply(text, found.intent, {"duration_secs": duration_secs, "name": timer.name})


async def cancel_timer(timers: TimerService, found: IntentMatch) -> OfflineReply:
    timer = timers.cancel(_one(timers, found, "cancel").id)
    return OfflineReply(f"Cancelled your {timer.label}.", found.intent, {"name": timer.name})


async def cancel_all(timers: TimerService, found: IntentMatch) -> OfflineReply:
    running = timers.timers()
    for timer in running:
        timers.cancel(timer.id)
    text = "You have no timers running." if not running else f"Cancelled {len(running)} timers."
    if len(running) == 1:
        text = f"Cancelled your {running[0].label}."
    return OfflineReply(text, found.intent, {"count": len(running)})


async def timer_status(timers: TimerService, found: IntentMatch) -> OfflineReply:
    running = timers.timers()
    if not running and _name(found) is None:
        return OfflineReply("You have no timers running.", found.intent, {"timers": []})
    if _name(found) is not None or _duration(found, "start_") or len(running) == 1:
        timer = _one(timers, found, "check")
        text = f"Your {timer.label} has {_left(timers, timer)} left."
        return OfflineReply(
            text, found.intent, {"name": timer.name, "remaining_secs": timers.remaining_secs(timer)}
        )
    parts = [f"your {t.label} has {_left(timers, t)} left" for t in running[:3]]
    text = f"You have {len(running)} timers: " + ", ".join(parts) + "."
    return OfflineReply(text, found.intent, {"timers": [t.name or t.label for t in running]})


TimerHandler = Callable[[TimerService, IntentMatch], Awaitable[OfflineReply | None]]
TIMER_HANDLERS: dict[str, TimerHandler] = {
    "HassStartTimer": start_timer,
    "HassCancelTimer": cancel_timer,
    "HassCancelAllTimers": cancel_all,
    "HassTimerStatus": timer_status,
}
