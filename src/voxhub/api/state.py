"""What every request handler needs: settings, engines, sessions, connection counts and metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from voxhub.agent.assistant import Assistant
from voxhub.agent.autofunction.service import AutoFunctionService
from voxhub.api.cluster import Cluster, EventBus
from voxhub.api.health import HealthChecker
from voxhub.api.limits import ConnectionTracker
from voxhub.api.metrics import Metrics
from voxhub.api.webhooks import Webhooks
from voxhub.config import Settings
from voxhub.engines.pool import EnginePool
from voxhub.sessions.manager import SessionManager


@dataclass
class ServerState:
    """One per app, built at start-up by the lifespan and kept on `app.state.voxhub`."""

    settings: Settings
    engines: EnginePool
    sessions: SessionManager
    connections: ConnectionTracker
    metrics: Metrics
    started_at: float  # unix seconds
    assistant: Assistant | None = None  # personas, tools, emotion, offline agent (None: the bare LLM)
    health: HealthChecker = field(default_factory=HealthChecker)
    webhooks: Webhooks | None = None  # receivers of events (api/webhooks.py), when `webhooks` names any
    cluster: Cluster | None = None  # with `redis_url`: cluster-wide limits, session registry, shared events
    events: EventBus = field(default_factory=lambda: EventBus("local"))  # every session's server events

    @property
    def autofunctions(self) -> AutoFunctionService | None:
        return self.assistant.autofunctions if self.assistant else None

    @property
    def uptime_secs(self) -> float:
        return time.time() - self.started_at


def server_state(connection: HTTPConnection) -> ServerState:
    """FastAPI dependency (HTTP and WebSocket routes alike): the app's ServerState."""
    state: ServerState = connection.app.state.voxhub
    return state


State = Annotated[ServerState, Depends(server_state)]
"""A route parameter annotated `State` receives the ServerState."""
