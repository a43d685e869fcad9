"""Cost of the pipeline itself: µs per 20 ms audio frame per pass-through stage, voxhub against Pipecat.

    .venv/bin/python benchmarks/pipeline_overhead.py [--frames 20000] [--repeats 5] [--profile]

Both pipelines get 5 stages that pass every frame on unchanged (voxhub's `Stage` default, Pipecat's
`FrameProcessor` pushing each frame on) and N frames of 640 bytes (20 ms at 16 kHz); a sink after the last
stage counts them. Two ways of feeding:

- **one at a time**: push a frame, wait until it reaches the sink, push the next. A live 20 ms stream is
  like this: each frame crosses the pipeline alone, so each stage's task wakes up once per frame.
- **burst**: push all frames as fast as the pipeline takes them (throughput; queues batch the wake-ups).

Per stage = (time per frame with 5 stages − time per frame with 1 stage) ÷ 4, so the fixed cost of
feeding and counting cancels out. Pipecat is measured when `pipecat-ai` is importable (the `bench` extra),
driven by its `PipelineWorker` and `WorkerRunner` (the 1.x names of `PipelineTask` and `PipelineRunner`),
once with its defaults and once lean (no RTVI, turn tracking or idle watch); the ratio uses the lean one.
`--profile` profiles voxhub's one-at-a-time run with pyinstrument.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from voxhub.pipeline.frames import AudioInFrame, Frame
from voxhub.pipeline.stage import Pipeline, Stage

FRAME_BYTES = 640  # 20 ms of 16 kHz s16le mono
RATE_HZ = 16000
STAGES = 5
TARGET_RATIO = 0.2

# Runs one measurement: (stages, frames, one_at_a_time) -> seconds for all frames.
Runner = Callable[[int, int, bool], Awaitable[float]]


class _Counter:
    """The sink: counts frames and wakes whoever waits for the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self.wanted = 0
        self.done: asyncio.Future[None] | None = None

    def expect(self, wanted: int) -> asyncio.Future[None]:
        self.wanted = wanted
        self.done = asyncio.get_running_loop().create_future()
        return self.done

    def hit(self) -> None:
        self.count += 1
        if self.count >= self.wanted and self.done is not None and not self.done.done():
            self.done.set_result(None)


# -- voxhub -----------------------------------------------------------------------------------------


async def run_voxhub(stages: int, frames: int, one_at_a_time: bool) -> float:
    counter = _Counter()

    async def sink(frame: Frame) -> None:
        counter.hit()

    pipeline = Pipeline([Stage() for _ in range(stages)], sink)
    await pipeline.start()
    audio = bytes(FRAME_BYTES)
    batch = [AudioInFrame(audio, RATE_HZ) for _ in range(frames)]
    started = time.perf_counter()
    if one_at_a_time:
        for index, frame in enumerate(batch, 1):
            arrived = counter.expect(index)
            await pipeline.push(frame)
            await arrived
    else:
        arrived = counter.expect(frames)
        for frame in batch:
            await pipeline.push(frame)
        await arrived
    elapsed = time.perf_counter() - started
    await pipeline.stop()
    return elapsed


# -- Pipecat ----------------------------------------------------------------------------------------


def pipecat_available() -> bool:
    return importlib.util.find_spec("pipecat") is not None


