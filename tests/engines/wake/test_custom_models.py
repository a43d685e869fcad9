"""A user adds a wake word by file: `wake_custom_models` names it, and the word is called by the file's stem.

The custom models here are bundled ones copied under a new name, so "Okay Nabu" is what wakes them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.engines.wake.test_micro import listen
from tests.speech import padded, piper_speech
from voxhub.config import Settings
from voxhub.engines.wake.custom import read_custom_model
from voxhub.engines.wake.micro import MicroWake
from voxhub.engines.wake.openwakeword import OpenWake
from voxhub.errors import ConfigError
from voxhub.models.store import package_dir


def _copy(module: str, model: str, to: Path) -> Path:
    root = package_dir(module)
    assert root is not None
    shutil.copy(root / "models" / f"{model}.tflite", to)
    return to


def test_a_microwakeword_model_with_its_json_wakes_under_its_file_name(
    tmp_path: Path, session_settings: Settings
) -> None:
    model = _copy("pymicro_wakeword", "okay_nabu", tmp_path / "hey_house.tflite")
    root = package_dir("pymicro_wakeword")
    assert root is not None
    model.with_suffix(".json").write_text((root / "models" / "okay_nabu.json").read_text())
    settings = session_settings.model_copy(
        update={"wake_custom_models": [str(model)], "wake_words": ["hey_house"]}
    )

    engine = MicroWake.from_settings(settings)
    heard = listen(engine.create_stream(), padded(piper_speech("Okay Nabu."), before_ms=500, after_ms=1500))

    assert "hey_house" in engine.capabilities.wake_words
    assert [found.wake_word for found in heard] == ["hey_house"]


def test_a_tflite_model_without_a_micro_config_is_an_openwakeword_model_with_its_threshold(
    tmp_path: Path, session_settings: Settings
) -> None:
    model = _copy("pyopen_wakeword", "okay_nabu", tmp_path / "hey_flat.tflite")
    model.with_suffix(".json").write_text(json.dumps({"threshold": 0.6}))
    settings = session_settings.model_copy(
        update={"wake_custom_models": [str(model)], "wake_words": ["hey_flat"]}
    )

    engine = OpenWake.from_settings(settings)
    heard = listen(engine.create_stream(), padded(piper_speech("Okay Nabu."), before_ms=500, after_ms=1500))

    assert engine.model("hey_flat").cutoff == 0.6
    assert [found.wake_word for found in heard] == ["hey_flat"]


def test_an_onnx_model_is_read_by_openwakeword(tmp_path: Path) -> None:
    (tmp_path / "hey_onnx.onnx").write_bytes(b"\x08\x01")

    assert read_custom_model(tmp_path / "hey_onnx.onnx").engine == "openwakeword"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("missing.tflite", "no such file"),
        ("model.pt", "must be a .tflite or .onnx file"),
        ("Bad Name.tflite", "must be a word id"),
    ],
)
def test_a_bad_custom_model_is_a_config_error_naming_the_setting_and_the_file(
    tmp_path: Path, name: str, problem: str
) -> None:
    path = tmp_path / name
    if name != "missing.tflite":
        path.write_bytes(b"x")

    with pytest.raises(ConfigError, match=rf"wake_custom_models \(VOXHUB_WAKE_CUSTOM_MODELS\): .*{problem}"):
        read_custom_model(path)
