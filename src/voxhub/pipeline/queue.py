"""A bounded frame queue whose urgent lane overtakes queued data."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from voxhub.pipeline.frames import Frame, UrgentFrame


class FrameQueue:
    """One consumer; `put` waits while `maxsize` data frames are queued, so a slow stage pushes back."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: deque[Frame] = deque()
        self._urgent: deque[Frame] = deque()
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._urgent_arrived = asyncio.Event()

    def __len__(self) -> int:
        return len(self._data) + len(self._urgent)

    async def put(self, frame: Frame) -> None:
        """Queue a frame; urgent frames go ahead of all data and never wait."""
        if isinstance(frame, UrgentFrame):
            self.put_urgent(frame)
            return
        while len(self._data) >= self.maxsize:
            self._writable.clear()
            await self._writable.wait()
        self._data.append(frame)
        self._readable.set()

    def put_nowait(self, frame: Frame) -> None:
        """Queue a small event frame past the bound (events must not stall the stage that reports them)."""
        if isinstance(frame, UrgentFrame):
            self.put_urgent(frame)
            return
        self._data.append(frame)
        self._readable.set()

    def put_urgent(self, frame: Frame) -> None:
        self._urgent.append(frame)
        self._readable.set()
        self._urgent_arrived.set()

    def unget(self, frame: Frame) -> None:
        """Put a data frame back at the head of the queue (its stage could not finish it yet)."""
        self._data.appendleft(frame)
        self._readable.set()

    async def urgent_within(self, timeout_secs: float) -> bool:
        """Wait up to `timeout_secs`; True as soon as an urgent frame is queued."""
        if self._urgent:
            return True
        self._urgent_arrived.clear()
        try:
            await asyncio.wait_for(self._urgent_arrived.wait(), timeout_secs)
        except TimeoutError:
            return bool(self._urgent)
        return True

    async def get(self) -> Frame:
        while True:
            if self._urgent:
                return self._urgent.popleft()
            if self._data:
                frame = self._data.popleft()
                if len(self._data) < self.maxsize:
                    self._writable.set()
                return frame
            self._readable.clear()
            await self._readable.wait()

    def drop(self, predicate: Callable[[Frame], bool]) -> int:
        """Remove queued data frames matching `predicate`; returns how many went."""
        kept = [frame for frame in self._data if not predicate(frame)]
        dropped = len(self._data) - len(kept)
        if dropped:
            self._data.clear()
            self._data.extend(kept)
            self._writable.set()
        return dropped
