"""The session manager: lifecycle, config overrides, idle expiry and profiles, as the API drives it."""

from __future__ import annotations

import asyncio

import pytest

from tests.sessions.conftest import FakeClock
from voxhub.config import Settings
from voxhub.errors import InputError
from voxhub.sessions import (
    HistoryMessage,
    Mode,
    ProfileConflict,
    ProfileNotFound,
    SessionConfig,
    SessionManager,
    SessionNotFound,
    Store,
    open_store,
)

HOUR = 3600.0


async def test_a_created_session_is_found_again_after_a_restart(
    manager: SessionManager, settings: Settings, database_url: str
) -> None:
    created = await manager.create(SessionConfig(persona="pirate", mode=Mode(voice_output=False)))

    reopened = await open_store(database_url)
    try:
        found = await SessionManager(reopened, settings).get(created.id)
    finally:
        await reopened.close()
    assert found.config == created.config
    assert found.config.persona == "pirate"
    assert not found.config.mode.voice_output


async def test_an_unknown_session_is_not_found(manager: SessionManager) -> None:
    with pytest.raises(SessionNotFound) as caught:
        await manager.get("nope")
    assert caught.value.status_code == 404


async def test_update_changes_only_the_named_settings(manager: SessionManager) -> None:
    session = await manager.create(SessionConfig(language="de", voice="anna"))

    await manager.update(session.id, {"voice": "", "mode": {"voice_input": "off"}, "llm_engine": "openai"})

    config = (await manager.get(session.id)).config
    assert (config.language, config.voice, config.llm_engine) == ("de", None, "openai")
    assert config.mode == Mode(voice_input=False)


async def test_update_with_an_unknown_engine_is_rejected_and_leaves_the_config(
    manager: SessionManager,
) -> None:
    session = await manager.create()

    with pytest.raises(InputError, match="unknown engine 'gpt9'") as caught:
        await manager.update(session.id, {"tts_engine": "hibari", "llm_engine": "gpt9"})
    assert caught.value.status_code == 400
    assert (await manager.get(session.id)).config == SessionConfig()


async def test_a_session_cannot_name_a_profile_that_does_not_exist(manager: SessionManager) -> None:
    with pytest.raises(ProfileNotFound) as caught:
        await manager.create(SessionConfig(profile="karaoke"))
    assert caught.value.status_code == 404
    assert "wake-word" in caught.value.details["choices"]


async def test_idle_expiry_removes_the_session_and_its_history(
    manager: SessionManager, store: Store, clock: FakeClock
) -> None:
    idle = await manager.create()
    await manager.append(idle.id, [HistoryMessage("user", "hello")])
    clock.advance(HOUR / 2)
    busy = await manager.create()
    clock.advance(HOUR / 2 + 1)

    assert await manager.expire_idle() == [idle.id]
    with pytest.raises(SessionNotFound):
        await manager.history(idle.id)
    assert await store.history(idle.id) == []
    assert (await manager.get(busy.id)).id == busy.id


async def test_activity_postpones_expiry(manager: SessionManager, clock: FakeClock) -> None:
    session = await manager.create()
    clock.advance(HOUR - 1)
    await manager.touch(session.id)
    clock.advance(HOUR - 1)

    assert await manager.expire_idle() == []


async def test_a_connected_session_is_not_expired_until_it_disconnects(
    manager: SessionManager, clock: FakeClock
) -> None:
    session = await manager.create()
    manager.mark_connected(session.id, True)
    clock.advance(2 * HOUR)
    assert await manager.expire_idle() == []

    manager.mark_connected(session.id, False)
    clock.advance(HOUR + 1)
    assert await manager.expire_idle() == [session.id]


async def test_the_cleanup_task_expires_idle_sessions(
    store: Store, clock: FakeClock, settings: Settings
) -> None:
    manager = SessionManager(store, settings.model_copy(update={"cleanup_interval_secs": 0.01}), clock=clock)
    session = await manager.create()
    clock.advance(2 * HOUR)

    manager.start_cleanup()
    try:
        for _ in range(500):  # until the sweep's delete is committed, not only the cache emptied
            if await store.get_session(session.id) is None:
                break
            await asyncio.sleep(0.01)
    finally:
        await manager.stop_cleanup()
    with pytest.raises(SessionNotFound):
        await manager.get(session.id)


async def test_a_built_in_profile_cannot_be_deleted_or_overwritten(manager: SessionManager) -> None:
    with pytest.raises(ProfileConflict) as deleting:
        await manager.delete_profile("wake-word")
    with pytest.raises(ProfileConflict) as overwriting:
        await manager.save_profile("push-to-talk", {"activation": "vad"})

    assert deleting.value.status_code == overwriting.value.status_code == 409
    assert (await manager.profile("wake-word")).wake_words == ("hey_jarvis",)


async def test_custom_profiles_are_listed_after_the_predefined_ones_and_can_be_deleted(
    manager: SessionManager,
) -> None:
    await manager.save_profile("noisy-env", {"vad": {"sensitivity": 0.8}})
    assert [p.name for p in await manager.profiles()] == [
        "vad-triggered",
        "wake-word",
        "push-to-talk",
        "noisy-env",
    ]

    await manager.delete_profile("noisy-env")
    with pytest.raises(ProfileNotFound):
        await manager.profile("noisy-env")
