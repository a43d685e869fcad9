"""One STT queue for every session: finals overtake queued partials, partials coalesce per stream.

The engine behind the scheduler is a gated stand-in: the test decides when each decode finishes, which a
real decoder on a shared CPU cannot promise. Real decodes through the scheduler are in the pipeline tests.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Self

import pytest

from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.stt.base import SttCapabilities, SttRequest, Transcript
from voxhub.engines.stt.scheduler import SttScheduler, stt_workers


class GatedEngine:
    """Each decode starts (recorded by the audio's name) and ends when the test releases it."""

    name = "gated"
    capabilities = SttCapabilities("gated", 16000, (), streaming=False)

    def __init__(self) -> None:
        self.started: list[str] = []
        self._gates: dict[str, asyncio.Event] = {}
        self.changed = asyncio.Event()

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls()

    async def warm_up(self) -> None:
        return None

    async def transcribe(
        self, audio: PcmAudio, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        label = NAMES[audio.sample_count]
        self.started.append(label)
        self.changed.set()
        gate = self._gates.setdefault(label, asyncio.Event())
        await gate.wait()
        return Transcript(label, language, audio.duration_ms)

    def release(self, label: str) -> None:
        self._gates.setdefault(label, asyncio.Event()).set()

    async def aclose(self) -> None:
        return None

    async def started_count(self, count: int) -> None:
        while len(self.started) < count:
            self.changed.clear()
            await self.changed.wait()


class BatchingEngine(GatedEngine):
    """A gated engine that decodes a batch in one pass; it records each batch's labels."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    async def transcribe(
        self, audio: PcmAudio, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        [result] = await self.transcribe_batch([SttRequest(audio, language, prompt)])
        assert isinstance(result, Transcript)
        return result

    async def transcribe_batch(self, requests: list[SttRequest]) -> list[Transcript | Exception]:
        labels = [NAMES[request.audio.sample_count] for request in requests]
        self.batches.append(labels)
        self.started.extend(labels)
        self.changed.set()
        gate = self._gates.setdefault(labels[0], asyncio.Event())
        await gate.wait()
        return [
            ValueError(label) if label.startswith("bad") else Transcript(label, request.language, 0.0)
            for label, request in zip(labels, requests, strict=True)
        ]


NAMES: dict[int, str] = {}


def clip(label: str) -> PcmAudio:
    """A distinct length of audio per label, so the gated engine knows which request it decodes."""
    samples = 1600 * (len(NAMES) + 1)
    NAMES[samples] = label
    return PcmAudio(b"\0\0" * samples, 16000)


async def settled() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_final_overtakes_the_partials_queued_before_it() -> None:
    engine = GatedEngine()
    stt = SttScheduler(engine, workers=1)
    busy, a, b, final = clip("busy final"), clip("partial a"), clip("partial b"), clip("final c")
    first = asyncio.create_task(stt.transcribe(busy))
    partial_a = asyncio.create_task(stt.transcribe_partial(lambda: a, stream="a"))
    partial_b = asyncio.create_task(stt.transcribe_partial(lambda: b, stream="b"))
    await settled()
    last = asyncio.create_task(stt.transcribe(final))
    await settled()

    for label in ("busy final", "final c", "partial a", "partial b"):
        engine.release(label)
    await asyncio.gather(first, partial_a, partial_b, last)

    assert engine.started == ["busy final", "final c", "partial a", "partial b"]
    assert last.result().text == "final c"


async def test_a_final_does_not_wait_behind_another_sessions_running_partial() -> None:
    engine = GatedEngine()
    stt = SttScheduler(engine, workers=1)
    partial, final = clip("partial a"), clip("final b")
    partial_a = asyncio.create_task(stt.transcribe_partial(lambda: partial, stream="a"))
    await engine.started_count(1)

    final_b = asyncio.create_task(stt.transcribe(final))
    await engine.started_count(2)  # started while the partial still holds the only lane
    engine.release("final b")

    assert (await final_b).text == "final b"
    assert not partial_a.done()
    engine.release("partial a")
    await partial_a


async def test_a_partial_waits_while_a_final_is_decoding() -> None:
    engine = GatedEngine()
    stt = SttScheduler(engine, workers=2)
    final = asyncio.create_task(stt.transcribe(clip("final a")))
    await engine.started_count(1)
    partial = asyncio.create_task(stt.transcribe_partial(functools.partial(clip, "partial b"), stream="b"))
    await settled()

    assert engine.started == ["final a"]  # a lane is free, but the final keeps the cores
    engine.release("final a")
    engine.release("partial b")
    await asyncio.gather(final, partial)
    assert engine.started == ["final a", "partial b"]


async def test_a_streams_newer_partial_replaces_its_queued_one() -> None:
    engine = GatedEngine()
    stt = SttScheduler(engine, workers=1)
    busy, old, new = clip("busy final"), clip("old partial"), clip("new partial")
    first = asyncio.create_task(stt.transcribe(busy))
    older = asyncio.create_task(stt.transcribe_partial(lambda: old, stream="a"))
    await settled()
    newer = asyncio.create_task(stt.transcribe_partial(lambda: new, stream="a"))
    await settled()

    assert await older is None
    assert stt.queued == (0, 1)
    engine.release("busy final")
    engine.release("new partial")
    await first
    result = await newer
    assert result is not None
    assert result.text == "new partial"
    assert engine.started == ["busy final", "new partial"]


async def test_a_queued_partial_decodes_the_audio_heard_by_the_time_it_starts() -> None:
    engine = GatedEngine()
    stt = SttScheduler(engine, workers=1)
    busy, early, late = clip("busy final"), clip("early audio"), clip("late audio")
    heard = [early]
    first = asyncio.create_task(stt.transcribe(busy))
    partial = asyncio.create_task(stt.transcribe_partial(lambda: heard[-1], stream="a"))
    await settled()
    heard.append(late)  # more speech arrived while the partial waited for the lane
    engine.release("busy final")
    engine.release("late audio")
    await first

    result = await partial
    assert result is not None
    assert result.text == "late audio"


async def test_a_cancelled_partial_leaves_the_queue() -> None:
    engine = GatedEngine()
    stt = SttScheduler(engine, workers=1)
    busy, waiting = clip("busy final"), clip("never decoded")
    first = asyncio.create_task(stt.transcribe(busy))
    partial = asyncio.create_task(stt.transcribe_partial(lambda: waiting, stream="a"))
    await settled()

    partial.cancel()
    await settled()

    assert stt.queued == (0, 0)
    engine.release("busy final")
    await first
    assert engine.started == ["busy final"]


async def test_two_workers_decode_two_finals_at_once() -> None:
    engine = GatedEngine()
    stt = SttScheduler(engine, workers=2)
    one, two = clip("final 1"), clip("final 2")
    tasks = [asyncio.create_task(stt.transcribe(one)), asyncio.create_task(stt.transcribe(two))]

    await engine.started_count(2)

    engine.release("final 1")
    engine.release("final 2")
    await asyncio.gather(*tasks)


async def test_finals_that_wait_together_are_decoded_in_one_batch() -> None:
    engine = BatchingEngine()
    stt = SttScheduler(engine, workers=1, max_batch=8)
    busy = asyncio.create_task(stt.transcribe(clip("busy final")))
    await engine.started_count(1)
    waiting = [asyncio.create_task(stt.transcribe(clip(f"final {n}"))) for n in (1, 2, 3)]
    await settled()

    engine.release("busy final")
    engine.release("final 1")
    texts = [transcript.text for transcript in await asyncio.gather(*waiting)]
    await busy

    assert engine.batches == [["busy final"], ["final 1", "final 2", "final 3"]]
    assert texts == ["final 1", "final 2", "final 3"]


async def test_a_batch_of_finals_overtakes_the_partials_queued_before_it() -> None:
    engine = BatchingEngine()
    stt = SttScheduler(engine, workers=1, max_batch=8)
    busy = asyncio.create_task(stt.transcribe(clip("busy final")))
    await engine.started_count(1)
    audio = {stream: clip(f"partial {stream}") for stream in ("a", "b")}
    partials = [
        asyncio.create_task(
            stt.transcribe_partial(functools.partial(audio.__getitem__, stream), stream=stream)
        )
        for stream in ("a", "b")
    ]
    finals = [asyncio.create_task(stt.transcribe(clip(f"final {n}"))) for n in ("c", "d")]
    await settled()

    for label in ("busy final", "final c", "partial a"):
        engine.release(label)
    await asyncio.gather(busy, *finals, *partials)

    assert engine.batches == [["busy final"], ["final c", "final d"], ["partial a", "partial b"]]


async def test_a_batch_is_no_larger_than_the_setting() -> None:
    engine = BatchingEngine()
    stt = SttScheduler(engine, workers=1, max_batch=2)
    busy = asyncio.create_task(stt.transcribe(clip("busy final")))
    await engine.started_count(1)
    waiting = [asyncio.create_task(stt.transcribe(clip(f"final {n}"))) for n in (1, 2, 3)]
    await settled()

    for label in ("busy final", "final 1", "final 3"):
        engine.release(label)
    await asyncio.gather(busy, *waiting)

    assert engine.batches == [["busy final"], ["final 1", "final 2"], ["final 3"]]


async def test_one_failed_utterance_of_a_batch_fails_only_its_caller() -> None:
    engine = BatchingEngine()
    stt = SttScheduler(engine, workers=1, max_batch=8)
    busy = asyncio.create_task(stt.transcribe(clip("busy final")))
    await engine.started_count(1)
    good = asyncio.create_task(stt.transcribe(clip("good final")))
    bad = asyncio.create_task(stt.transcribe(clip("bad final")))
    await settled()

    engine.release("busy final")
    engine.release("good final")
    await busy

    assert (await good).text == "good final"
    with pytest.raises(ValueError, match="bad final"):
        await bad


async def test_an_engine_without_batches_decodes_one_at_a_time() -> None:
    engine = GatedEngine()
    stt = SttScheduler(engine, workers=1, max_batch=8)

    assert stt.max_batch == 1


@pytest.mark.parametrize(("threads", "expected"), [(1, 2), (2, 1)])
def test_workers_are_sized_to_the_cores(threads: int, expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)

    assert stt_workers(Settings(stt_threads=threads)) == expected
