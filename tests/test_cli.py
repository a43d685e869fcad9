"""The `voxhub` command as a user types it: each test is one command line and what it prints."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
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
    # No reason wraps over more than a few lines: the table grows by the engines, not by their reasons.
    body = [line for line in table.stdout.splitlines() if line.startswith("│")]
    engine_rows = [line for line in body if line[1:7].strip()]
    assert len(body) <= 3 * len(engine_rows)
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


def test_detect_shows_each_engines_peak_score_for_every_word_after_a_segment(tmp_path: Path) -> None:
    clip = tmp_path / "hey.wav"
    clip.write_bytes(encode_audio(padded(piper_speech("Hey Jarvis."), before_ms=1000, after_ms=1000), "wav"))
    result = runner.invoke(
        app, ["detect", str(clip), "-w", "hey_jarvis", "-w", "okay_nabu", "--wake-engine", "combined"]
    )
    assert result.exit_code == 0, result.output
    scores = " ".join(line for line in result.stdout.splitlines() if "scores" in line or ":" in line)
    assert "micro:hey_jarvis 1.00" in scores
    assert "openwakeword:hey_jarvis" in scores
    assert "micro:okay_nabu" in scores


def test_version_flag_prints_the_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"voxhub {__version__}"


def test_a_missing_model_is_one_clear_error_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOXHUB_MODELS_DIR", str(tmp_path / "no-models"))
    result = runner.invoke(app, ["chat", "--once", "hello"])
    assert result.exit_code == 2
    assert "voxhub models install smollm2" in result.stderr
    assert "Traceback" not in result.output


# -- `voxhub serve`'s start-up, as an operator sees it in the terminal --------------------------------


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`voxhub serve` until it exits by itself (each test here makes it fail to start)."""
    environment = {**os.environ, "VOXHUB_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "250", **env}
    return subprocess.run(
        [str(Path(sys.executable).with_name("voxhub")), "serve", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_serve_logs_each_engine_as_it_loads_and_a_missing_model_in_one_line(tmp_path: Path) -> None:
    done = _serve(
        tmp_path,
        "--port",
        str(_free_port()),
        VOXHUB_MODELS_DIR=str(tmp_path / "no-models"),
        VOXHUB_LOG_FORMAT="json",
    )
    assert done.returncode == 2
    log = [json.loads(line) for line in done.stderr.splitlines()]
    ready = [line for line in log if line["message"].endswith(" s") and "load_secs" in line]
    assert [line["stage"] for line in ready] == ["vad", "wake", "stt", "tts"]  # the LLM's model is missing
    assert ready[2]["message"].startswith("stt engine whisper ready in ")
    assert any(line["message"] == "loading llm engine auto" for line in log)  # auto: no server, so local
    (error,) = [line for line in log if line["level"] == "ERROR"]
    assert error["message"].startswith("cannot start: model file missing")
    assert "voxhub models install smollm2" in error["message"]
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_serve_at_debug_keeps_the_traceback_of_a_failed_start(tmp_path: Path) -> None:
    done = _serve(
        tmp_path,
        "--port",
        str(_free_port()),
        VOXHUB_MODELS_DIR=str(tmp_path / "no-models"),
        VOXHUB_LOG_LEVEL="debug",
    )
    assert done.returncode == 2
    assert "Traceback" in done.stderr
    assert "ModelError" in done.stderr


def test_serve_reports_a_busy_port_before_loading_anything(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = _serve(tmp_path, "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"configuration error: port (VOXHUB_PORT): 127.0.0.1:{port} is already in use; "
        "stop what holds it or choose another port"
    )


def test_serve_names_the_wyoming_service_port_that_is_busy(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = _serve(
            tmp_path,
            "--port",
            str(_free_port()),
            VOXHUB_WYOMING_ENABLED="true",
            VOXHUB_WYOMING_PORT=str(_free_port()),
            VOXHUB_WYOMING_TTS_PORT=str(port),
        )
    assert done.returncode == 2
    assert f"wyoming_tts_port (VOXHUB_WYOMING_TTS_PORT): 127.0.0.1:{port} is already in use" in done.stderr
    assert "loading" not in done.stderr


def test_engines_shows_the_llm_chain_in_order_and_each_llms_tools_and_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.doubles.openai_server import more_doubles

    first, second = more_doubles(2)
    monkeypatch.setenv("VOXHUB_LLM_ENGINE", "openai")
    monkeypatch.setenv("VOXHUB_OPENAI_BASE_URL", first.base_url)
    monkeypatch.setenv("VOXHUB_OPENAI_LLM_MODEL", "remote")
    monkeypatch.setenv("VOXHUB_LLM_FALLBACKS", json.dumps([f"nearby@{second.base_url}", "local"]))

    table = runner.invoke(app, ["engines", "--stage", "llm"])
    rows = json.loads(runner.invoke(app, ["engines", "--stage", "llm", "--json"]).stdout)

    assert table.exit_code == 0, table.output
    assert {row["stage"] for row in rows} == {"llm"}
    configured = next(row for row in rows if row["configured"])
    assert configured["engine"] == "openai"
    assert [(member["llm"], member["role"], member["tools"]) for member in configured["chain"]] == [
        ("remote (OpenAI-compatible API)", "first", True),
        ("nearby (fallback server)", "fallback", True),
        ("SmolLM2-135M (embedded)", "fallback", False),  # no tool template
    ]
    assert all(member["context_tokens"] for member in configured["chain"])
    local = next(row for row in rows if row["engine"] == "local")
    assert (local["tools"], local["context_tokens"]) == (False, 2048)
    lines = table.stdout.splitlines()
    first_line = next(i for i, line in enumerate(lines) if "remote (OpenAI-compatible API)" in line)
    assert "first" in lines[first_line]
    assert "fallback" in next(line for line in lines if "nearby (fallback server)" in line)
    assert "tools no" in table.stdout
    assert "tools yes" in table.stdout


def test_engines_refuses_a_stage_that_does_not_exist() -> None:
    result = runner.invoke(app, ["engines", "--stage", "brain"])

    assert result.exit_code == 2
    assert "'brain' is not one of vad, wake, stt, tts, llm" in result.output
