"""Three voxhub instances behind nginx, sharing PostgreSQL and Redis: the cap, crashes, sessions that move,
events seen from any instance. Real processes throughout (tests/cluster/processes.py)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from redis import Redis
from websockets.asyncio.client import ClientConnection

from tests.cluster.conftest import REDIS_URL
from tests.cluster.processes import Nginx, Voxhub, fresh_postgres, start_all, wait_until
from tests.speech import espeak_speech, padded

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(240)]
CAP = 10
LEASE_SECS = 3.0  # renewed every second: a crashed instance's slots are gone within 3 s
TURN = "what time is it"  # answered by the offline agent, without the LLM: quick


@dataclass
class Cluster:
    instances: list[Voxhub]
    nginx: Nginx
    prefix: str

    def live(self) -> list[Voxhub]:
        return [i for i in self.instances if i.process is not None and i.process.poll() is None]

    def in_use(self) -> int:
        """Connection slots held cluster-wide, as any live instance reports them."""
        for instance in self.instances:
            if instance.process is not None and instance.process.poll() is None:
                cluster = instance.status()["cluster"]
                assert isinstance(cluster, dict)
                return int(cluster["connections_in_use"])
        raise AssertionError("no instance is running")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    directory = tmp_path_factory.mktemp("cluster")
    prefix = f"voxhub-test-{uuid.uuid4().hex[:8]}:"
    with fresh_postgres() as database_url:
        env = {
            "VOXHUB_DATABASE_URL": database_url,
            "VOXHUB_REDIS_URL": REDIS_URL,
            "VOXHUB_CLUSTER_KEY_PREFIX": prefix,
            "VOXHUB_CLUSTER_MAX_CONNECTIONS": str(CAP),
            "VOXHUB_CLUSTER_LEASE_SECS": str(LEASE_SECS),
            "VOXHUB_TTS_ENGINE": "espeak",
        }
        instances = [Voxhub(f"voxhub-{n}", directory, env) for n in (1, 2, 3)]
        nginx = Nginx(directory, instances)
        try:
            start_all(instances)
            nginx.start()
            yield Cluster(instances, nginx, prefix)
        finally:
            nginx.stop()
            for instance in instances:
                instance.stop()


def socket_url(base: str, session_id: str, **query: str) -> str:
    params = "&".join(f"{key}={value}" for key, value in {"voice_output": "false", **query}.items())
    return f"{base}/ws?session_id={session_id}&{params}"


async def receive_type(socket: ClientConnection, kind: str, timeout_secs: float = 30.0) -> dict[str, Any]:
    """The next event of type `kind` (the ones before it are skipped)."""
    async with asyncio.timeout(timeout_secs):
        while True:
            body: dict[str, Any] = json.loads(await socket.recv())
            if body.get("type") == kind:
                return body


async def open_session(url: str) -> tuple[ClientConnection | None, str]:
    """A socket with its session started, or None and the close code and reason it was refused with."""
    socket = await websockets.connect(url, open_timeout=30)
    try:
        await receive_type(socket, "session_started")
    except websockets.ConnectionClosed as closed:
        close = closed.rcvd
        return None, f"{close.code} {close.reason}" if close is not None else "closed without a frame"
    return socket, ""


async def test_thirty_clients_at_once_ten_are_admitted_and_the_count_returns_to_zero(
    cluster: Cluster,
) -> None:
    results = await asyncio.gather(
        *(open_session(socket_url(cluster.nginx.ws, f"cap-{n}")) for n in range(3 * CAP))
    )
    admitted = [socket for socket, _ in results if socket is not None]
    refusals = [reason for socket, reason in results if socket is None]
    assert len(admitted) == CAP
    assert len(refusals) == 2 * CAP
    assert all(r.startswith("1013 cluster at capacity (10/10)") for r in refusals), refusals[:3]
    holders = [i.status()["cluster"]["connections_held_here"] for i in cluster.instances]  # type: ignore[index]
    assert sum(holders) == CAP
    assert cluster.in_use() == CAP
    await asyncio.gather(*(socket.close() for socket in admitted))
    wait_until(lambda: cluster.in_use() == 0, "every slot given back", 10)


async def test_events_of_a_session_on_one_instance_are_seen_on_another_in_order(cluster: Cluster) -> None:
    a, b = cluster.instances[0], cluster.instances[1]
    session = f"events-{uuid.uuid4().hex[:6]}"
    url = f"{a.ws}/api/v1/events?session_id={session}&type=response,transcript"
    async with websockets.connect(url) as events:
        subscribed = json.loads(await events.recv())
        assert subscribed["shared"] is True
        async with websockets.connect(socket_url(b.ws, session)) as client:
            await receive_type(client, "session_started")
            for n in range(3):
                await client.send(json.dumps({"type": "text_message", "data": {"text": f"{TURN} {n}"}}))
                await receive_type(client, "response")
        async with httpx.AsyncClient(base_url=b.url, timeout=30) as http:  # an HTTP turn is an event too
            answered = await http.post(f"/api/v1/sessions/{session}/text", json={"text": TURN})
            assert answered.status_code == 200, answered.text
        seen = [json.loads(await asyncio.wait_for(events.recv(), 10)) for _ in range(4)]
    assert [event["instance"] for event in seen] == [b.name] * 4
    assert [event["type"] for event in seen] == ["response"] * 4
    ids = [tuple(map(int, event["event_id"].split("-"))) for event in seen]
    assert ids == sorted(ids)
    turns = [event["turn_id"] for event in seen]
    assert len(set(turns)) == 4
    assert turns[-1] == answered.json()["turn_id"]


async def test_nginx_sends_every_connection_of_a_session_to_the_same_instance(cluster: Cluster) -> None:
    registry = Redis.from_url(REDIS_URL)
    holders: dict[str, set[bytes]] = {}
    try:
        for _ in range(2):
            for n in range(12):
                session = f"sticky-{n}"
                socket, reason = await open_session(socket_url(cluster.nginx.ws, session))
                assert socket is not None, reason
                holder = registry.get(f"{cluster.prefix}session:{session}")
                assert holder is not None
                holders.setdefault(session, set()).add(holder)
                await socket.close()
    finally:
        registry.close()
    assert all(len(seen) == 1 for seen in holders.values()), holders
    assert len(set().union(*holders.values())) > 1  # and the sessions are spread over the instances


async def test_a_session_opened_again_elsewhere_moves_there(cluster: Cluster) -> None:
    a, b = cluster.instances[0], cluster.instances[2]
    session = f"move-{uuid.uuid4().hex[:6]}"
    first, _ = await open_session(socket_url(a.ws, session))
    assert first is not None
    second, _ = await open_session(socket_url(b.ws, session))
    assert second is not None
    moved = await receive_type(first, "error")
    assert moved["data"]["code"] == "session_moved"
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await first.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4409
    await second.send(json.dumps({"type": "text_message", "data": {"text": TURN}}))
    assert (await receive_type(second, "response"))["data"]["text"]
    await second.send(json.dumps({"type": "config_update", "data": {"persona": "storyteller"}}))
    await receive_type(second, "config_updated")
    await second.close()
    back = await websockets.connect(socket_url(a.ws, session))
    started = await receive_type(back, "session_started")
    await back.close()
    assert started["data"]["config"]["persona"] == "storyteller"  # not the copy a had cached


async def test_wyoming_goes_through_nginx(cluster: Cluster) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", cluster.nginx.wyoming_port)
    writer.write(b'{"type": "describe"}\n')
    await writer.drain()
    header = json.loads(await asyncio.wait_for(reader.readline(), 10))
    writer.close()
    assert header["type"] == "info"


async def _wyoming_synthesize(cluster: Cluster, text: str) -> dict[str, Any]:
    """Ask for speech over Wyoming through nginx; the first event back (`audio-start` or `error`)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", cluster.nginx.wyoming_port)
    try:
        body = json.dumps({"text": text}).encode()
        header = {"type": "synthesize", "data_length": len(body)}
        writer.write(json.dumps(header).encode() + b"\n" + body)
        await writer.drain()
        event: dict[str, Any] = json.loads(await asyncio.wait_for(reader.readline(), 30))
        data = event.get("data") or {}
        if event.get("data_length"):
            data = {**data, **json.loads(await reader.readexactly(event["data_length"]))}
        return {"type": event["type"], **data}
    finally:
        writer.close()


