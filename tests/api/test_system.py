"""Server info, health, metrics and status, as a monitoring system or an operator sees them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from importlib import metadata

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import ServeFactory, Server
from voxhub import __version__
from voxhub.api.limits import WEBSOCKET
from voxhub.api.logging import configure_logging


async def test_health_has_seed_001_shape_and_counts_open_connections(serve: ServeFactory) -> None:
    async with serve(max_connections=4) as server:
        assert server.state.connections.try_acquire(WEBSOCKET)
        response = await server.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert isinstance(body["timestamp"], float)
    assert body["server_info"] == {"active_connections": 1, "max_connections": 4, "capacity_usage": "25.0%"}


async def test_root_links_to_the_api(client: httpx.AsyncClient) -> None:
    body = (await client.get("/")).json()
    assert body["name"] == "voxhub"
    assert body["version"] == __version__
    for path in ("/docs", "/health", "/metrics", "/api/v1/sessions", "/ws"):
        assert path in body["links"].values()


async def test_openapi_documents_the_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/health", "/api/v1/sessions", "/api/v1/profiles/{name}", "/api/v1/transcribe"} <= set(paths)
    assert (await client.get("/docs")).status_code == 200


async def test_openapi_documents_each_operations_errors_in_voxhubs_shape(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    turn = spec["paths"]["/api/v1/sessions/{session_id}/text"]["post"]["responses"]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

    assert {"400", "404", "413", "422", "429", "503"} <= set(turn)
    assert turn["422"]["content"] == error
    assert set(spec["components"]["schemas"]["Error"]["properties"]) == {
        "error",
        "message",
        "details",
        "status_code",
        "timestamp",
    }
    assert "HTTPValidationError" not in spec["components"]["schemas"]


async def test_openapi_says_the_streamed_speech_route_answers_wav(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()

    assert list(spec["paths"]["/stream-text-to-speech"]["post"]["responses"]["200"]["content"]) == [
        "audio/wav"
    ]


async def test_docs_pages_load_their_scripts_from_this_server(client: httpx.AsyncClient) -> None:
    for page, script in (
        ("/docs", "swagger-ui-bundle.js"),
        ("/api/docs", "swagger-ui-bundle.js"),
        ("/redoc", "redoc.standalone.js"),
    ):
        html = (await client.get(page)).text
        assert f'src="/docs-assets/{script}"' in html
        assert "https://" not in html
    assert (await client.get("/docs-assets/swagger-ui-bundle.js")).status_code == 200


async def test_prometheus_metrics_count_connections_and_latencies(server: Server) -> None:
    server.state.connections.try_acquire(WEBSOCKET)
    server.state.metrics.observe("turn_total", 0.3)
    response = await server.client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert samples[("voxhub_connections_total", ())] == 1
    assert samples[("voxhub_connections_active", (("kind", "websocket"),))] == 1
    assert samples[("voxhub_latency_seconds_count", (("stage", "turn_total"),))] == 1
    assert samples[("voxhub_latency_seconds_sum", (("stage", "turn_total"),))] == pytest.approx(0.3)


async def test_json_metrics_have_seed_001_shape_and_latency_percentiles(serve: ServeFactory) -> None:
    async with serve(max_connections=2, connection_timeout_secs=120) as server:
        tracker = server.state.connections
        assert tracker.try_acquire(WEBSOCKET)
        assert tracker.try_acquire(WEBSOCKET)
        assert not tracker.try_acquire(WEBSOCKET)
        tracker.release(WEBSOCKET, duration_secs=3.0)
        for millis in range(1, 101):
            server.state.metrics.observe("stt_final", millis / 1000)
        body = (await server.client.get("/api/v1/metrics")).json()
    assert body["connections"] == {
        "total": 2,
        "active": 1,
        "peak": 2,
        "rejected": 1,
        "capacity_used": "50.0%",
    }
    assert body["performance"] == {
        "avg_session_duration": "3.00s",
        "max_connections": 2,
        "connection_timeout": 120,
    }
    assert body["latency_ms"]["stt_final"] == {"p50": 50.5, "p95": 95.0, "p99": 99.0, "count": 100}
    assert body["latency_ms"]["tts_first_audio"]["count"] == 0
    assert isinstance(body["timestamp"], float)


async def test_system_status_lists_loaded_engines_with_versions_and_uptime(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/system/status")).json()
    assert set(body["engines"]) == {"vad", "wake", "stt", "tts", "llm"}
    (stt,) = body["engines"]["stt"]
    assert stt["name"] == "whisper"
    assert stt["default"] is True
    assert "Whisper" in stt["model"]
    assert stt["packages"]["faster-whisper"] == metadata.version("faster-whisper")
    assert body["versions"]["voxhub"] == __version__
    assert body["uptime_secs"] >= 0


async def test_cors_headers_only_for_configured_origins(serve: ServeFactory) -> None:
    async with serve(cors_origins=["https://app.example"]) as server:
        allowed = await server.client.get("/health", headers={"Origin": "https://app.example"})
        other = await server.client.get("/health", headers={"Origin": "https://evil.example"})
        preflight = await server.client.options(
            "/api/v1/sessions",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


async def test_no_cors_headers_when_no_origin_is_configured(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """voxhub's JSON logging into a buffer; the root logger is restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_each_request_is_logged_as_a_json_line(server: Server, log_lines: io.StringIO) -> None:
    configure_logging(server.settings, stream=log_lines)
    await server.client.get("/api/v1/sessions/abc123")
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    (access,) = [line for line in lines if line["logger"] == "voxhub.access"]
    assert access["level"] == "INFO"
    assert access["message"] == "GET /api/v1/sessions/abc123 404"
    assert access["route"] == "/api/v1/sessions/{session_id}"
    assert access["session_id"] == "abc123"
    assert access["status"] == 404
    assert access["duration_ms"] >= 0
    assert access["ts"].endswith("Z")
