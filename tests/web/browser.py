"""Real Chromium (Debian's, never a downloaded one) driven by Playwright, its microphone fed from a WAV."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from voxhub.audio import PcmAudio

CHROMIUM = "/usr/bin/chromium"
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def write_wav(audio: PcmAudio, path: Path) -> Path:
    """Chromium's fake microphone plays this file, over and over: end it with long silence."""
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(audio.sample_rate_hz)
        writer.writeframes(audio.pcm_s16le)
    return path


@asynccontextmanager
async def chromium(microphone: Path | None = None) -> AsyncIterator[Browser]:
    """Chromium with a fake microphone (the WAV `microphone`, or a beep) that needs no permission prompt."""
    assert shutil.which(CHROMIUM), "Debian's chromium is not installed: `make test` installs it with apt-get"
    args = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
    ]
    if microphone is not None:
        args.append(f"--use-file-for-fake-audio-capture={microphone}")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            await browser.close()


async def open_page(browser: Browser, url: str) -> Page:
    page = await browser.new_page(viewport={"width": 1100, "height": 620})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(url)
    return page


async def client_state(page: Page) -> dict[str, Any]:
    """What the page exposes on `window.voxhub`: events, per-turn timings, playback and avatar counters."""
    state: dict[str, Any] = await page.evaluate(
        "() => ({...window.voxhub, avatar: {...window.voxhub.avatar, shapes: [...window.voxhub.avatar.shapes]}})"
    )
    return state


async def wait_for(page: Page, condition: str, timeout_secs: float = 60.0) -> None:
    """Wait until the JavaScript expression `condition` (over `state = window.voxhub`) holds."""
    await page.wait_for_function(
        f"() => {{ const state = window.voxhub; return Boolean(state && ({condition})); }}",
        timeout=timeout_secs * 1000,
        polling=100,
    )


class DroppingProxy:
    """A TCP relay in front of a server, whose connections the test can cut as a flaky network would."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> DroppingProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.drop()
        assert self._server is not None
        self._server.close()

    def drop(self) -> None:
        """Cut every open connection, with no closing handshake."""
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [client_out, server_out]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(client_in, server_out), pipe(server_in, client_out))
