"""The API docs in real Chromium with every request off this machine refused: they render from bundled files."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Page, Route

from tests.web.browser import chromium
from tests.web.conftest import Start


async def _offline_page(page: Page, refused: list[str]) -> None:
    async def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort("internetdisconnected")

    await page.route("**/*", guard)


async def test_swagger_ui_renders_with_no_network(start: Start) -> None:
    refused: list[str] = []
    async with start() as url, chromium() as browser:
        page = await browser.new_page()
        await _offline_page(page, refused)
        await page.goto(url + "/docs")
        title = await page.locator(".swagger-ui .info .title").inner_text(timeout=30_000)
        await page.locator(".opblock-summary-path", has_text="/health/ready").first.wait_for(timeout=30_000)
    assert title.startswith("voxhub")
    assert refused == []


async def test_redoc_renders_with_no_network(start: Start) -> None:
    refused: list[str] = []
    async with start() as url, chromium() as browser:
        page = await browser.new_page()
        await _offline_page(page, refused)
        await page.goto(url + "/redoc")
        heading = await page.locator("h1").first.inner_text(timeout=30_000)
    assert "voxhub" in heading
    # ReDoc's bundle may fetch its own "powered by" badge from its CDN: a decoration, nothing of the docs
    assert [address for address in refused if "logo-mini.svg" not in address] == []


async def test_api_docs_is_the_same_swagger_ui(start: Start) -> None:
    async with start() as url, chromium() as browser:
        page = await browser.new_page()
        await page.goto(url + "/api/docs")
        title = await page.locator(".swagger-ui .info .title").inner_text(timeout=30_000)
    assert title.startswith("voxhub")
