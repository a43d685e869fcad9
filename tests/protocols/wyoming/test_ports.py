"""Wyoming ports: a default clear of the standard add-ons, and the add-on layout of one port per service."""

from __future__ import annotations

from pathlib import Path

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info

from tests.api.live import free_port, live_server
from tests.protocols.wyoming.conftest import read_until
from voxhub.config import Settings, load_settings
from voxhub.engines.pool import EnginePool
from voxhub.errors import ConfigError

STANDARD_ADDON_PORTS = {10200, 10300, 10400}  # Piper, Whisper, openWakeWord


async def _describe(port: int) -> Info:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        return Info.from_event((await read_until(client, "info"))[-1])


def test_the_default_wyoming_port_is_clear_of_the_standard_addons() -> None:
    port = Settings.model_fields["wyoming_port"].default
    assert port == 10900
    assert port not in STANDARD_ADDON_PORTS


async def test_a_per_service_port_describes_only_its_service(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    main, stt, tts = free_port(), free_port(), free_port()
    settings = load_settings(
        data_dir=tmp_path / "data",
        models_dir=models_dir,
        wyoming_enabled=True,
        wyoming_port=main,
        wyoming_stt_port=stt,
        wyoming_tts_port=tts,
    )
    async with live_server(settings, engine_pool):
        everything, speech_to_text, text_to_speech = (
            await _describe(main),
            await _describe(stt),
            await _describe(tts),
        )
    services = ("asr", "tts", "wake", "handle")
    assert [bool(getattr(everything, name)) for name in services] == [True, True, True, True]
    assert [bool(getattr(speech_to_text, name)) for name in services] == [True, False, False, False]
    assert [bool(getattr(text_to_speech, name)) for name in services] == [False, True, False, False]


def test_two_wyoming_services_on_one_port_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^invalid settings: wyoming_tts_port and wyoming_port are both 10900"
    ):
        load_settings(data_dir=tmp_path, wyoming_enabled=True, wyoming_tts_port=10900)
