"""Liveness and readiness, as a container runtime, a load balancer or an operator sees them."""

from __future__ import annotations

import socket

import pytest

from tests.api.conftest import ServeFactory, Server
from tests.doubles.openai_server import running_double


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there once the probe is closed


async def test_a_fully_loaded_server_is_healthy_and_ready(server: Server) -> None:
    health = (await server.client.get("/health")).json()
    ready = await server.client.get("/health/ready")
    assert health["status"] == "healthy"
    assert health["reasons"] == []
    assert ready.status_code == 200
    assert ready.json()["status"] == "healthy"
    assert all(check["ok"] for check in ready.json()["checks"].values())


async def test_liveness_answers_while_the_process_runs(server: Server) -> None:
    response = await server.client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "alive"


async def test_an_unreachable_llm_backend_with_the_offline_agent_is_degraded_with_the_reason(
    serve: ServeFactory,
) -> None:
    async with serve(llm_engine="openai", openai_base_url=_closed_port_url()) as server:
        await server.state.engines.get("llm")
        ready = await server.client.get("/health/ready")
        health = (await server.client.get("/health")).json()
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert "unreachable" in ready.json()["reasons"][0]
    assert health["status"] == "degraded"
    assert health["reasons"] == ready.json()["reasons"]


async def test_an_unreachable_llm_backend_without_a_fallback_is_not_ready(serve: ServeFactory) -> None:
    async with serve(llm_engine="openai", openai_base_url=_closed_port_url(), llm_fallbacks=[]) as server:
        await server.state.engines.get("llm")
        server.state.assistant = None
        ready = await server.client.get("/health/ready")
        health = await server.client.get("/health")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unhealthy"
    assert health.status_code == 503
    assert health.json()["status"] == "unhealthy"


async def test_an_unreachable_database_is_not_ready(server: Server) -> None:
    await server.state.sessions.store.close()
    ready = await server.client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["ok"] is False
    assert "database unreachable" in ready.json()["reasons"][0]


async def test_an_engine_not_yet_loaded_is_not_ready(serve: ServeFactory) -> None:
    async with serve(llm_engine="openai", openai_base_url=_closed_port_url()) as server:
        ready = await server.client.get("/health/ready")
    assert ready.status_code == 503
    assert "engines not loaded: llm (openai)" in ready.json()["reasons"]


async def test_the_public_health_reasons_never_show_the_llm_backends_address(serve: ServeFactory) -> None:
    url = _closed_port_url()
    async with serve(llm_engine="openai", openai_base_url=url) as server:
        await server.state.engines.get("llm")
        health = (await server.client.get("/health")).text

    assert "unreachable" in health
    assert url.split("//")[1].split("/")[0] not in health


@pytest.mark.parametrize("path", ["/health", "/health/live", "/health/ready"])
async def test_a_head_probe_gets_the_status_without_a_body(server: Server, path: str) -> None:
    probe = await server.client.head(path)

    assert probe.status_code == 200
    assert probe.content == b""


async def test_a_mistyped_variable_is_warned_about_when_the_server_starts(
    serve: ServeFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("VOXHUB_MAX_CONECTIONS", "5")

    async with serve():
        pass

    assert any(
        "VOXHUB_MAX_CONECTIONS" in record.getMessage() and "VOXHUB_MAX_CONNECTIONS" in record.getMessage()
        for record in caplog.records
        if record.levelname == "WARNING"
    )


async def test_health_says_which_llm_answers(server: Server) -> None:
    health = (await server.client.get("/health")).json()
    assert health["llm"] == "LLM backend local (SmolLM2-135M-Instruct.Q4_1) answers"


async def test_when_the_llm_is_down_but_the_next_of_the_chain_answers_the_server_is_degraded_and_ready(
    serve: ServeFactory,
) -> None:
    # The OpenAI-compatible test double stands in for a second LLM server on this machine.
    double = running_double()
    fallbacks = [f"nearby@{double.base_url}"]
    async with serve(
        llm_engine="openai", openai_base_url=_closed_port_url(), llm_fallbacks=fallbacks
    ) as server:
        await server.state.engines.get("llm")
        server.state.assistant = None  # no offline agent: the chain alone keeps the server answering
        ready = await server.client.get("/health/ready")
        health = (await server.client.get("/health")).json()
    assert ready.status_code == 200
    assert health["status"] == "degraded"
    assert health["reasons"] == [
        "LLM backend gpt-4o-mini (OpenAI-compatible API) unreachable: ConnectError; "
        "nearby (fallback server) answers instead"
    ]
    assert health["llm"] == health["reasons"][0]
