"""Redis lost and regained under a running instance: local limits and events with one warning, service
goes on, and the cluster resumes. The Redis here is a private redis-server this test starts and kills."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import websockets

from tests.cluster.processes import RedisServer, Voxhub, start_all, wait_until
from tests.cluster.test_cluster import TURN, open_session, receive_type, socket_url

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(180)]


@dataclass
class Setup:
    redis: RedisServer
    voxhub: Voxhub

    def redis_state(self) -> str:
        cluster = self.voxhub.status()["cluster"]
        assert isinstance(cluster, dict)
        return str(cluster["redis"])


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    directory = tmp_path_factory.mktemp("redis-down")
    redis = RedisServer(directory)
    redis.start()
    env = {
        "VOXHUB_REDIS_URL": redis.url,
        "VOXHUB_CLUSTER_KEY_PREFIX": f"voxhub-test-{uuid.uuid4().hex[:8]}:",
        "VOXHUB_CLUSTER_MAX_CONNECTIONS": "2",
        "VOXHUB_MAX_CONNECTIONS": "3",
        "VOXHUB_CLUSTER_LEASE_SECS": "3",
        "VOXHUB_TTS_ENGINE": "espeak",
    }
    voxhub = Voxhub("voxhub-alone", directory, env)
    try:
        start_all([voxhub])
        yield Setup(redis, voxhub)
    finally:
        voxhub.stop()
        redis.kill()


async def test_without_redis_local_limits_apply_with_one_warning_and_turns_go_on(setup: Setup) -> None:
    base = setup.voxhub.ws
    first, _ = await open_session(socket_url(base, "down-1"))
    second, _ = await open_session(socket_url(base, "down-2"))
    refused, reason = await open_session(socket_url(base, "down-3"))
    assert first is not None
    assert second is not None
    assert refused is None
    assert reason.startswith("1013 cluster at capacity (2/2)")
    async with websockets.connect(f"{base}/api/v1/events?type=response") as events:
        await events.recv()  # subscribed
        setup.redis.kill()

        third, reason = await open_session(socket_url(base, "down-3"))  # the local cap is 3
        assert third is not None, reason
        fourth, reason = await open_session(socket_url(base, "down-4"))
        assert fourth is None
        assert reason.startswith("1013 server at capacity (3/3)")
        await third.send(json.dumps({"type": "text_message", "data": {"text": TURN}}))
        answer = await receive_type(third, "response")
        assert answer["data"]["text"]
        relayed = json.loads(await asyncio.wait_for(events.recv(), 10))  # events go on, locally
        assert (relayed["session_id"], relayed["type"]) == ("down-3", "response")
    assert setup.redis_state() == "down"
    assert setup.voxhub.log().count("redis unreachable") == 1
    for socket in (first, second, third):
        await socket.close()


def test_when_redis_returns_the_instance_rejoins(setup: Setup) -> None:
    if setup.redis.process is None:
        setup.redis.start()
    wait_until(lambda: setup.redis_state() == "up", "the instance to see Redis again", 10)
    assert "redis is reachable again" in setup.voxhub.log()


def test_the_instance_stops_promptly_when_asked(setup: Setup) -> None:
    process = setup.voxhub.process
    assert process is not None
    process.terminate()
    assert process.wait(10) == 0
    assert "voxhub stopped" in setup.voxhub.log()
