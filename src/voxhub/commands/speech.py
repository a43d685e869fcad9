"""`voxhub transcribe`, `say` and `detect`: speech to text, text to speech, and what the VAD and wake-word
engines hear in a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from voxhub.audio import OUTPUT_FORMATS, PcmAudio, decode_audio, encode_audio, resample
from voxhub.commands.common import ConfigOption, load_engines, read_settings, reported_errors, run
from voxhub.config import Settings
from voxhub.console import (
    stderr,
    stdout,
)
from voxhub.engines.tts.base import synthesize_all
from voxhub.engines.vad.segmenter import find_segments
from voxhub.errors import AudioError


def transcribe(
    file: Annotated[Path, typer.Argument(help="Audio file: wav, mp3, ogg/opus, webm, flac …", exists=True)],
    language: Annotated[str | None, typer.Option(help="Language of the speech, e.g. en, pl.")] = None,
    engine: Annotated[str | None, typer.Option(help="STT engine (default: stt_engine setting).")] = None,
    config: ConfigOption = None,
) -> None:
    """Print the transcript of an audio file."""
    settings = read_settings(config, stt_engine=engine)
    with reported_errors():
        audio = decode_audio(file.read_bytes())
    stdout.print(run(_transcribe(settings, audio, language or settings.stt_language)), highlight=False)


async def _transcribe(settings: Settings, audio: PcmAudio, language: str) -> str:
    loaded = await load_engines(settings, "stt")
    try:
        assert loaded.stt is not None
        return (await loaded.stt.transcribe(audio, language=language)).text
    finally:
        await loaded.aclose()


def say(
    text: Annotated[str, typer.Argument(help="What to say.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Audio file to write; its suffix picks the format.")
    ],
    engine: Annotated[str | None, typer.Option(help="TTS engine (default: tts_engine setting).")] = None,
    voice: Annotated[str | None, typer.Option(help="Voice name.")] = None,
    language: Annotated[str | None, typer.Option(help="Language, e.g. en, pl.")] = None,
    speed: Annotated[float | None, typer.Option(help="Speaking rate, 1.0 is normal.")] = None,
    config: ConfigOption = None,
) -> None:
    """Synthesize TEXT into an audio file (wav, mp3, opus, flac or raw pcm)."""
    output_format = output.suffix.lstrip(".").lower() or "wav"
    if output_format == "ogg":
        output_format = "opus"
    if output_format not in OUTPUT_FORMATS:
        stderr.print(
            f"[bold red]error:[/] cannot write .{output_format}; use one of: {', '.join(OUTPUT_FORMATS)}"
        )
        raise typer.Exit(2)
    if not output.parent.is_dir():  # said before the engine loads, not as a traceback after
        stderr.print(f"[bold red]error:[/] cannot write {output}: folder {output.parent} does not exist")
        raise typer.Exit(2)
    settings = read_settings(config, tts_engine=engine)
    audio = run(_say(settings, text, voice=voice, language=language, speed=speed))
    try:
        output.write_bytes(encode_audio(audio, output_format))
    except OSError as exc:
        stderr.print(f"[bold red]error:[/] cannot write {output}: {exc.strerror or exc}")
        raise typer.Exit(2) from exc
    stderr.print(
        f"wrote {output} ({audio.duration_secs:.2f} s at {audio.sample_rate_hz} Hz)", highlight=False
    )


async def _say(settings: Settings, text: str, **options: Any) -> PcmAudio:
    loaded = await load_engines(settings, "tts")
    try:
        assert loaded.tts is not None
        return await synthesize_all(loaded.tts, text, **options)
    finally:
        await loaded.aclose()


def detect(
    file: Annotated[Path, typer.Argument(help="Audio file to scan.", exists=True)],
    wake_word: Annotated[
        list[str] | None, typer.Option("--wake-word", "-w", help="Wake word to look for (repeatable).")
    ] = None,
    vad_engine: Annotated[str | None, typer.Option(help="VAD engine (default: vad_engine setting).")] = None,
    wake_engine: Annotated[
        str | None, typer.Option(help="Wake-word engine: micro, openwakeword or combined (default: setting).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print the speech segments the VAD finds, every wake word detected, and each engine's peak scores.

    A `scores` row follows each speech segment: the highest score every wake-word engine gave every word
    during it (`micro:hey_jarvis 0.97`), to tune `wake_threshold` or a profile's sensitivity.
    """
    settings = read_settings(
        config, vad_engine=vad_engine, wake_engine=wake_engine, wake_words=wake_word or None
    )
    with reported_errors():
        audio = decode_audio(file.read_bytes())
    rows = run(_detect(settings, audio))
    table = Table("event", "start", "end", "detail")
    for row in rows:
        table.add_row(*row)
    stdout.print(table)
    if not rows:
        stdout.print("no speech and no wake word found")


async def _detect(settings: Settings, audio: PcmAudio) -> list[tuple[str, str, str, str]]:
    loaded = await load_engines(settings, "vad", "wake")
    assert loaded.vad is not None
    assert loaded.wake is not None
    try:
        rows: list[tuple[float, tuple[str, str, str, str]]] = []
        stream = loaded.vad.create_stream(16000)
        speech = resample(audio, 16000)
        if speech.sample_count == 0:
            raise AudioError("audio is empty")
        segments = find_segments(stream, speech, settings)
        for segment in segments:
            rows.append(
                (
                    segment.start_ms,
                    (
                        "speech",
                        _secs(segment.start_ms),
                        _secs(segment.end_ms),
                        f"{(segment.end_ms - segment.start_ms) / 1000:.2f} s",
                    ),
                )
            )
        wake = loaded.wake.create_stream(settings.wake_words)
        chunk_bytes = 2 * 160  # 10 ms
        # Each segment's scores are read a little after it ends: wake-word models fire on the word's end.
        score_at_ms = [segment.end_ms + 300.0 for segment in segments]
        for offset in range(0, len(speech.pcm_s16le), chunk_bytes):
            heard_ms = offset / 32
            if score_at_ms and heard_ms >= score_at_ms[0]:
                rows.append((score_at_ms.pop(0), _scores_row(wake.peak_scores())))
            found = wake.process(speech.pcm_s16le[offset : offset + chunk_bytes])
            if found:
                rows.append(
                    (
                        found.timestamp_ms,
                        (
                            "wake word",
                            _secs(found.timestamp_ms),
                            "",
                            f"{found.wake_word} ({found.confidence:.2f})",
                        ),
                    )
                )
        if score_at_ms:
            rows.append((score_at_ms[0], _scores_row(wake.peak_scores())))
        return [row for _, row in sorted(rows, key=lambda item: item[0])]
    finally:
        await loaded.aclose()


def _scores_row(peaks: dict[str, float]) -> tuple[str, str, str, str]:
    top = sorted(peaks.items(), key=lambda item: -item[1])
    return ("scores", "", "", ", ".join(f"{key} {score:.2f}" for key, score in top) or "none")


def _secs(milliseconds: float) -> str:
    return f"{milliseconds / 1000:.2f} s"