async def test_wyoming_work_takes_a_cluster_slot_and_is_refused_when_the_cluster_is_full(
    cluster: Cluster,
) -> None:
    results = await asyncio.gather(
        *(open_session(socket_url(cluster.nginx.ws, f"full-{n}")) for n in range(CAP))
    )
    admitted = [socket for socket, _ in results if socket is not None]
    assert len(admitted) == CAP

    refused = await _wyoming_synthesize(cluster, "Hello.")

    await asyncio.gather(*(socket.close() for socket in admitted))
    wait_until(lambda: cluster.in_use() == 0, "every slot given back", 10)
    served = await _wyoming_synthesize(cluster, "Hello.")
    assert refused["type"] == "error"
    assert "cluster at capacity" in refused.get("text", "")
    assert served["type"] == "audio-start"
    wait_until(lambda: cluster.in_use() == 0, "the Wyoming slot given back", 10)


async def test_a_killed_instance_frees_its_slots_within_the_lease_and_its_session_continues_elsewhere(
    cluster: Cluster,
) -> None:
    registry = Redis.from_url(REDIS_URL)
    sockets = []
    for n in range(6):
        url = socket_url(cluster.nginx.ws, f"crash-{n}", persona="coach", profile="push-to-talk")
        socket, reason = await open_session(url)
        assert socket is not None, reason
        sockets.append(socket)
    session = "crash-0"
    holder = registry.get(f"{cluster.prefix}session:{session}")
    assert holder is not None
    victim = next(i for i in cluster.instances if i.name == holder.decode())
    await sockets[0].send(json.dumps({"type": "text_message", "data": {"text": TURN}}))
    first_answer = (await receive_type(sockets[0], "response"))["data"]["text"]
    held = victim.status()["cluster"]["connections_held_here"]  # type: ignore[index]
    assert held >= 1
    before = cluster.in_use()
    victim.kill()
    killed_at = asyncio.get_running_loop().time()
    wait_until(
        lambda: cluster.in_use() == before - held, "the dead instance's slots to lapse", 2 * LEASE_SECS
    )
    assert asyncio.get_running_loop().time() - killed_at <= LEASE_SECS + 1.5

    again, reason = await open_session(socket_url(cluster.nginx.ws, session))  # persona, profile: stored
    assert again is not None, reason
    await again.send(json.dumps({"type": "text_message", "data": {"text": TURN}}))
    assert (await receive_type(again, "response"))["data"]["text"]
    new_holder = registry.get(f"{cluster.prefix}session:{session}")
    assert new_holder is not None
    assert new_holder.decode() != victim.name
    async with httpx.AsyncClient(base_url=cluster.nginx.url, timeout=10) as http:
        history = (await http.get(f"/api/v1/sessions/{session}/history")).json()
        config = (await http.get(f"/api/v1/sessions/{session}")).json()
    messages = history["messages"] if isinstance(history, dict) else history
    said = [(m["role"], m["content"]) for m in messages]
    assert said[:2] == [("user", TURN), ("assistant", first_answer)]
    assert [role for role, _ in said] == ["user", "assistant", "user", "assistant"]
    assert config["config"]["persona"] == "coach"
    assert config["config"]["profile"] == "push-to-talk"
    for socket in [again, *sockets]:
        await socket.close()
    registry.close()


