"""End of turn per engine: early cuts on sentences with a pause mid-way, and how soon complete turns end.

    PYTHONPATH=src .venv/bin/python benchmarks/turns.py [--engines silence,text,smart-turn,combined]
        [--voices en-us,en-gb] [--seed 1]

The set is synthesized at run time with espeak-ng (nothing checked in): each incomplete sentence is said
with an SSML break of 300–900 ms at a word boundary ("What is the tallest mountain <pause> in the world"),
so the voice carries on mid-sentence as a speaker would; each complete one is said whole. Every clip goes
through a real listening stage (Silero VAD, Whisper through the STT scheduler, partials on, the speculative
final) in real time, 20 ms frames, then 1.5 s of quiet. An incomplete sentence whose turn ended in the pause
(a final transcript before the rest was said) is an early cut; for complete ones, end of speech → endpoint
is the audio the listener heard past the VAD's end of speech before it ended the turn. Prints one markdown
table row per engine, and the load average (other work on the machine shows in the figures).

A verdict that comes after the silence window changes nothing, so on a loaded machine the live figures show
mostly the window. `--verdicts` asks each engine at each clip's pause with no clock running (the clip up to
100 ms past the VAD's end of the first or last segment, decoded by the same Whisper) and counts which band
its verdict falls in: what the engine would do if it answered in time.
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
from dataclasses import dataclass

from voxhub.audio import PcmAudio, decode_audio, resample
from voxhub.config import Settings
from voxhub.engines.llm.local import LocalLlm
from voxhub.engines.pool import EnginePool
from voxhub.engines.turn.base import TurnQuery, silence_needed_ms
from voxhub.engines.turn.loader import load_turn_engine
from voxhub.engines.vad.segmenter import find_segments
from voxhub.pipeline.frames import AudioInFrame, Frame, SpeechStoppedFrame, TranscriptFrame
from voxhub.pipeline.listener import ListenerStage, ListeningOptions
from voxhub.pipeline.turns import Turns

CUT = (  # "|" is where the speaker pauses
    "What is the tallest mountain | in the world",
    "Turn on the | kitchen light",
    "Can you remind me to | call my mother tomorrow",
    "Set a timer for | ten minutes",
    "What is the weather like in | Warsaw today",
    "Play some music by | the Beatles",
    "I would like to know | how far away the moon is",
    "Tell me about the | history of Rome",
)
WHOLE = (
    "What is the tallest mountain in the world?",
    "Turn on the kitchen light.",
    "Set a timer for ten minutes.",
    "What time is it?",
    "Tell me a joke.",
    "Lock the front door, please.",
    "How far away is the moon?",
    "Play some music.",
)
FRAME_MS = 20
TAIL_MS = 1500


@dataclass(frozen=True, slots=True)
class Clip:
    audio: PcmAudio
    cut: bool  # said with a pause mid-sentence: the turn must not end there
    text: str


def espeak(ssml: str, voice: str) -> PcmAudio:
    program = shutil.which("espeak-ng")
    if program is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    command = [program, "-m", "-v", voice, "--stdout", f"<speak>{ssml}</speak>"]
    wav = subprocess.run(command, capture_output=True, check=True).stdout
    return resample(decode_audio(wav), 16000)


def the_set(voices: list[str], rng: random.Random) -> list[Clip]:
    clips = []
    for voice in voices:
        for text in CUT:
            pause = rng.randrange(300, 901, 50)
            ssml = text.replace("|", f"<break time='{pause}ms'/>")
            clips.append(Clip(espeak(ssml, voice), True, f"{text} ({pause} ms, {voice})"))
        clips.extend(Clip(espeak(text, voice), False, f"{text} ({voice})") for text in WHOLE)
    return clips


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def hear(stage: ListenerStage, clip: Clip, events: list[Frame]) -> tuple[bool, float | None]:
    """(cut early?, ms past end of speech at the endpoint) for one clip fed in real time."""
    events.clear()
    quiet = PcmAudio.silence(TAIL_MS, 16000).pcm_s16le
    pcm = clip.audio.pcm_s16le + quiet
    step = 16000 * FRAME_MS // 1000 * 2
    loop = asyncio.get_running_loop()
    clock = loop.time()

    async def push(frame: Frame) -> None:
        events.append(frame)

    for start in range(0, len(pcm), step):
        await stage.process(AudioInFrame(pcm[start : start + step], 16000), push)
        clock += FRAME_MS / 1000
        await asyncio.sleep(max(0.0, clock - loop.time()))
    for _ in range(500):  # every ended turn's final arrives before the next clip starts
        ended = sum(isinstance(f, SpeechStoppedFrame) for f in events)
        if ended and sum(isinstance(f, TranscriptFrame) and f.is_final for f in events) >= ended:
            break
        await asyncio.sleep(0.02)
    finals = [f for f in events if isinstance(f, TranscriptFrame) and f.is_final and f.text]
    stops = [f for f in events if isinstance(f, SpeechStoppedFrame)]
    return len(finals) > 1, (stops[-1].detected_after_ms if stops else None)


async def run_engine(
    name: str, pool: EnginePool, llm: LocalLlm | None, clips: list[Clip], verbose: bool = False
) -> str:
    turn = await load_turn_engine(name, pool.settings, llm)
    counter = itertools.count()
    events: list[Frame] = []
    turns = Turns()
    stage = ListenerStage(
        await pool.get("vad"),
        await pool.get("stt"),
        None,
        ListeningOptions(),
        new_turn_id=lambda: f"t{next(counter)}",
        turn_engine=turn,
        turns=turns,
    )

    async def sink(frame: Frame) -> None:
        events.append(frame)

    await stage.start(sink)
    cuts, endpoints = 0, []
    for clip in clips:
        early, after_ms = await hear(stage, clip, events)
        if verbose:
            heard = [turns.get(f.turn_id) for f in events if isinstance(f, TranscriptFrame) and f.is_final]
            ends = [(t.endpoint.verdict, t.endpoint.failed, t.endpoint.paused_ms) for t in heard if t]
            print(f"  {clip.text}: early {early}, endpoint {after_ms}, verdicts {ends}")
        if clip.cut:
            cuts += early
        elif after_ms is not None:
            endpoints.append(after_ms)
    await stage.stop()
    if name != "silence" or llm is None:
        await turn.aclose()
    cut_total = sum(clip.cut for clip in clips)
    return (
        f"| {name} | {cuts}/{cut_total} ({100 * cuts / cut_total:.0f} %) | {statistics.median(endpoints):.0f} ms | "
        f"{percentile(endpoints, 0.95):.0f} ms | {len(endpoints)} |"
    )


async def verdicts(pool: EnginePool, llm: LocalLlm | None, clips: list[Clip], engines: list[str]) -> None:
    """Each engine's verdict at each clip's pause, timing aside: which silence it would ask for."""
    vad, stt = await pool.get("vad"), await pool.get("stt")
    split = pool.settings.model_copy(update={"vad_stop_secs": 0.2})  # every pause of 300 ms or more splits
    queries: list[tuple[Clip, TurnQuery]] = []
    for clip in clips:
        segments = find_segments(vad.create_stream(16000), clip.audio, split)
        if not segments:
            continue
        end_ms = (segments[0] if clip.cut else segments[-1]).end_ms + 100.0  # as the listener asks
        audio = clip.audio.slice_ms(0, end_ms)
        text = (await stt.transcribe(audio, language="en")).text.strip()
        queries.append((clip, TurnQuery(audio, text, "en")))
    print(
        "| turn_engine | cut phrases called complete (→ 250 ms) | cut phrases made to wait (→ 1.2 s) | "
        "complete turns called complete (→ 250 ms) | complete turns made to wait |"
    )
    print("|---|---|---|---|---|")
    for name in engines:
        turn = await load_turn_engine(name, pool.settings, llm)
        bands: dict[tuple[bool, float], int] = {}
        for clip, query in queries:
            needed = silence_needed_ms(await turn.complete(query), 500.0)
            bands[clip.cut, needed] = bands.get((clip.cut, needed), 0) + 1
        await turn.aclose()
        cut_n = sum(clip.cut for clip, _ in queries)
        whole_n = len(queries) - cut_n
        print(
            f"| {name} | {bands.get((True, 250.0), 0)}/{cut_n} | {bands.get((True, 1200.0), 0)}/{cut_n} | "
            f"{bands.get((False, 250.0), 0)}/{whole_n} | {bands.get((False, 1200.0), 0)}/{whole_n} |",
            flush=True,
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", default="silence,text,smart-turn,combined")
    parser.add_argument("--voices", default="en-us,en-gb")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="each clip's outcome and verdicts")
    parser.add_argument("--verdicts", action="store_true", help="the engines' verdicts, timing aside")
    args = parser.parse_args()
    engines = args.engines.split(",")
    settings = Settings()
    pool = await EnginePool.load(settings, stages=("vad", "stt"))
    llm = LocalLlm.from_settings(settings) if {"text", "combined"} & set(engines) else None
    clips = the_set(args.voices.split(","), random.Random(args.seed))
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    print(f"stt_model {settings.stt_model}, vad_stop_secs {settings.vad_stop_secs:g}, voices {args.voices}")
    print()
    if args.verdicts:
        await verdicts(pool, llm, clips, engines)
        engines = []
    else:
        print(
            "| turn_engine | early cuts (incomplete answered) | end of speech → endpoint p50 | p95 | complete |"
        )
        print("|---|---|---|---|---|")
    for name in engines:
        print(await run_engine(name, pool, llm, clips, args.verbose), flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    if llm is not None:
        await llm.aclose()
    await pool.aclose()


if __name__ == "__main__":
    asyncio.run(main())
