"""Server metrics: Prometheus collectors in a private registry, and seed 001's JSON view with percentiles."""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterator
from typing import Any, Literal, get_args

import numpy as np
from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from voxhub.api.limits import WEBSOCKET, ConnectionTracker
from voxhub.config import Settings

LatencyStage = Literal[
    "stt_final",
    "llm_first_token",
    "tts_first_audio",
    "end_of_speech_to_first_audio",
    "turn_total",
    "server_overhead",
]
LATENCY_STAGES: tuple[LatencyStage, ...] = get_args(LatencyStage)
# Seconds; dense below one second, where the latency targets are.
_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)


class _Ring:
    """The last `size` observations in a preallocated array of doubles: adding one allocates nothing."""

    __slots__ = ("count", "index", "size", "values")

    def __init__(self, size: int) -> None:
        self.values = array("d", bytes(8 * size))
        self.size = size
        self.index = 0
        self.count = 0

    def add(self, value: float) -> None:
        self.values[self.index] = value
        self.index = (self.index + 1) % self.size
        self.count += 1

    def percentiles_ms(self) -> dict[str, float | int | None]:
        held = min(self.count, self.size)
        if not held:
            return {"p50": None, "p95": None, "p99": None, "count": 0}
        recent = np.frombuffer(self.values, dtype=np.float64)[:held] * 1000.0
        p50, p95, p99 = np.percentile(recent, [50, 95, 99])
        return {
            "p50": round(float(p50), 1),
            "p95": round(float(p95), 1),
            "p99": round(float(p99), 1),
            "count": self.count,
        }


class _LiveFigures(Collector):
    """Connection and session figures read at scrape time from their owners, so counting costs nothing extra."""

    def __init__(self, connections: ConnectionTracker, sessions_active: Callable[[], int]) -> None:
        self._connections = connections
        self._sessions_active = sessions_active

    def collect(self) -> Iterator[Metric]:
        tracker = self._connections
        yield CounterMetricFamily(
            "voxhub_connections", "Connections accepted since start.", value=tracker.total
        )
        yield CounterMetricFamily(
            "voxhub_connections_rejected",
            "Connections refused at capacity since start.",
            value=tracker.rejected,
        )
        active = GaugeMetricFamily(
            "voxhub_connections_active", "Connections open now, by kind.", labels=["kind"]
        )
        for kind, count in sorted(tracker.active_by_kind.items()):
            active.add_metric([kind], count)
        yield active
        yield GaugeMetricFamily(
            "voxhub_connections_peak", "Most connections open at once.", value=tracker.peak
        )
        yield GaugeMetricFamily(
            "voxhub_connections_max", "The connection cap.", value=tracker.max_connections
        )
        yield GaugeMetricFamily(
            "voxhub_session_duration_avg_seconds",
            "Average WebSocket connection duration.",
            value=tracker.average_duration_secs(WEBSOCKET),
        )
        yield GaugeMetricFamily(
            "voxhub_sessions_active", "Sessions held in memory.", value=self._sessions_active()
        )


class Metrics:
    """Everything `/metrics` and `/api/v1/metrics` report; `observe` is the only call on the hot path."""

    def __init__(
        self,
        settings: Settings,
        connections: ConnectionTracker,
        sessions_active: Callable[[], int] = lambda: 0,
        *,
        window: int = 2048,
    ) -> None:
        self.settings = settings
        self.connections = connections
        self.sessions_active = sessions_active
        self.registry = CollectorRegistry()
        latency = Histogram(
            "voxhub_latency_seconds",
            "Latency of each pipeline stage.",
            ["stage"],
            registry=self.registry,
            buckets=_BUCKETS,
        )
        self._histograms: dict[str, Histogram] = {stage: latency.labels(stage) for stage in LATENCY_STAGES}
        self._rings: dict[str, _Ring] = {stage: _Ring(window) for stage in LATENCY_STAGES}
        self.registry.register(_LiveFigures(connections, sessions_active))
        ProcessCollector(registry=self.registry)  # memory and CPU of this process

    def observe(self, stage: str, seconds: float) -> None:
        """Record one latency of `stage` (one of LATENCY_STAGES, else KeyError)."""
        self._histograms[stage].observe(seconds)
        self._rings[stage].add(seconds)

    def prometheus_text(self) -> bytes:
        return generate_latest(self.registry)

    def snapshot(self) -> dict[str, Any]:
        """Seed 001's metrics shape, plus `latency_ms` percentiles over the recent window of each stage."""
        tracker = self.connections
        return {
            "connections": {
                "total": tracker.total,
                "active": tracker.active,
                "peak": tracker.peak,
                "rejected": tracker.rejected,
                "capacity_used": f"{tracker.usage_percent:.1f}%",
            },
            "performance": {
                "avg_session_duration": f"{tracker.average_duration_secs(WEBSOCKET):.2f}s",
                "max_connections": tracker.max_connections,
                "connection_timeout": self.settings.connection_timeout_secs,
            },
            "sessions": {"active": self.sessions_active()},
            "latency_ms": {stage: ring.percentiles_ms() for stage, ring in self._rings.items()},
            "timestamp": time.time(),
        }
