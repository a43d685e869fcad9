"""One STT queue for every session: finals first, partials best-effort, lanes sized to the cores.

- A final (`transcribe`) starts as soon as a lane is free, ahead of every queued partial. It never waits
  behind another session's partial: while partials hold all `workers` lanes, one more lane opens for it.
- A partial (`transcribe_partial`) runs only when no final is queued or decoding and a lane is free: on a
  busy CPU a partial beside a final would halve the final's share of the cores. Each stream has at
  most one queued: a newer request takes its place and the older caller gets None (coalesced). Its audio is
  read when the decode starts, so a partial that waited decodes everything heard by then.
- Batching: when the engine can decode several utterances in one pass (`BatchSttEngine`), a lane takes every
  queued final (up to `max_batch`) at once, or every queued partial: one encoder pass and one `generate`
  call cost less than the same decodes one after another (docs/benchmarks.md). Finals and partials never
  share a batch, so a final never waits for a partial's decode.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from voxhub.audio.pcm import PcmAudio
from voxhub.engines.stt.base import BatchSttEngine, SttEngine, SttRequest, Transcript

if TYPE_CHECKING:
    from voxhub.config import Settings


def stt_workers(settings: Settings) -> int:
    """Decodes at a time: `stt_workers`, or (0) as many as the cores hold at `stt_threads` each."""
    if settings.stt_workers:
        return settings.stt_workers
    return max(1, (os.cpu_count() or 1) // settings.stt_threads)


@dataclass(eq=False, slots=True)
class _Job:
    audio: Callable[[], PcmAudio]
    language: str | None
    prompt: str | None
    partial: bool
    stream: object = None
    done: asyncio.Future[Transcript | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SttScheduler:
    """An `SttEngine` in front of another, shared by every session; `transcribe` is a final."""

    def __init__(self, engine: SttEngine, *, workers: int, max_batch: int = 1) -> None:
        self.engine = engine
        self.max_batch = max(1, max_batch) if isinstance(engine, BatchSttEngine) else 1
        self.name = engine.name
        self.capabilities = engine.capabilities
        self.workers = max(1, workers)
        self._finals: deque[_Job] = deque()
        self._partials: OrderedDict[object, _Job] = OrderedDict()  # stream -> its one queued partial
        self._running_finals = 0
        self._running_partials = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        raise TypeError("SttScheduler wraps an engine: SttScheduler(engine, workers=stt_workers(settings))")

    async def warm_up(self) -> None:
        await self.engine.warm_up()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for job in (*self._finals, *self._partials.values()):
            job.done.cancel()
        self._finals.clear()
        self._partials.clear()
        await self.engine.aclose()

    @property
    def queued(self) -> tuple[int, int]:
        """(finals, partials) waiting for a lane."""
        return len(self._finals), len(self._partials)

    async def transcribe(
        self, audio: PcmAudio, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        """A final transcript: ahead of every queued partial."""
        job = _Job(lambda: audio, language, prompt, partial=False)
        self._finals.append(job)
        result = await self._wait(job)
        assert result is not None
        return result

    async def transcribe_partial(
        self, audio: Callable[[], PcmAudio], *, stream: object, language: str | None = None
    ) -> Transcript | None:
        """A partial of `stream`, decoded from `audio()` when a lane frees; None if a newer one replaced it."""
        older = self._partials.pop(stream, None)
        if older is not None:
            older.done.set_result(None)
        job = _Job(audio, language, None, partial=True, stream=stream)
        self._partials[stream] = job
        return await self._wait(job)

    def drop_partial(self, stream: object) -> None:
        """Forget `stream`'s queued partial (its final is coming); its caller gets None."""
        job = self._partials.pop(stream, None)
        if job is not None:
            job.done.set_result(None)

    async def _wait(self, job: _Job) -> Transcript | None:
        self._dispatch()
        try:
            return await asyncio.shield(job.done)
        except asyncio.CancelledError:
            self._unqueue(job)
            raise

    def _unqueue(self, job: _Job) -> None:
        """A caller gave up: a job still queued leaves the queue; a running one finishes for nobody."""
        if job.partial:
            if self._partials.get(job.stream) is job:
                del self._partials[job.stream]
        else:
            with contextlib.suppress(ValueError):
                self._finals.remove(job)

    def _dispatch(self) -> None:
        """Start what the free lanes allow: finals first, then partials in the order they were asked."""
        while self._finals:
            running = self._running_finals + self._running_partials
            spare = 1 if self._running_partials else 0  # the lane no partial may take
            if running >= self.workers + spare:
                break
            count = min(self.max_batch, len(self._finals))
            self._start([self._finals.popleft() for _ in range(count)], partial=False)
        while self._partials and not self._finals and not self._running_finals:
            if self._running_finals + self._running_partials >= self.workers:
                break
            count = min(self.max_batch, len(self._partials))
            self._start([self._partials.popitem(last=False)[1] for _ in range(count)], partial=True)

    def _start(self, jobs: list[_Job], *, partial: bool) -> None:
        if partial:
            self._running_partials += 1
        else:
            self._running_finals += 1
        task = asyncio.create_task(self._run(jobs, partial=partial))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, jobs: list[_Job], *, partial: bool) -> None:
        try:
            requests = [SttRequest(job.audio(), job.language, job.prompt) for job in jobs]
            if len(requests) > 1 and isinstance(self.engine, BatchSttEngine):
                results = await self.engine.transcribe_batch(requests)
            else:
                results = [await self._one(request) for request in requests]
        except asyncio.CancelledError:
            for job in jobs:
                if not job.done.done():
                    job.done.cancel()
            raise
        except Exception as exc:
            results = [exc] * len(jobs)
        finally:
            if partial:
                self._running_partials -= 1
            else:
                self._running_finals -= 1
        for job, result in zip(jobs, results, strict=True):
            if job.done.done():
                continue
            if isinstance(result, Exception):
                job.done.set_exception(result)
            else:
                job.done.set_result(result)
        self._dispatch()

    async def _one(self, request: SttRequest) -> Transcript | Exception:
        try:
            return await self.engine.transcribe(
                request.audio, language=request.language, prompt=request.prompt
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return exc
