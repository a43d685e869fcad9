"""An HTTP turn and its session: the turn keeps the session alive, and a deleted session ends it at once."""

from __future__ import annotations

import asyncio

from tests.api.conftest import ServeFactory
from tests.api.error_shape import assert_error

STORY = "Tell me a long story about a dragon."


async def test_a_session_does_not_expire_while_its_turn_is_answered(serve: ServeFactory) -> None:
    async with serve(session_idle_secs=0.2, cleanup_interval_secs=0.05) as server:
        session = (await server.client.post("/api/v1/sessions", json={})).json()["id"]

        # Any answer of the embedded model outlasts the 0.2 s idle limit many times over.
        reply = await server.client.post(
            f"/api/v1/sessions/{session}/text", json={"text": "Tell me about dragons."}
        )

        assert reply.status_code == 200
        assert reply.json()["text"]


async def test_deleting_the_session_during_a_turn_answers_410_at_once(serve: ServeFactory) -> None:
    async with serve() as server:
        session = (await server.client.post("/api/v1/sessions", json={})).json()["id"]
        turn = asyncio.create_task(
            server.client.post(f"/api/v1/sessions/{session}/text", json={"text": STORY})
        )
        while server.state.sessions.connected_count == 0:  # noqa: ASYNC110 (the turn has begun)
            await asyncio.sleep(0.01)

        await server.client.delete(f"/api/v1/sessions/{session}")
        async with asyncio.timeout(5):
            reply = await turn

    assert_error(reply, 410, "session_deleted")
