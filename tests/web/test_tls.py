"""https/wss from another address: the web client in Chromium, against this machine's non-loopback address."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn

from tests.speech import espeak_speech, words
from tests.web.browser import chromium, open_page, wait_for
from tests.web.test_web_client import microphone_file
from voxhub.config import load_settings
from voxhub.deploy.certs import lan_addresses, make_certificate, write_certificate
from voxhub.engines.pool import EnginePool
from voxhub.server import create_app

LAN = next((str(a) for a in lan_addresses() if a.version == 4 and not a.is_loopback), None)
needs_lan = pytest.mark.skipif(LAN is None, reason="this machine has no non-loopback IPv4 address")


@asynccontextmanager
async def serve_on_lan(
    tmp_path: Path, models_dir: Path, engines: EnginePool, tls: bool
) -> AsyncIterator[str]:
    """voxhub on the LAN address, as `voxhub serve --host LAN [--ssl-certfile … --ssl-keyfile …]` runs it."""
    assert LAN is not None
    cert, key = write_certificate(
        tmp_path / "tls", *make_certificate(["voxhub.test"], [ipaddress.ip_address(LAN)])
    )
    tls_settings = {"ssl_certfile": cert, "ssl_keyfile": key} if tls else {}
    settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir, host=LAN, **tls_settings)
    with socket.socket() as probe:
        probe.bind((LAN, 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engines=engines),
            host=LAN,
            port=port,
            log_config=None,
            ssl_certfile=settings.ssl_certfile,
            ssl_keyfile=settings.ssl_keyfile,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"{'https' if tls else 'http'}://{LAN}:{port}"
    finally:
        server.should_exit = True
        await task


@needs_lan
@pytest.mark.slow
async def test_over_https_from_a_lan_address_the_microphone_is_heard(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    microphone = microphone_file(tmp_path, espeak_speech("What is the capital of France?"))
    async with (
        serve_on_lan(tmp_path, models_dir, engine_pool, tls=True) as url,
        chromium(microphone) as browser,
    ):
        context = await browser.new_context(ignore_https_errors=True)  # the self-signed certificate
        page = await context.new_page()
        await page.goto(url + "/")
        await wait_for(page, "state.connection === 'open' && state.micFramesSent > 0", 60)
        await page.locator("#log li.user").first.wait_for(timeout=90_000)
        said = await page.locator("#log li.user").first.inner_text()
        secure = await page.evaluate("() => window.isSecureContext && location.protocol")

    assert secure == "https:"
    assert {"capital", "france"} <= set(words(said))  # the speech went over wss and was transcribed


@needs_lan
async def test_over_plain_http_from_a_lan_address_the_page_says_why_there_is_no_microphone(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    async with serve_on_lan(tmp_path, models_dir, engine_pool, tls=False) as url, chromium() as browser:
        page = await open_page(browser, url + "/")
        await page.locator("#log li.error").first.wait_for(timeout=30_000)
        shown = await page.locator("#log li.error").all_inner_texts()

    assert any("allow the microphone only over https or on localhost" in text for text in shown), shown
    assert not any("Cannot read properties" in text for text in shown), shown
