"""Personas: CRUD over the YAML files, and seed 002's context (LLM1) and respond (LLM2) steps."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from voxhub.agent.assistant import Assistant
from voxhub.agent.character import character_sheet, generate_context, generate_response
from voxhub.agent.personas import Persona, check_name
from voxhub.api.state import ServerState, State
from voxhub.engines.registry import check_engine_name
from voxhub.errors import ConfigError, InputError, UnknownEngineError

router = APIRouter(prefix="/api/v1/personas", tags=["personas"])


class ContextRequest(BaseModel):
    user_input: str = Field(min_length=1, max_length=4000)
    character_details: str | dict[str, Any] = Field(
        description="A persona's name, a free description, or an object with persona fields."
    )


class ContextResponse(BaseModel):
    context: str
    rules: list[str]


class RespondRequest(BaseModel):
    user_query: str = Field(min_length=1, max_length=4000)
    persona_context: str = Field(max_length=20000)
    rules: list[str] = Field(default_factory=list)
    model: str | None = Field(default=None, description="An LLM engine name (`local`, `openai`).")


class RespondResponse(BaseModel):
    response: str


def assistant_of(state: ServerState) -> Assistant:
    if state.assistant is None:
        raise ConfigError("the assistant is not loaded on this server")
    return state.assistant


@router.post("/context", summary="LLM1: a character's context and rules for answering the user")
async def persona_context(body: ContextRequest, state: State) -> ContextResponse:
    sheet = await character_sheet(body.character_details, assistant_of(state).personas)
    made = await generate_context(await state.engines.get("llm"), body.user_input, sheet)
    return ContextResponse(context=made.context, rules=list(made.rules))


@router.post("/respond", summary="LLM2: the character's answer, in role")
async def persona_respond(body: RespondRequest, state: State) -> RespondResponse:
    if body.model is not None:
        try:
            check_engine_name("llm", body.model)
        except UnknownEngineError as exc:  # the request is wrong, not the server's configuration
            raise InputError(exc.message, details={"param": "model", **exc.details}) from None
    llm = await state.engines.get("llm", body.model)
    return RespondResponse(
        response=await generate_response(llm, body.user_query, body.persona_context, body.rules)
    )


@router.get("", summary="Every persona (shipped ones and your own)")
async def list_personas(state: State) -> dict[str, Any]:
    personas = await assistant_of(state).personas.all()
    return {"personas": [persona.model_dump(mode="json") for persona in personas]}


@router.get("/{name}", summary="One persona")
async def get_persona(name: str, state: State) -> Persona:
    return await assistant_of(state).personas.get(check_name(name))


@router.post("", status_code=201, summary="Create or replace a persona (a shipped one is overridden)")
async def create_persona(persona: Persona, state: State) -> Persona:
    check_name(persona.name)
    return await assistant_of(state).personas.save(persona)


@router.put("/{name}", summary="Create or replace the persona `name`")
async def put_persona(name: str, persona: Persona, state: State) -> Persona:
    if persona.name != check_name(name):
        raise InputError(
            f"the body names persona {persona.name!r} but the path says {name!r}", details={"param": "name"}
        )
    return await assistant_of(state).personas.save(persona)


@router.delete("/{name}", status_code=204, summary="Delete your persona (shipped ones answer 409)")
async def delete_persona(name: str, state: State) -> Response:
    await assistant_of(state).personas.delete(check_name(name))
    return Response(status_code=204)
