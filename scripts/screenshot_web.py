"""Screenshot of the web client after a short spoken conversation, for the README.

    .venv/bin/python scripts/screenshot_web.py [--out docs/img/web-client.png]

Starts voxhub in process (installed models, a throwaway data directory), says a question through Chromium's
fake microphone (spoken by voxhub's own TTS), waits for the answer, and saves the page as a PNG. Needs
Debian's chromium and the `test` extra (Playwright); no browser is downloaded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import wave
from pathlib import Path

import uvicorn
from playwright.async_api import async_playwright

from voxhub.audio import PcmAudio, resample
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool
from voxhub.engines.tts.base import synthesize_all
from voxhub.server import create_app

QUESTION = "What is the capital of France?"
PORT = 8391
CHROMIUM = "/usr/bin/chromium"


async def microphone_wav(pool: EnginePool, path: Path) -> Path:
    spoken = resample(await synthesize_all(await pool.get("tts", None), QUESTION), 16000)
    audio = PcmAudio.silence(5000, 16000) + spoken + PcmAudio.silence(60_000, 16000)  # after the greeting
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes(audio.pcm_s16le)
    return path


async def main(out: Path) -> None:
    os.environ.setdefault("VOXHUB_WYOMING_ENABLED", "false")
    with tempfile.TemporaryDirectory(prefix="voxhub-shot-") as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data", models_dir=load_settings().models_root)
        pool = await EnginePool.load(settings)
        config = uvicorn.Config(create_app(settings, engines=pool), port=PORT, log_level="warning")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        try:
            wav = await microphone_wav(pool, Path(tmp) / "question.wav")
            while not server.started:
                if serving.done():
                    serving.result()  # it failed to start: say why
                await asyncio.sleep(0.05)
            async with async_playwright() as playwright:
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
                page = await browser.new_page(viewport={"width": 1000, "height": 520})
                await page.goto(f"http://127.0.0.1:{PORT}/")
                await page.wait_for_function("() => window.voxhub.turns.length > 0", timeout=90_000)
                await page.wait_for_function(
                    "() => window.voxhub.events.includes('response')", timeout=90_000
                )
                await page.screenshot(path=str(out))
                await browser.close()
        finally:
            server.should_exit = True
            await serving
            await pool.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img/web-client.png"))
    out = parser.parse_args().out
    asyncio.run(main(out))
    print(f"saved {out} ({out.stat().st_size // 1024} KiB)")
