"""Stages and the pipeline that links them: each stage runs as its own task, reading its inbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from voxhub.pipeline.frames import EndFrame, Frame
from voxhub.pipeline.queue import FrameQueue

Push = Callable[[Frame], Awaitable[None]]
# (the stage, the frame it failed on, the exception): the pipeline's owner turns it into an error frame
OnError = Callable[["Stage", Frame, Exception], Awaitable[None]]
_log = logging.getLogger(__name__)


class Stage:
    """A step of the pipeline. The default passes every frame on unchanged."""

    name = "stage"
    inbox: FrameQueue | None = None  # set by the pipeline; a stage may look ahead in it (pacing, purging)
    # Set by the pipeline: hands a small event frame to the next stage without waiting for room, so a
    # stage whose output is full of audio still passes events (and sees the next urgent frame) at once.
    forward_now: Callable[[Frame], None] | None = None

    async def process(self, frame: Frame, push: Push) -> None:
        await push(frame)

    async def start(self, push: Push) -> None:
        """Called once before the first frame, with the push of the next stage."""

    async def stop(self) -> None:
        """Called once when the pipeline ends; cancel any work of the stage's own."""


class Pipeline:
    """Stages in a row, each with a bounded inbox; the last stage's output goes to `sink`."""

    def __init__(
        self,
        stages: Sequence[Stage],
        sink: Push,
        *,
        queue_size: int = 64,
        on_error: OnError | None = None,
    ) -> None:
        self.stages = list(stages)
        self._on_error = on_error
        self.inboxes = [FrameQueue(queue_size) for _ in self.stages]
        self._sink = sink
        self._tasks: list[asyncio.Task[None]] = []

    def push_for(self, index: int) -> Push:
        """Where stage `index` sends its frames: the next inbox, or the sink after the last stage."""
        if index + 1 < len(self.inboxes):
            return self.inboxes[index + 1].put
        return self._sink

    async def start(self) -> None:
        for index, stage in enumerate(self.stages):
            stage.inbox = self.inboxes[index]
            if index + 1 < len(self.inboxes):
                stage.forward_now = self.inboxes[index + 1].put_nowait
            await stage.start(self.push_for(index))
        self._tasks = [
            asyncio.create_task(self._run(index), name=f"voxhub-stage-{stage.name}")
            for index, stage in enumerate(self.stages)
        ]

    async def push(self, frame: Frame) -> None:
        """Feed the first stage (waits while its inbox is full)."""
        await self.inboxes[0].put(frame)

    async def stop(self) -> None:
        """Send EndFrame through and wait for every stage to finish."""
        if not self._tasks:
            return
        self.inboxes[0].put_urgent(EndFrame())
        _, pending = await asyncio.wait(self._tasks, timeout=5.0)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for stage in self.stages:
            await stage.stop()
        self._tasks = []

    async def _run(self, index: int) -> None:
        stage, inbox, push = self.stages[index], self.inboxes[index], self.push_for(index)
        while True:
            frame = await inbox.get()
            if isinstance(frame, EndFrame):
                await push(frame)
                return
            try:
                await stage.process(frame, push)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A stage's bug must not take the session down, nor pass in silence: the owner reports it
                # to the client and ends the turn it hit.
                _log.exception("stage %s failed on %s", stage.name, type(frame).__name__)
                if self._on_error is not None:
                    await self._on_error(stage, frame, exc)
