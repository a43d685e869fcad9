"""Settings come from VOXHUB_* variables over a YAML file over defaults, and bad ones fail with one message."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxhub.config import load_settings, settings_markdown_table
from voxhub.engines.registry import check_settings
from voxhub.errors import ConfigError, UnknownEngineError


def test_an_environment_variable_sets_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXHUB_STT_THREADS", "4")
    assert load_settings().stt_threads == 4


def test_a_yaml_file_sets_settings_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "voxhub.yaml"
    config.write_text("tts_engine: espeak\nllm_max_tokens: 99\n")
    monkeypatch.setenv("VOXHUB_LLM_MAX_TOKENS", "12")
    settings = load_settings(config)
    assert settings.tts_engine == "espeak"
    assert settings.llm_max_tokens == 12


def test_the_config_file_can_be_named_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "voxhub.yaml"
    config.write_text("vad_engine: webrtc\n")
    monkeypatch.setenv("VOXHUB_CONFIG", str(config))
    assert load_settings().vad_engine == "webrtc"


def test_wake_words_can_be_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXHUB_WAKE_WORDS", "alexa, hey_mycroft")
    assert load_settings().wake_words == ["alexa", "hey_mycroft"]


def test_a_wrong_type_names_the_setting_and_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXHUB_STT_THREADS", "many")
    with pytest.raises(ConfigError, match=r"stt_threads \(VOXHUB_STT_THREADS\).*'many'"):
        load_settings()


def test_an_unknown_key_in_the_yaml_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "voxhub.yaml"
    config.write_text("stt_engin: whisper\n")
    with pytest.raises(ConfigError, match="stt_engin"):
        load_settings(config)


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.yaml")


def test_a_missing_model_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"llm_model \(VOXHUB_LLM_MODEL\): .*model file not found"):
        load_settings(llm_model=tmp_path / "nothing.gguf")


def test_an_unknown_engine_names_the_setting_and_the_choices() -> None:
    settings = load_settings(stt_engine="parakeet")
    with pytest.raises(UnknownEngineError, match=r"VOXHUB_STT_ENGINE.*'parakeet'.*whisper, openai"):
        check_settings(settings)


def test_the_configuration_document_lists_every_setting() -> None:
    document = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()
    assert settings_markdown_table() in document, "regenerate with `make docs`"


def test_the_log_level_may_be_written_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXHUB_LOG_LEVEL", "info")

    assert load_settings().log_level == "INFO"


def test_a_wrong_value_of_a_setting_with_seed_names_names_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXHUB_LOG_LEVEL", "chatty")

    with pytest.raises(ConfigError, match=r"log_level \(VOXHUB_LOG_LEVEL\).*'CHATTY'"):
        load_settings()
