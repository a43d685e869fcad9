"""Two instances on one PostgreSQL database (`database_url`), each with its own data directory: what one
saves, the other serves. A database that stops answering gives `database_unavailable`, not a hang."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.api.conftest import Server
from tests.sessions.conftest import empty_postgres, postgres_url  # noqa: F401  (the run's own database)
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool
from voxhub.server import create_app
from voxhub.sessions import HistoryMessage


@pytest.fixture
def database(postgres_url: str) -> str:  # noqa: F811
    empty_postgres(postgres_url)
    return postgres_url


@asynccontextmanager
async def instance(data_dir: Path, models_dir: Path, pool: EnginePool, url: str) -> AsyncIterator[Server]:
    settings = load_settings(
        data_dir=data_dir, models_dir=models_dir, database_url=url, database_timeout_secs=1.0
    )
    app = create_app(settings, engines=pool)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://voxhub.test") as client,
    ):
        yield Server(client, app.state.voxhub, settings, app)


async def test_a_second_instance_serves_the_sessions_profiles_and_personas_the_first_saved(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool, database: str
) -> None:
    async with (
        instance(tmp_path / "a", models_dir, engine_pool, database) as a,
        instance(tmp_path / "b", models_dir, engine_pool, database) as b,
    ):
        session_id = (await a.client.post("/api/v1/sessions", json={"language": "de"})).json()["id"]
        await a.state.sessions.append(session_id, [HistoryMessage("user", "Hallo", turn_id="t1")])
        saved = await a.client.post("/api/v1/profiles/quiet-room", json={"vad_threshold": 0.3})
        assert saved.status_code == 200, saved.text
        created = await a.client.post("/api/v1/personas", json={"name": "pirate", "personality": "gruff"})
        assert created.status_code == 201, created.text

        session = (await b.client.get(f"/api/v1/sessions/{session_id}")).json()
        history = (await b.client.get(f"/api/v1/sessions/{session_id}/history")).json()
        profile = (await b.client.get("/api/v1/profiles/quiet-room")).json()
        persona = (await b.client.get("/api/v1/personas/pirate")).json()

    assert session["config"]["language"] == "de"
    assert [m["content"] for m in history["messages"]] == ["Hallo"]
    assert profile["vad_threshold"] == 0.3
    assert persona["personality"] == "gruff"
    assert not (tmp_path / "a" / "personas").exists()  # nothing went to the data directory


async def test_a_database_that_stops_answering_is_a_503_database_unavailable(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool, database: str
) -> None:
    async with instance(tmp_path / "a", models_dir, engine_pool, database) as a:
        with psycopg.connect(database, autocommit=True) as admin:
            # Every query on the tables waits behind this lock, as on a server that has stopped answering.
            admin.execute("BEGIN")
            admin.execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
            answer = await a.client.post("/api/v1/sessions")
            admin.execute("ROLLBACK")

    assert answer.status_code == 503
    assert answer.json()["error"] == "database_unavailable"
