"""Kitchen timers: each one an asyncio task that calls `on_fired` when it runs out.

The conversation sets `TimerService.on_fired` to announce the timer ("Your pasta timer is done.", see
`Timer.announcement`) on the session that set it. The callback may be sync or async; its errors are logged,
never raised into the timer.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from voxhub.agent.tools.base import ToolError

logger = logging.getLogger(__name__)

MAX_TIMER_SECS = 7 * 24 * 3600.0
MAX_TIMERS = 32

OnTimerFired = Callable[["Timer"], Awaitable[None] | None]
OnTimerChanged = Callable[["Timer"], None]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Timer:
    id: str
    name: str | None
    duration_secs: float
    ends_at: float  # wall clock, `time.time()` seconds

    def remaining_secs(self, now: float | None = None) -> float:
        return max(0.0, self.ends_at - (time.time() if now is None else now))

    @property
    def label(self) -> str:
        """How the timer is spoken of: "pasta timer", "5 minute timer"."""
        if self.name:
            return self.name if self.name.lower().endswith("timer") else f"{self.name} timer"
        return f"{describe_duration(self.duration_secs, compact=True)} timer"

    @property
    def announcement(self) -> str:
        return f"Your {self.label} is done."


class TimerService:
    """Running timers by id; `on_fired` hears about each one that runs out."""

    def __init__(
        self,
        on_fired: OnTimerFired | None = None,
        *,
        max_timers: int = MAX_TIMERS,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """`clock` (wall-clock seconds) and `sleep` are time.time and asyncio.sleep; tests give virtual ones."""
        self.on_fired = on_fired
        self.on_started: OnTimerChanged | None = None  # a new timer (not a restored one), to persist it
        self.on_cancelled: OnTimerChanged | None = None
        self.max_timers = max_timers
        self.clock = clock
        self._sleep = sleep
        self._timers: dict[str, Timer] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._ids = itertools.count(1)

    def start(self, duration_secs: float, name: str | None = None) -> Timer:
        if not 0 < duration_secs <= MAX_TIMER_SECS:
            raise ToolError(
                f"a timer must last more than 0 seconds and at most {MAX_TIMER_SECS / 86400:g} days",
                spoken="Sorry, I can't set a timer for that long.",
            )
        name = (name or "").strip() or None
        if name and self._find_by_name(name) is not None:
            raise ToolError(
                f"there is already a timer named {name!r}", spoken=f"You already have a {name} timer."
            )
        if len(self._timers) >= self.max_timers:
            raise ToolError(f"at most {self.max_timers} timers can run at once")
        timer = Timer(str(next(self._ids)), name, float(duration_secs), self.clock() + duration_secs)
        self._arm(timer)
        if self.on_started is not None:
            self.on_started(timer)
        return timer

    def restore(self, timer: Timer) -> Timer:
        """A timer set before (kept in the session store) runs again for the time it has left, at once if
        its end has passed; new timers are numbered after it. Renumbered if its id is taken."""
        if timer.id in self._timers:
            timer = replace(timer, id=str(next(self._ids)))
        elif timer.id.isdigit():
            self._ids = itertools.count(max(int(timer.id) + 1, next(self._ids)))
        self._arm(timer)
        return timer

    def _arm(self, timer: Timer) -> None:
        self._timers[timer.id] = timer
        self._tasks[timer.id] = asyncio.get_running_loop().create_task(
            self._run(timer), name=f"timer-{timer.id}"
        )

    def cancel(self, name_or_id: str) -> Timer:
        """Stop a timer, found by its name (any case) or id."""
        timer = self._timers.get(name_or_id) or self._find_by_name(name_or_id)
        if timer is None:
            raise ToolError(
                f"no timer named {name_or_id!r}",
                spoken="I couldn't find that timer.",
                details={"running": [t.name or t.id for t in self.timers()]},
            )
        self._timers.pop(timer.id, None)
        task = self._tasks.pop(timer.id, None)
        if task is not None:
            task.cancel()
        if self.on_cancelled is not None:
            self.on_cancelled(timer)
        return timer

    def find(self, name_or_id: str) -> Timer | None:
        """A running timer by its name (any case, "timer" or not) or id."""
        return self._timers.get(name_or_id) or self._find_by_name(name_or_id)

    def remaining_secs(self, timer: Timer) -> float:
        return timer.remaining_secs(self.clock())

    def timers(self) -> tuple[Timer, ...]:
        """Running timers, the soonest first."""
        return tuple(sorted(self._timers.values(), key=lambda timer: timer.ends_at))

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        self._timers.clear()
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _find_by_name(self, name: str) -> Timer | None:
        wanted = _normalized(name)
        return next((t for t in self._timers.values() if t.name and _normalized(t.name) == wanted), None)

    async def _run(self, timer: Timer) -> None:
        left = timer.ends_at - self.clock()
        if left > 0:
            await self._sleep(left)
        self._timers.pop(timer.id, None)
        self._tasks.pop(timer.id, None)
        logger.info("timer %s done", timer.label, extra={"timer": timer.id})
        if self.on_fired is None:
            return
        try:
            announced = self.on_fired(timer)
            if inspect.isawaitable(announced):
                await announced
        except Exception:
            logger.exception("announcing timer %s failed", timer.id)


def _normalized(name: str) -> str:
    name = name.strip().lower()
    return name.removesuffix(" timer").strip() or name


def describe_duration(seconds: float, *, compact: bool = False) -> str:
    """3725 s → "1 hour 2 minutes 5 seconds"; `compact` uses the singular for a label ("5 minute timer")."""
    whole = max(0, round(seconds))
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, whole = divmod(whole, size)
        if count:
            plural = "" if compact or count == 1 else "s"
            parts.append(f"{count} {unit}{plural}")
    return " ".join(parts) or "0 seconds"
