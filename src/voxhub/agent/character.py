"""Seed 002's two-step character flow: LLM1 writes a context for the character, LLM2 answers in role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voxhub.agent.personas import SPOKEN_STYLE, Persona, PersonaStore
from voxhub.engines.llm.base import ChatMessage, LlmEngine, complete
from voxhub.errors import EngineError

_CONTEXT = (
    "You prepare an actor for the next line of a conversation. From the character sheet and what the user"
    " just said, write two or three sentences in the second person: who the character is and how to answer"
    " this user now. Do not answer the user yourself."
)
DEFAULT_RULES = (
    "Stay in character.",
    "Keep answers short and spoken: no markdown, lists, emoji or links.",
    "If you do not know something, say so in character.",
)


@dataclass(frozen=True, slots=True)
class CharacterContext:
    context: str
    rules: tuple[str, ...]


async def character_sheet(details: str | Mapping[str, Any], personas: PersonaStore) -> Persona | str:
    """A persona for `details`: a stored persona's name, free text, or an object with persona fields."""
    if isinstance(details, str):
        name = details.strip().lower()
        known = {persona.name: persona for persona in await personas.all()}
        return known.get(name, details.strip())
    fields = set(Persona.model_fields)
    known_part = {key: value for key, value in details.items() if key in fields}
    extra = {key: value for key, value in details.items() if key not in fields}
    known_part.setdefault("name", str(details.get("name") or "character"))
    persona = Persona.model_validate(
        {**known_part, "name": str(known_part["name"]).lower()[:64] or "character"}
    )
    if not extra:
        return persona
    return persona.system_prompt() + "\n" + "\n".join(f"{key}: {value}" for key, value in extra.items())


async def generate_context(llm: LlmEngine, user_input: str, sheet: Persona | str) -> CharacterContext:
    """LLM1: the character's context for answering `user_input`, and the rules to keep."""
    description = sheet.system_prompt() if isinstance(sheet, Persona) else sheet
    reply = await complete(
        llm,
        [
            ChatMessage("system", _CONTEXT),
            ChatMessage("user", f"Character sheet:\n{description}\n\nThe user says: {user_input}"),
        ],
        max_tokens=160,
        temperature=0.0,
    )
    written = reply.text.strip()
    if not written:
        raise EngineError("the language model wrote no context", details={"stage": "context"})
    rules = sheet.rules if isinstance(sheet, Persona) and sheet.rules else DEFAULT_RULES
    return CharacterContext(f"{description}\n\n{written}", tuple(rules))


async def generate_response(
    llm: LlmEngine, user_query: str, persona_context: str, rules: Sequence[str]
) -> str:
    """LLM2: the character's answer to `user_query`, in role, under `rules`."""
    system = persona_context.strip() or SPOKEN_STYLE
    if rules:
        system += "\nRules:\n" + "\n".join(f"- {rule}" for rule in rules)
    reply = await complete(llm, [ChatMessage("system", system), ChatMessage("user", user_query)])
    text = reply.text.strip()
    if not text:
        raise EngineError("the language model gave an empty answer", details={"stage": "response"})
    return text
