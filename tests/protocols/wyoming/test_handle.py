"""handle: voxhub as Home Assistant's conversation agent."""

from __future__ import annotations

import httpx
from wyoming.asr import Transcript
from wyoming.handle import Handled

from tests.protocols.wyoming.conftest import Voxhub, read_until


async def test_a_transcript_is_answered_and_recorded_in_the_conversation_session(voxhub: Voxhub) -> None:
    async with voxhub.client() as client:
        await client.write_event(Transcript(text="Hello!", context={"conversation_id": "ha-conv-1"}).event())
        reply = (await read_until(client, "handled", "not-handled"))[-1]

    assert reply.type == "handled"
    handled = Handled.from_event(reply)
    assert handled.text
    assert handled.context == {"conversation_id": "ha-conv-1"}
    async with httpx.AsyncClient(base_url=voxhub.http_url) as http:
        history = (await http.get("/api/v1/sessions/ha-conv-1/history")).json()
    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("user", "Hello!"),
        ("assistant", handled.text),
    ]
