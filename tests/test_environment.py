"""`.env` is read, the earlier servers' variable names work or are reported, and a mistyped name is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxhub.config import environment_warnings, load_settings
from voxhub.errors import ConfigError


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_dot_env_file_in_the_working_directory_sets_settings(workdir: Path) -> None:
    (workdir / ".env").write_text("VOXHUB_STT_THREADS=3\n# a comment\nVOXHUB_TTS_ENGINE=espeak\n")
    settings = load_settings()
    assert settings.stt_threads == 3
    assert settings.tts_engine == "espeak"


def test_the_environment_wins_over_dot_env(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / ".env").write_text("VOXHUB_STT_THREADS=3\n")
    monkeypatch.setenv("VOXHUB_STT_THREADS", "5")
    assert load_settings().stt_threads == 5


def test_other_programs_lines_in_dot_env_do_not_stop_voxhub(workdir: Path) -> None:
    (workdir / ".env").write_text("DATABASE_PASSWORD=x\nGOOGLE_TTS_VOICE=en-US-Chirp3-HD-Achernar\n")
    assert load_settings().port == 8129


@pytest.mark.parametrize(
    ("variable", "value", "setting", "expected"),
    [
        ("STT_SERVER_AUTH_TOKEN", "s3cret", "auth_token", "s3cret"),  # seed 004
        ("STT_SERVER_PORT", "8080", "port", 8080),
        ("STT_SERVER_HOST", "0.0.0.0", "host", "0.0.0.0"),
        (
            "STT_SERVER_CORS_ORIGINS",
            "http://a.test,http://b.test",
            "cors_origins",
            ["http://a.test", "http://b.test"],
        ),
        ("PORT", "7860", "port", 7860),  # seed 001
        ("WS_PING_INTERVAL", "30", "ws_ping_interval_secs", 30.0),
        ("OPENAI_API_KEY", "sk-test", "openai_api_key", "sk-test"),
        ("OPENAI_MODEL", "gpt-3.5-turbo", "openai_llm_model", "gpt-3.5-turbo"),
        ("LOG_FORMAT", "json", "log_format", "json"),
        ("CONNECTION_TIMEOUT", "180", "connection_timeout_secs", 180.0),
    ],
)
def test_the_earlier_servers_variable_names_set_voxhub_settings(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, setting: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)
    got = getattr(load_settings(), setting)
    assert (got.get_secret_value() if hasattr(got, "get_secret_value") else got) == expected


def test_the_voxhub_name_wins_over_the_earlier_servers_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "7860")
    monkeypatch.setenv("VOXHUB_PORT", "9000")
    assert load_settings().port == 9000


def test_a_plain_host_variable_of_the_shell_is_not_taken_for_the_host_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOST", "my-laptop")
    assert load_settings().host == "127.0.0.1"


def test_an_earlier_servers_variable_voxhub_cannot_use_is_reported_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORCUPINE_ACCESS_KEY", "abc")
    monkeypatch.setenv("ENABLE_METRICS", "true")
    warnings = environment_warnings()
    assert any(
        w.startswith("PORCUPINE_ACCESS_KEY is not supported") and "microWakeWord" in w for w in warnings
    )
    assert any(w.startswith("ENABLE_METRICS is not supported") for w in warnings)


def test_a_mistyped_voxhub_variable_is_named_with_the_closest_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOXHUB_STT_THREAD", "4")
    assert "VOXHUB_STT_THREAD is not a voxhub setting and is ignored; did you mean VOXHUB_STT_THREADS?" in (
        environment_warnings()
    )


def test_a_mistyped_variable_in_dot_env_is_reported_too(workdir: Path) -> None:
    (workdir / ".env").write_text("VOXHUB_AUTH_TOKN=x\n")
    assert any("did you mean VOXHUB_AUTH_TOKEN?" in w for w in environment_warnings())


def test_known_variables_raise_no_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXHUB_STT_THREADS", "4")
    monkeypatch.setenv("VOXHUB_CONFIG", "")
    assert not [w for w in environment_warnings() if "VOXHUB_STT_THREADS" in w or "VOXHUB_CONFIG" in w]


def test_auth_asked_for_without_a_token_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STT_SERVER_AUTH_ENABLED", "true")
    with pytest.raises(ConfigError, match="no token is set"):
        load_settings()
