"""End of speech → first sound, measured inside the web client in Debian's Chromium (for latency.py --browser).

Each question is played by Chromium's fake microphone (a WAV: lead-in silence, the question, long silence)
into the page at `/`. The page times everything on its one AudioContext clock: the end of speech is the end
of the last loud 20 ms microphone frame, the first sound is when its playback worklet first output answer
audio. So the figure includes what a browser adds: capture, the AudioWorklet hops, the jitter buffer.
"""

from __future__ import annotations

import tempfile
import wave
from pathlib import Path
from typing import Any

from client import Clip
from harness import ms, pct, table
from voxhub.audio import PcmAudio

LEAD_IN_MS = 1500
TAIL_MS = 60_000  # the fake microphone loops its file; this keeps the question from coming round again
CHROMIUM = "/usr/bin/chromium"
PARTS = (
    ("end of speech → first sound in the page", "end_of_speech_to_first_sound_ms"),
    ("  … → `speech_stopped` arrived", "endpoint_ms"),
    ("  … → final `transcript` arrived", "final_transcript_ms"),
    ("  … → first `response_delta` arrived", "first_text_ms"),
    ("  … → `audio_start` arrived", "first_audio_ms"),
)


def _write_wav(clip: Clip, path: Path) -> Path:
    audio = PcmAudio.silence(LEAD_IN_MS, 16000) + clip.audio + PcmAudio.silence(TAIL_MS, 16000)
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(audio.sample_rate_hz)
        writer.writeframes(audio.pcm_s16le)
    return path


async def browser_turns(base_url: str, clips: list[Clip], runs: int) -> list[dict[str, Any]]:
    """One page per spoken question and run; the page's own timing row of each answered turn."""
    from playwright.async_api import async_playwright  # the `test` extra; only this option needs it

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="voxhub-browser-") as tmp:
        async with async_playwright() as playwright:
            for run in range(runs):
                for index, clip in enumerate(clips):
                    wav = _write_wav(clip, Path(tmp) / f"q{run}_{index}.wav")
                    browser = await playwright.chromium.launch(
                        executable_path=CHROMIUM,
                        args=[
                            "--use-fake-device-for-media-stream",
                            "--use-fake-ui-for-media-stream",
                            f"--use-file-for-fake-audio-capture={wav}",
                            "--autoplay-policy=no-user-gesture-required",
                            "--no-sandbox",
                            "--disable-background-networking",
                            "--disable-component-update",
                        ],
                    )
                    try:
                        page = await browser.new_page()
                        await page.goto(base_url + "/")
                        await page.wait_for_function("() => window.voxhub?.turns.length > 0", timeout=60_000)
                        rows.append((await page.evaluate("() => window.voxhub.turns"))[0])
                    except Exception as exc:  # a timeout: report it and go on with the next question
                        print(f"browser: {clip.text!r} got no answer ({exc!r})")
                    finally:
                        await browser.close()
    return rows


def browser_report(rows: list[dict[str, Any]], websocket_first_audio_secs: list[float]) -> None:
    print(
        f"\nIn the browser (Chromium, fake microphone, the page's AudioContext clock), {len(rows)} turns:\n"
    )
    table_rows = []
    for name, key in PARTS:
        values = [row[key] / 1000 for row in rows if row.get(key) is not None]
        table_rows.append([name, ms(pct(values, 50)), ms(pct(values, 95)), str(len(values))])
    clean = [v for v in websocket_first_audio_secs if v == v]
    table_rows.append(
        [
            "(WebSocket client, same run) end of speech → first audio byte",
            ms(pct(clean, 50)),
            ms(pct(clean, 95)),
            str(len(clean)),
        ]
    )
    print(table(["", "p50 ms", "p95 ms", "n"], table_rows))
