"""With `auth_token` set, Wyoming (which has no token) listens on loopback only unless allowed to serve
other machines, and cannot reach the sessions of the authenticated API; its own conversations still work."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from wyoming.asr import Transcript
from wyoming.error import Error
from wyoming.handle import Handled
from wyoming.info import Describe

from tests.protocols.wyoming.conftest import Voxhub, read_until, serve_wyoming
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool
from voxhub.protocols.wyoming.access import listen_address

TOKEN = "s3cret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def test_with_auth_a_wildcard_wyoming_host_is_narrowed_to_loopback_and_the_warning_says_why(
    tmp_path: Path,
) -> None:
    address = listen_address(
        load_settings(data_dir=tmp_path, auth_token=TOKEN, wyoming_host="0.0.0.0"), 10900
    )

    assert address.host == "127.0.0.1"
    assert address.warning is not None
    assert "listens on 127.0.0.1:10900 only, not on 0.0.0.0" in address.warning
    assert "VOXHUB_WYOMING_ALLOW_REMOTE=true" in address.warning


def test_with_auth_and_wyoming_allow_remote_the_wildcard_is_kept_with_a_warning(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, auth_token=TOKEN, wyoming_host="0.0.0.0", wyoming_allow_remote=True
    )
    address = listen_address(settings, 10900)

    assert address.host == "0.0.0.0"
    assert address.warning is not None
    assert "no authentication" in address.warning


def test_without_auth_the_wyoming_host_is_used_as_set(tmp_path: Path) -> None:
    address = listen_address(load_settings(data_dir=tmp_path, wyoming_host="0.0.0.0"), 10900)

    assert address == type(address)("0.0.0.0", None)


def lan_address() -> str | None:
    """This machine's address on its default route, if it has one besides loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 1))  # a UDP connect sends nothing; it only picks the route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


async def reachable(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    return True


@pytest.mark.skipif(lan_address() is None, reason="this machine has no address besides loopback")
@pytest.mark.parametrize(("allow_remote", "from_lan"), [(False, False), (True, True)])
async def test_with_auth_wyoming_is_reachable_from_the_lan_only_when_allowed(
    tmp_path: Path,
    models_dir: Path,
    engine_pool: EnginePool,
    caplog: pytest.LogCaptureFixture,
    allow_remote: bool,
    from_lan: bool,
) -> None:
    lan = lan_address()
    assert lan is not None
    caplog.set_level(logging.WARNING, logger="voxhub.protocols.wyoming.server")
    async with serve_wyoming(
        tmp_path / "data",
        models_dir,
        engine_pool,
        auth_token=TOKEN,
        wyoming_host="0.0.0.0",
        wyoming_allow_remote=allow_remote,
    ) as voxhub:
        on_lan = await reachable(lan, voxhub.wyoming_port)
        on_loopback = await reachable("127.0.0.1", voxhub.wyoming_port)

    assert (on_lan, on_loopback) == (from_lan, True)
    listening = "0.0.0.0" if allow_remote else "127.0.0.1"
    assert f"the Wyoming server listens on {listening}:{voxhub.wyoming_port}" in caplog.text


@pytest.fixture(scope="module")
async def protected(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, engine_pool: EnginePool
) -> AsyncIterator[Voxhub]:
    async with serve_wyoming(
        tmp_path_factory.mktemp("data"), models_dir, engine_pool, auth_token=TOKEN
    ) as running:
        yield running


async def test_a_conversation_id_naming_an_api_session_is_refused_and_the_session_is_untouched(
    protected: Voxhub,
) -> None:
    async with httpx.AsyncClient(base_url=protected.http_url, headers=BEARER) as http:
        created = await http.post("/api/v1/sessions", json={"session_id": "private-notes"})
        assert created.status_code in (200, 201), created.text
        async with protected.client() as client:
            turn = Transcript(text="What did I tell you?", context={"conversation_id": "private-notes"})
            await client.write_event(turn.event())
            await client.write_event(Describe().event())
            replies = await read_until(client, "info")
        history = (await http.get("/api/v1/sessions/private-notes/history")).json()

    assert [event.type for event in replies] == ["error", "info"]
    assert Error.from_event(replies[0]).code == "forbidden"
    assert history["messages"] == []


async def test_a_wyoming_conversation_still_works_with_auth_on_in_its_own_session(protected: Voxhub) -> None:
    replies = []
    async with protected.client() as client:
        for text in ("Hello!", "Thank you."):
            await client.write_event(Transcript(text=text, context={"conversation_id": "ha-conv-7"}).event())
            replies.append((await read_until(client, "handled", "not-handled", "error"))[-1])

    assert [reply.type for reply in replies] == ["handled", "handled"]
    first, second = (Handled.from_event(reply) for reply in replies)
    assert first.context == second.context == {"conversation_id": "wyoming-ha-conv-7"}
    async with httpx.AsyncClient(base_url=protected.http_url, headers=BEARER) as http:
        history = (await http.get("/api/v1/sessions/wyoming-ha-conv-7/history")).json()
    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("user", "Hello!"),
        ("assistant", first.text),
        ("user", "Thank you."),
        ("assistant", second.text),
    ]
