"""Generated tools on disk: one JSON file each in `<data_dir>/autofunctions/`, so they survive restarts.

With a shared database (PostgreSQL) they are documents of kind "autofunction" in it instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from voxhub.errors import VoxhubError
from voxhub.sessions.store.base import Store

Status = Literal["pending", "approved", "disabled"]
_ID = re.compile(r"^af_[0-9a-f]{12}$")
DOCUMENT_KIND = "autofunction"


class AutoFunctionNotFound(VoxhubError):
    code = "autofunction_not_found"
    status_code = 404


@dataclass(frozen=True, slots=True)
class AutoFunction:
    """One generated tool: what was asked, what the LLM wrote, how its tests went, and where it stands."""

    id: str
    name: str  # the tool's name, unique among generated tools
    function: str  # the `def` in `source` a call runs
    description: str
    request: str  # the description the tool was created from
    source: str
    parameters: dict[str, Any]
    tests: str
    status: Status
    created_at: float  # unix seconds
    updated_at: float
    # the sandboxed test run, as SandboxResult, with `property_check` (a PropertyReport) beside it
    test_report: dict[str, Any] = field(default_factory=dict)

    @property
    def tests_passed(self) -> bool:
        """Its own tests passed, and so did voxhub's property check (a tool stored before it had none)."""
        return bool((self.test_report.get("tests") or {}).get("passed")) and self.property_check_passed

    @property
    def property_check_passed(self) -> bool:
        check = self.test_report.get("property_check")
        return check is None or bool(check.get("passed"))

    @property
    def property_failures(self) -> list[dict[str, Any]]:
        """The failing cases of the property check (see properties.py)."""
        return list((self.test_report.get("property_check") or {}).get("failures") or [])

    def with_status(self, status: Status, at: float) -> AutoFunction:
        return replace(self, status=status, updated_at=at)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"tests_passed": self.tests_passed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AutoFunction:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


class AutoFunctionStore:
    """Reads and writes definitions; each write replaces its file atomically."""

    def __init__(self, directory: Path, documents: Store | None = None) -> None:
        self.directory = directory
        self.documents = documents

    def _path(self, function_id: str) -> Path:
        if not _ID.match(function_id):  # ids come from URLs: never let one name another file
            raise AutoFunctionNotFound(f"no generated tool {function_id!r}", details={"id": function_id})
        return self.directory / f"{function_id}.json"

    async def save(self, function: AutoFunction) -> None:
        if self.documents is not None:
            self._path(function.id)
            await self.documents.put_document(
                DOCUMENT_KIND, function.id, asdict(function), function.updated_at
            )
            return
        await asyncio.to_thread(self._write, function)

    def _write(self, function: AutoFunction) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(function.id)
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(asdict(function), indent=2, sort_keys=True))
        os.replace(partial, path)

    async def get(self, function_id: str) -> AutoFunction:
        path = self._path(function_id)
        if self.documents is not None:
            data = await self.documents.get_document(DOCUMENT_KIND, function_id)
            if data is None:
                raise AutoFunctionNotFound(f"no generated tool {function_id!r}", details={"id": function_id})
            return AutoFunction.from_dict(data)
        try:
            text = await asyncio.to_thread(path.read_text)
        except FileNotFoundError:
            raise AutoFunctionNotFound(
                f"no generated tool {function_id!r}", details={"id": function_id}
            ) from None
        return AutoFunction.from_dict(json.loads(text))

    async def all(self) -> list[AutoFunction]:
        """Every definition, oldest first."""
        if self.documents is not None:
            stored = [
                AutoFunction.from_dict(data) for _, data in await self.documents.list_documents(DOCUMENT_KIND)
            ]
            return sorted(stored, key=lambda function: function.created_at)
        return sorted(await asyncio.to_thread(self._read_all), key=lambda function: function.created_at)

    def _read_all(self) -> list[AutoFunction]:
        if not self.directory.is_dir():
            return []
        return [
            AutoFunction.from_dict(json.loads(path.read_text())) for path in self.directory.glob("af_*.json")
        ]

    async def delete(self, function_id: str) -> None:
        path = self._path(function_id)
        if self.documents is not None:
            if not await self.documents.delete_document(DOCUMENT_KIND, function_id):
                raise AutoFunctionNotFound(f"no generated tool {function_id!r}", details={"id": function_id})
            return
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            raise AutoFunctionNotFound(
                f"no generated tool {function_id!r}", details={"id": function_id}
            ) from None
