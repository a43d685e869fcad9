"""N talking streams on one STT scheduler: end of speech → final transcript, p50/p95, and unanswered.

    PYTHONPATH=src .venv/bin/python benchmarks/stt_streams.py [--streams 10,25] [--utterances 3]
    PYTHONPATH=src .venv/bin/python benchmarks/stt_streams.py --finals 1,4,10 [--rounds 5]

Each stream is a real listening stage (Silero VAD, partials on, the speculative final) fed in real time,
20 ms frames, with an espeak-ng utterance every ~10 s (starts staggered). End of speech is the moment the
last frame of speech was fed; an utterance with no final within 6 s counts as unanswered. Prints one
markdown table row per stream count, and the load average (a busy machine shows in the figures).

`--finals N,…` measures batching alone instead: N finals asked at the same moment through the scheduler,
decoded in one batch (`stt_batch` N) against one after another (`stt_batch` 1), the two alternating round by
round so a change of load hits both; wall time until the last final, and each final's own wait.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import statistics
import subprocess
import time

from voxhub.audio import PcmAudio, decode_audio, resample
from voxhub.config import Settings
from voxhub.engines.pool import EnginePool
from voxhub.engines.stt.scheduler import SttScheduler, stt_workers
from voxhub.engines.stt.whisper import WhisperStt
from voxhub.pipeline.frames import AudioInFrame, Frame, TranscriptFrame
from voxhub.pipeline.listener import ListenerStage, ListeningOptions

SENTENCES = (
    "Turn on the lights in the living room.",
    "What is the weather like this afternoon?",
    "Remind me to call my mother tomorrow morning.",
    "Play some quiet music in the kitchen.",
    "Is it going to rain on Saturday?",
    "Lock the front door please.",
)
FRAME_MS = 20
CYCLE_S = 10.0
GIVE_UP_S = 6.0


def espeak(text: str) -> PcmAudio:
    program = shutil.which("espeak-ng")
    if program is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    wav = subprocess.run([program, "-v", "en-us", "--stdout", text], capture_output=True, check=True).stdout
    return resample(decode_audio(wav), 16000)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def talk(
    pool: EnginePool, clips: list[PcmAudio], utterances: int, offset_s: float, latencies: list[float | None]
) -> None:
    """One stream: quiet until `offset_s`, then an utterance every CYCLE_S; a latency (or None) per one."""
    finals: asyncio.Queue[float] = asyncio.Queue()

    async def push(frame: Frame) -> None:
        if isinstance(frame, TranscriptFrame) and frame.is_final:
            finals.put_nowait(time.perf_counter())

    counter = itertools.count()
    stage = ListenerStage(
        await pool.get("vad"),
        await pool.get("stt"),
        None,
        ListeningOptions(),
        new_turn_id=lambda: f"t{next(counter)}",
    )
    await stage.start(push)
    step = 16000 * FRAME_MS // 1000 * 2
    loop = asyncio.get_running_loop()
    clock = loop.time()
    quiet = PcmAudio.silence(FRAME_MS, 16000).pcm_s16le

    async def feed(pcm: bytes) -> None:
        nonlocal clock
        for start in range(0, len(pcm), step):
            await stage.process(AudioInFrame(pcm[start : start + step], 16000), push)
            clock += FRAME_MS / 1000
            await asyncio.sleep(max(0.0, clock - loop.time()))

    await feed(quiet * round(1000 * offset_s / FRAME_MS))
    for index in range(utterances):
        clip = clips[index % len(clips)]
        await feed(clip.pcm_s16le)
        spoken_at = time.perf_counter()
        rest = CYCLE_S - clip.duration_ms / 1000
        waiter = asyncio.create_task(finals.get())
        await feed(quiet * round(1000 * rest / FRAME_MS))
        try:
            final_at = await asyncio.wait_for(waiter, timeout=max(0.0, GIVE_UP_S - rest))
            latency = final_at - spoken_at
            latencies.append(latency if latency <= GIVE_UP_S else None)
        except TimeoutError:
            latencies.append(None)
    await stage.stop()


async def run(pool: EnginePool, streams: int, utterances: int, clips: list[PcmAudio]) -> str:
    latencies: list[float | None] = []
    rng = random.Random(streams)
    await asyncio.gather(
        *(
            talk(pool, clips[i:] + clips[:i], utterances, rng.uniform(0, CYCLE_S), latencies)
            for i in range(streams)
        )
    )
    answered = [value for value in latencies if value is not None]
    unanswered = len(latencies) - len(answered)
    if not answered:
        return f"| {streams} | {len(latencies)} | {unanswered} | – | – |"
    return (
        f"| {streams} | {len(latencies)} | {unanswered} | {1000 * statistics.median(answered):.0f} ms | "
        f"{1000 * percentile(answered, 0.95):.0f} ms |"
    )


async def finals_at_once(settings: Settings, counts: list[int], rounds: int, clips: list[PcmAudio]) -> None:
    engine = WhisperStt.from_settings(settings)
    await engine.warm_up()
    print("| finals at once | decoded | all done p50 | p95 | each final p50 | p95 | CPU-s per final | load |")
    print("|---|---|---|---|---|---|---|---|")
    for count in counts:
        batch = [clips[i % len(clips)] for i in range(count)]
        done: dict[int, list[float]] = {1: [], count: []}
        each: dict[int, list[float]] = {1: [], count: []}
        cpu: dict[int, float] = {1: 0.0, count: 0.0}
        loads: list[float] = []
        for _ in range(rounds):
            for size in dict.fromkeys((count, 1)):
                stt = SttScheduler(engine, workers=stt_workers(settings), max_batch=size)
                started, cpu_started = time.perf_counter(), time.process_time()

                async def one(audio: PcmAudio, stt: SttScheduler = stt, started: float = started) -> float:
                    await stt.transcribe(audio, language="en")
                    return time.perf_counter() - started

                waits = await asyncio.gather(*(one(audio) for audio in batch))
                done[size].append(max(waits))
                each[size].extend(waits)
                cpu[size] += time.process_time() - cpu_started
                loads.append(os.getloadavg()[0])
        for size in dict.fromkeys((count, 1)):
            label = "one batch" if size > 1 else "one by one"
            print(
                f"| {count} | {label} | {1000 * statistics.median(done[size]):.0f} ms | "
                f"{1000 * percentile(done[size], 0.95):.0f} ms | {1000 * statistics.median(each[size]):.0f} ms | "
                f"{1000 * percentile(each[size], 0.95):.0f} ms | {cpu[size] / (rounds * count):.2f} | "
                f"{min(loads):.1f}–{max(loads):.1f} |",
                flush=True,
            )
    await engine.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", default="10,25")
    parser.add_argument("--utterances", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="stt_threads (default: the setting)")
    parser.add_argument("--window", type=float, default=None, help="stt_window_secs (default: the setting)")
    parser.add_argument("--model", default=None, help="stt_model (default: the setting)")
    parser.add_argument("--finals", default="", help="measure batching: finals asked at once, e.g. 1,4,10")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    overrides = {"stt_threads": args.threads, "stt_window_secs": args.window, "stt_model": args.model}
    settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    if args.finals:
        clips = [espeak(text) for text in SENTENCES]
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
        print(
            f"stt_model {settings.stt_model}, window {settings.stt_window_secs:g} s, "
            f"stt_threads {settings.stt_threads}, {stt_workers(settings)} worker(s), {args.rounds} rounds"
        )
        print()
        await finals_at_once(settings, [int(value) for value in args.finals.split(",")], args.rounds, clips)
        return
    pool = await EnginePool.load(settings, stages=("vad", "stt"))
    clips = [espeak(text) for text in SENTENCES]
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    print(
        f"stt_model {settings.stt_model}, window {settings.stt_window_secs:g} s, stt_threads {settings.stt_threads}, "
        f"{stt_workers(settings)} worker(s)"
    )
    print()
    print("| talking streams | utterances | no final within 6 s | end of speech → final p50 | p95 |")
    print("|---|---|---|---|---|")
    for streams in (int(value) for value in args.streams.split(",")):
        print(await run(pool, streams, args.utterances, clips), flush=True)
    print()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    await pool.aclose()


if __name__ == "__main__":
    asyncio.run(main())