def test_the_cluster_logs_no_redis_warning_while_redis_is_up(cluster: Cluster) -> None:
    for instance in cluster.instances:
        assert "redis unreachable" not in instance.log()


async def test_spoken_turns_on_one_instance_reach_events_and_the_seed_broadcast_on_another(
    cluster: Cluster,
) -> None:
    a, b = cluster.live()[:2]  # the crash test may have killed one
    session = f"spoken-{uuid.uuid4().hex[:6]}"
    speech = padded(espeak_speech("what time is it"), before_ms=300, after_ms=1200).pcm_s16le
    events_url = f"{a.ws}/api/v1/events?session_id={session}&type=transcript,response"
    async with (
        websockets.connect(events_url) as events,
        websockets.connect(f"{a.ws}/api/v1/ws?broadcast=true&session_id={session}") as broadcast,
    ):
        await events.recv()  # subscribed
        assert json.loads(await broadcast.recv())["event"] == "system_status"  # subscribed too
        async with websockets.connect(socket_url(b.ws, session)) as client:
            await receive_type(client, "session_started")
            for start in range(0, len(speech), 3200):
                await client.send(speech[start : start + 3200])
            await client.send(json.dumps({"type": "audio_end"}))
            await receive_type(client, "response")
        seen: list[dict[str, Any]] = []
        while not any(event["type"] == "response" for event in seen):
            seen.append(json.loads(await asyncio.wait_for(events.recv(), 20)))
        relayed = json.loads(await asyncio.wait_for(broadcast.recv(), 20))
        while not relayed.get("is_final"):
            relayed = json.loads(await asyncio.wait_for(broadcast.recv(), 20))
    finals = [e for e in seen if e["type"] == "transcript" and e["data"]["is_final"]]
    assert len(finals) == 1
    assert "time" in finals[0]["data"]["text"].lower()
    assert seen.index(finals[0]) < [e["type"] for e in seen].index("response")
    assert {e["instance"] for e in seen} == {b.name}
    assert relayed["event"] == "transcription"
    assert relayed["session_id"] == session
    assert relayed["text"] == finals[0]["data"]["text"]
