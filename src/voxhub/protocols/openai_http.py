"""The OpenAI-compatible API under `/v1`: models, chat completions, transcriptions and speech."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from voxhub.api.state import State
from voxhub.engines.llm.base import LlmCapabilities
from voxhub.protocols import openai_audio, openai_chat

router = APIRouter(prefix="/v1")
router.include_router(openai_chat.router)
router.include_router(openai_audio.router)

# Names OpenAI clients send by default, answered by the configured engine of that stage.
STT_ALIASES = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")
TTS_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")


@router.get("/models", tags=["openai"], summary="The configured LLM, STT and TTS models, OpenAI-style")
async def models(state: State) -> dict[str, Any]:
    llm = await state.engines.get("llm")
    stt = await state.engines.get("stt")
    tts = await state.engines.get("tts")
    ids = [
        llm.capabilities.model,
        llm.name,
        stt.name,
        *STT_ALIASES,
        tts.name,
        *TTS_ALIASES,
    ]
    created = int(state.started_at)
    llm_ids = {llm.capabilities.model, llm.name}
    return {
        "object": "list",
        "data": [
            {
                "id": model_id,
                "object": "model",
                "created": created,
                "owned_by": "voxhub",
                **(_llm_capabilities(llm.capabilities) if model_id in llm_ids else {}),
            }
            for model_id in dict.fromkeys(ids)  # in order, once each
        ],
    }


def _llm_capabilities(capabilities: LlmCapabilities) -> dict[str, Any]:
    """What a client may rely on: the context one conversation gets, and whether the model calls tools
    itself (commands on a client's devices become calls of its service tool either way)."""
    return {
        "context_length": capabilities.context_tokens,
        "capabilities": {
            "tools": capabilities.tool_calling,
            "home_command_tool_calls": True,
            "context_tokens": capabilities.context_tokens,
            "streaming": capabilities.streaming,
        },
    }