def pipecat_runner(lean: bool) -> Runner:
    """A runner for Pipecat's pipeline; imported here so voxhub's figures need no Pipecat."""
    from loguru import logger

    logger.remove()  # Pipecat logs on import and per worker; those lines would be timed too
    from pipecat.frames.frames import EndFrame, InputAudioRawFrame
    from pipecat.pipeline.pipeline import Pipeline as PipecatPipeline
    from pipecat.pipeline.pipeline import PipelineSink
    from pipecat.pipeline.worker import PipelineWorker
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.workers.runner import WorkerRunner

    class PassThrough(FrameProcessor):
        async def process_frame(self, frame: Any, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            await self.push_frame(frame, direction)

    async def run(stages: int, frames: int, one_at_a_time: bool) -> float:
        counter = _Counter()
        holder: dict[str, Any] = {}

        async def count_and_forward(frame: Any, direction: FrameDirection) -> None:
            if isinstance(frame, InputAudioRawFrame):
                counter.hit()
            await holder["pipeline"].push_frame(frame, direction)

        pipeline = PipecatPipeline(
            [PassThrough() for _ in range(stages)], sink=PipelineSink(count_and_forward)
        )
        holder["pipeline"] = pipeline
        options: dict[str, Any] = (
            {"enable_rtvi": False, "enable_turn_tracking": False, "idle_timeout_secs": None} if lean else {}
        )
        worker = PipelineWorker(pipeline, check_dangling_tasks=False, **options)
        runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
        await runner.add_workers(worker)
        running = asyncio.create_task(runner.run())
        audio = bytes(FRAME_BYTES)
        batch = [InputAudioRawFrame(audio=audio, sample_rate=RATE_HZ, num_channels=1) for _ in range(frames)]
        # Wait for the StartFrame to cross, so start-up is not timed.
        warm = counter.expect(1)
        await worker.queue_frame(InputAudioRawFrame(audio=audio, sample_rate=RATE_HZ, num_channels=1))
        await warm
        counter.count = 0
        started = time.perf_counter()
        if one_at_a_time:
            for index, frame in enumerate(batch, 1):
                arrived = counter.expect(index)
                await worker.queue_frame(frame)
                await arrived
        else:
            arrived = counter.expect(frames)
            for frame in batch:
                await worker.queue_frame(frame)
            await arrived
        elapsed = time.perf_counter() - started
        await worker.queue_frame(EndFrame())
        await asyncio.wait_for(running, 10)
        return elapsed

    return run


# -- measuring --------------------------------------------------------------------------------------


async def per_frame_us(run: Runner, stages: int, frames: int, one_at_a_time: bool, repeats: int) -> float:
    """Median µs per frame over `repeats` runs (after one warm-up run)."""
    await run(stages, min(frames, 1000), one_at_a_time)
    results = []
    for _ in range(repeats):
        gc.collect()
        results.append(1e6 * await run(stages, frames, one_at_a_time) / frames)
    return statistics.median(results)


async def measure(run: Runner, frames: int, repeats: int) -> dict[str, dict[str, float]]:
    """For each feeding mode: µs per frame end to end with 1 and 5 stages, and per stage."""
    figures = {}
    for mode, one_at_a_time in (("one at a time", True), ("burst", False)):
        one = await per_frame_us(run, 1, frames, one_at_a_time, repeats)
        five = await per_frame_us(run, STAGES, frames, one_at_a_time, repeats)
        figures[mode] = {"1 stage": one, "5 stages": five, "per stage": (five - one) / (STAGES - 1)}
    return figures


def print_table(results: dict[str, dict[str, dict[str, float]]]) -> None:
    print("| pipeline | feeding | µs/frame, 1 stage | µs/frame, 5 stages | µs/frame per stage |")
    print("|---|---|---|---|---|")
    for name, figures in results.items():
        for mode, row in figures.items():
            print(
                f"| {name} | {mode} | {row['1 stage']:.1f} | {row['5 stages']:.1f} | {row['per stage']:.1f} |"
            )


def print_ratios(results: dict[str, dict[str, dict[str, float]]], basis: str) -> None:
    print()
    for mode in ("one at a time", "burst"):
        ours = results["voxhub"][mode]["per stage"]
        theirs = results[basis][mode]["per stage"]
        ratio = ours / theirs
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(
            f"per-stage cost, {mode}: voxhub {ours:.1f} µs vs {basis} {theirs:.1f} µs = "
            f"{ratio:.2f}x (target ≤ {TARGET_RATIO}x: {verdict})"
        )


async def profile_voxhub(frames: int) -> None:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0001, async_mode="disabled")
    profiler.start()
    await run_voxhub(STAGES, frames, True)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


async def main(args: argparse.Namespace) -> None:
    results = {"voxhub": await measure(run_voxhub, args.frames, args.repeats)}
    basis = ""
    if pipecat_available():
        from importlib.metadata import version

        name = f"pipecat {version('pipecat-ai')}"
        results[f"{name} (lean)"] = await measure(pipecat_runner(lean=True), args.frames, args.repeats)
        results[f"{name} (defaults)"] = await measure(pipecat_runner(lean=False), args.frames, args.repeats)
        basis = f"{name} (lean)"
    print(f"{args.frames} frames of {FRAME_BYTES} bytes, median of {args.repeats} runs\n")
    print_table(results)
    if basis:
        print_ratios(results, basis)
    else:
        print("\npipecat-ai is not installed: `pip install -e '.[bench]'` to compare")
    if args.profile:
        print("\nvoxhub, one frame at a time through 5 stages, profiled:\n")
        await profile_voxhub(args.frames)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000, help="frames per run (default 20000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure; the median is shown")
    parser.add_argument("--profile", action="store_true", help="profile voxhub's run with pyinstrument")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
