"""`voxhub db migrate` and `voxhub db copy`: an SQLite install moved into PostgreSQL, with its counts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.sessions.conftest import empty_postgres
from voxhub.agent.autofunction.store import AutoFunction, AutoFunctionStore
from voxhub.agent.personas import PersonaStore
from voxhub.cli import app
from voxhub.engines.llm.base import ToolCall
from voxhub.sessions import HistoryMessage, Profile, open_store
from voxhub.sessions.store import LATEST, MIGRATIONS

runner = CliRunner()


@pytest.fixture
def target(postgres_url: str) -> str:
    empty_postgres(postgres_url)
    return postgres_url


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOXHUB_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


async def _fill_sqlite_install(data_dir: Path) -> None:
    store = await open_store(f"sqlite:///{data_dir / 'voxhub.db'}")
    try:
        await store.create_session("s1", {"persona": "pirate"}, created_at=100.0)
        await store.create_session("s2", {}, created_at=200.0)
        call = ToolCall("call_1", "turn_on", '{"entity": "light.kitchen"}')
        await store.append_messages(
            "s1",
            [
                HistoryMessage("user", "lights on", turn_id="t1", created_at=101.0),
                HistoryMessage("assistant", "", turn_id="t1", tool_calls=(call,), created_at=102.0),
                HistoryMessage("tool", "ok", turn_id="t1", tool_call_id="call_1", created_at=103.0),
                HistoryMessage("assistant", "Done", turn_id="t1", interrupted=True, created_at=104.0),
            ],
        )
        await store.save_summary("s1", "they turned the lights on", 2)
        await store.add_note("ana", "likes jazz", 10.0)
        await store.save_profile(Profile.from_dict("quiet-room", {"vad_threshold": 0.3}))
    finally:
        await store.close()
    personas = data_dir / "personas"
    personas.mkdir(parents=True)
    (personas / "pirate.yaml").write_text("name: pirate\npersonality: gruff\n", encoding="utf-8")
    function = AutoFunction(
        id="af_0123456789ab",
        name="coin_flip",
        function="coin_flip",
        description="Flip a coin",
        request="flip a coin",
        source="def coin_flip():\n    return 'heads'\n",
        parameters={"type": "object", "properties": {}},
        tests="",
        status="approved",
        created_at=1.0,
        updated_at=2.0,
    )
    await AutoFunctionStore(data_dir / "autofunctions").save(function)


def test_migrate_reports_the_versions_it_applied_then_that_there_is_nothing_to_do(target: str) -> None:
    first = runner.invoke(app, ["db", "migrate", target])
    again = runner.invoke(app, ["db", "migrate", target])

    assert first.exit_code == 0, first.output
    assert (
        f"migrated to schema version {LATEST} (applied {', '.join(str(m.version) for m in MIGRATIONS)})"
        in first.output
    )
    assert again.exit_code == 0, again.output
    assert f"already at schema version {LATEST}" in again.output


def test_copy_moves_an_sqlite_install_into_postgresql_with_its_counts(data_dir: Path, target: str) -> None:
    asyncio.run(_fill_sqlite_install(data_dir))

    result = runner.invoke(app, ["db", "copy", str(data_dir / "voxhub.db"), target])

    assert result.exit_code == 0, result.output
    counts = {
        line.strip("│ ").split("│")[0].strip(): line.strip("│ ").split("│")[-1].strip()
        for line in result.output.splitlines()
        if line.count("│") >= 2
    }
    assert counts == {
        "sessions": "2",
        "messages": "4",
        "summaries": "1",
        "user_notes": "1",
        "profiles": "1",
        "documents": "0",
        "webhook_outbox": "0",
        "timers": "0",
        "persona files": "1",
        "autofunction files": "1",
    }
    assert "copied 11 rows" in result.output
    asyncio.run(_check_copied(target, data_dir))


async def _check_copied(url: str, data_dir: Path) -> None:
    store = await open_store(url)
    try:
        history = await store.history("s1")
        assert [(m.role, m.content, m.interrupted) for m in history] == [
            ("user", "lights on", False),
            ("assistant", "", False),
            ("tool", "ok", False),
            ("assistant", "Done", True),
        ]
        assert history[1].tool_calls[0].name == "turn_on"
        assert await store.summary("s1") == ("they turned the lights on", 2)
        stored = await store.get_session("s1")
        assert stored is not None
        assert stored.config == {"persona": "pirate"}
        assert [p.name for p in await store.list_profiles()] == ["quiet-room"]
        # a note taken after the copy is numbered after the copied ones
        assert await store.add_note("ana", "has a cat", 11.0) == 2
        elsewhere = data_dir.parent / "another-instance"  # no files: both come from the database
        assert (await PersonaStore(elsewhere / "personas", store).get("pirate")).personality == "gruff"
        functions = await AutoFunctionStore(elsewhere / "autofunctions", store).all()
        assert [(f.name, f.status) for f in functions] == [("coin_flip", "approved")]
    finally:
        await store.close()


def test_copy_into_a_database_that_holds_data_is_refused(data_dir: Path, target: str) -> None:
    asyncio.run(_fill_sqlite_install(data_dir))
    assert runner.invoke(app, ["db", "copy", str(data_dir / "voxhub.db"), target]).exit_code == 0

    again = runner.invoke(app, ["db", "copy", str(data_dir / "voxhub.db"), target])

    assert again.exit_code == 2
    assert "is not empty" in again.output
