"""The `voxhub` command as a user types it: each test is one command line and what it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.speech import padded, piper_speech
from voxhub import __version__, console
from voxhub.audio import encode_audio
from voxhub.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VOXHUB_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("COLUMNS", "250")  # rich tables wrap at the terminal width


@pytest.mark.slow
def test_what_say_writes_transcribe_reads_back(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    said = runner.invoke(app, ["say", "turn on the kitchen lights", "-o", str(wav)])
    assert said.exit_code == 0, said.output
    heard = runner.invoke(app, ["transcribe", str(wav)])
    assert heard.exit_code == 0, heard.output
    assert "turn on the kitchen lights" in heard.stdout.lower()


def test_say_picks_the_format_from_the_suffix(tmp_path: Path) -> None:
    mp3 = tmp_path / "hello.mp3"
    result = runner.invoke(app, ["say", "hello there", "-o", str(mp3), "--engine", "espeak"])
    assert result.exit_code == 0, result.output
    assert mp3.read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")


def test_chat_once_answers_the_question() -> None:
    result = runner.invoke(app, ["chat", "--once", "What is the capital of France?"])
    assert result.exit_code == 0, result.output
    assert "paris" in result.stdout.lower()


def test_transcribing_a_corrupt_file_prints_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    result = runner.invoke(app, ["transcribe", str(broken)])
    assert result.exit_code == 1
    assert "error: corrupt WAV file" in result.stderr
    assert "Traceback" not in result.output


def test_an_unknown_engine_is_a_configuration_error_naming_the_setting(tmp_path: Path) -> None:
    result = runner.invoke(app, ["say", "hi", "-o", str(tmp_path / "x.wav"), "--engine", "festival"])
    assert result.exit_code == 2
    assert "tts_engine (VOXHUB_TTS_ENGINE): unknown engine 'festival'" in result.stderr


def test_say_refuses_an_unknown_output_format(tmp_path: Path) -> None:
    result = runner.invoke(app, ["say", "hi", "-o", str(tmp_path / "x.aiff")])
    assert result.exit_code == 2
    assert "use one of: wav, pcm, mp3, opus, flac" in result.stderr


def test_say_into_a_folder_that_does_not_exist_is_one_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["say", "hi", "-o", str(tmp_path / "nowhere" / "x.wav")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_say_with_nothing_to_say_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["say", "   ", "-o", str(tmp_path / "x.wav")])
    assert result.exit_code == 1
    assert "error: text to speak is empty" in result.stderr


def test_models_list_shows_what_is_installed_and_where(models_dir: Path) -> None:
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert "smollm2" in result.stdout
    assert "whisper-tiny.en" in result.stdout


def test_models_list_fits_80_columns_with_whole_names(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console.stdout, "width", 80)
    result = runner.invoke(app, ["models", "list"])

    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "whisper-base-part1" in result.stdout
    assert "whisper-base-part2" in result.stdout


def test_models_list_as_json_has_every_field_for_scripts(models_dir: Path) -> None:
    result = runner.invoke(app, ["models", "list", "--json"])
    rows = json.loads(result.stdout)

    assert {"smollm2", "whisper-tiny.en"} <= {row["name"] for row in rows}
    assert set(rows[0]) == {"name", "kind", "package", "installed", "location", "description"}


@pytest.mark.slow
def test_engines_fit_80_columns_and_json_keeps_each_reason_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console.stdout, "width", 80)
    table = runner.invoke(app, ["engines"])
    rows = json.loads(runner.invoke(app, ["engines", "--json"]).stdout)

    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    assert len(table.stdout.splitlines()) < 45  # no reason wraps over a screenful
    piper = next(row for row in rows if row["engine"] == "piper")
    assert piper["ready"] is False
    assert "VOXHUB_TTS_PIPER_MODEL" in piper["reason"]


@pytest.mark.slow
def test_engines_lists_every_engine_and_why_some_cannot_load() -> None:
    result = runner.invoke(app, ["engines"])
    assert result.exit_code == 0, result.output
    for name in ("silero", "webrtc", "combined", "micro", "whisper", "hibari", "piper", "espeak", "local"):
        assert name in result.stdout
    assert "ready" in result.stdout
    assert "VOXHUB_OPENAI_BASE_URL" in result.stdout
    assert "VOXHUB_TTS_PIPER_MODEL" in result.stdout


def test_detect_prints_the_speech_segment_and_the_wake_word_with_times(tmp_path: Path) -> None:
    clip = tmp_path / "hey.wav"
    clip.write_bytes(encode_audio(padded(piper_speech("Hey Jarvis."), before_ms=1000, after_ms=1000), "wav"))
    result = runner.invoke(app, ["detect", str(clip), "--wake-word", "hey_jarvis"])
    assert result.exit_code == 0, result.output
    speech_line = next(line for line in result.stdout.splitlines() if "speech" in line)
    assert "1.0" in speech_line or "0.9" in speech_line  # starts about one second in
    assert "hey_jarvis" in result.stdout


def test_version_flag_prints_the_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"voxhub {__version__}"
