"""Personas (characters): who the assistant plays, stored as YAML files; a few ship with voxhub."""

from __future__ import annotations

import asyncio
import re
import time
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voxhub.errors import InputError, VoxhubError
from voxhub.sessions.store.base import Store

DEFAULT_PERSONA = "assistant"
DOCUMENT_KIND = "persona"
DEFAULT_SPOKEN_TOKENS = 96  # about 70 words, 25 s of speech
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

SPOKEN_STYLE = (
    "Your words are spoken aloud: answer in short sentences, with no markdown, lists, emoji or links."
)


class PersonaNotFound(VoxhubError):
    code = "persona_not_found"
    status_code = 404


class PersonaReadOnly(VoxhubError):
    code = "persona_read_only"
    status_code = 409


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str
    assistant: str


class Persona(BaseModel):
    """A character: the same shape in YAML files and in the `/api/v1/personas` API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Lower-case id: letters, digits, '-' and '_'.")
    description: str = ""
    personality: str = ""
    speaking_style: str = ""
    rules: tuple[str, ...] = ()
    voice: str | None = None
    language: str | None = None
    greeting: str | None = None
    examples: tuple[Example, ...] = ()
    acknowledgements: tuple[str, ...] = Field(
        default=(), description="Short openers spoken at once while the answer is made, e.g. 'Sure,'."
    )
    match_tone: bool = Field(default=True, description="Answer in a tone that fits the user's emotion.")
    max_spoken_tokens: int = Field(
        default=DEFAULT_SPOKEN_TOKENS,
        ge=1,
        le=4096,
        description="Most tokens of an answer that is spoken (about 0.75 words each): speech is slow to "
        "hear, so short by default. An answer the budget cuts ends at its last whole sentence.",
    )
    max_text_tokens: int | None = Field(
        default=None,
        ge=1,
        le=16384,
        description="Most tokens of an answer shown as text only; unset: the llm_max_tokens setting.",
    )

    def system_prompt(self) -> str:
        """The persona as instructions for the LLM."""
        lines = [f"Your name is {self.name.replace('-', ' ').replace('_', ' ').title()}."]
        if self.description:
            lines.append(self.description)
        if self.personality:
            lines.append(f"Personality: {self.personality}")
        if self.speaking_style:
            lines.append(f"Speaking style: {self.speaking_style}")
        lines.append(SPOKEN_STYLE)
        if self.rules:
            lines.append("Rules:\n" + "\n".join(f"- {rule}" for rule in self.rules))
        if self.examples:
            shown = "\n".join(f"User: {ex.user}\nYou: {ex.assistant}" for ex in self.examples)
            lines.append(f"Examples of how you talk:\n{shown}")
        return "\n".join(lines)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(
            f"persona name {name!r} must be lower-case letters, digits, '-' or '_' (at most 64)",
            details={"param": "name"},
        )
    return name


def parse_persona(document: Any, source: str) -> Persona:
    try:
        return Persona.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'persona'}: {e['msg']}" for e in exc.errors())
        raise InputError(f"invalid persona in {source}: {problems}", details={"source": source}) from None


def shipped_personas() -> dict[str, Persona]:
    """The personas inside the package (read-only; a file of the same name in the data directory wins)."""
    folder = resources.files("voxhub.agent").joinpath("shipped_personas")
    found: dict[str, Persona] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            persona = parse_persona(yaml.safe_load(entry.read_text(encoding="utf-8")), entry.name)
            found[persona.name] = persona
    return found


class PersonaStore:
    """Shipped personas plus the user's own, one YAML file each in `<data_dir>/personas/`, or documents of
    kind "persona" in `documents` (a shared database) when it is given."""

    def __init__(self, folder: Path, documents: Store | None = None) -> None:
        self.folder = folder
        self.documents = documents
        self._shipped = shipped_personas()
        self._lock = asyncio.Lock()

    def _path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.yaml"

    async def all(self) -> list[Persona]:
        personas = dict(self._shipped)
        if self.documents is not None:
            stored = await self.documents.list_documents(DOCUMENT_KIND)
            found = [parse_persona(data, f"the database ({key})") for key, data in stored]
        else:
            found = await asyncio.to_thread(self._read_all)
        for persona in found:
            personas[persona.name] = persona
        return [personas[name] for name in sorted(personas)]

    async def get(self, name: str) -> Persona:
        path = self._path(name)
        if self.documents is not None:
            data = await self.documents.get_document(DOCUMENT_KIND, name)
            if data is not None:
                return parse_persona(data, f"the database ({name})")
        elif await asyncio.to_thread(path.exists):
            return await asyncio.to_thread(self._read, path)
        if name in self._shipped:
            return self._shipped[name]
        raise PersonaNotFound(f"no persona {name!r}", details={"persona": name})

    async def find(self, name: str | None) -> Persona:
        """The named persona, or the default one when `name` is None or no longer exists."""
        try:
            return await self.get(name or DEFAULT_PERSONA)
        except (PersonaNotFound, InputError):
            return self._shipped[DEFAULT_PERSONA]

    async def save(self, persona: Persona) -> Persona:
        path = self._path(persona.name)
        if self.documents is not None:
            await self.documents.put_document(
                DOCUMENT_KIND, persona.name, persona.model_dump(mode="json"), time.time()
            )
            return persona
        text = yaml.safe_dump(persona.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
        async with self._lock:
            await asyncio.to_thread(self._write, path, text)
        return persona

    async def delete(self, name: str) -> None:
        path = self._path(name)
        if self.documents is not None:
            removed = await self.documents.delete_document(DOCUMENT_KIND, name)
        else:
            async with self._lock:
                removed = await asyncio.to_thread(self._unlink, path)
        if not removed:
            if name in self._shipped:
                raise PersonaReadOnly(
                    f"persona {name!r} ships with voxhub and cannot be deleted (saving one overrides it)",
                    details={"persona": name},
                )
            raise PersonaNotFound(f"no persona {name!r}", details={"persona": name})

    def _read_all(self) -> list[Persona]:
        if not self.folder.is_dir():
            return []
        return [self._read(path) for path in sorted(self.folder.glob("*.yaml"))]

    @staticmethod
    def _read(path: Path) -> Persona:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"persona file {path} is not valid YAML: {exc}") from None
        return parse_persona(document, str(path))

    def _write(self, path: Path, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".yaml.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)  # a reader never sees half a file

    @staticmethod
    def _unlink(path: Path) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True
