"""The package's layers: each module imports only from its own layer and the ones below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "voxhub"
# Bottom to top; a layer may use every layer to its left.
LAYERS = (
    # settings holds the fields of config.Settings, one mixin per concern
    ("config", "settings", "environment", "errors", "language", "log_context", "__init__"),
    ("audio", "models"),
    ("engines",),
    ("pipeline",),
    ("sessions",),
    ("agent",),
    ("api",),
    ("protocols",),
    ("web",),
    ("server",),
    # the console is the CLI's rich output, commands its groups of subcommands, deploy its service/cert
    ("cli", "commands", "console", "deploy", "__main__"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def layer_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return {name.removesuffix(".py") for name in names if name.split(".")[0] == "voxhub"}


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_a_module_imports_nothing_from_a_layer_above_its_own(path: Path) -> None:
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    upward = sorted(name for name in imported(path) if RANK[layer_of(name)] > RANK[own])
    assert upward == [], f"{path.relative_to(PACKAGE)} reaches up to {upward}"


def test_every_top_level_module_has_a_layer() -> None:
    tops = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in MODULES}
    assert tops <= RANK.keys(), sorted(tops - RANK.keys())
