"""`llm_engine: auto`: ask the OpenAI-compatible servers on this machine which models they serve, all at
once within a short budget, and pick the best one for conversation.

"Best", plainly (see docs/agent.md):
1. chat models only: embedding, reranking, speech and guard models are left out;
2. models up to `llm_auto_max_params_b` (billions, read from the name: `8b`, `3B`, `0.5b`, `8x7b`) before
   larger ones, which are too slow to speak with on most home machines; a name with no size counts as 0;
3. among those, the largest; a larger model answers better, and the user chose to serve it;
4. then by family, in `FAMILIES` order (newer instruction-tuned families first); `coder` and `base`
   variants after the others of their size;
5. then the order of the servers in `llm_auto_servers`, then the order each server lists its models.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

logger = logging.getLogger(__name__)

# Newer, instruction-tuned families first; a family not listed ranks after all of these.
FAMILIES = (
    "qwen3",
    "llama4",
    "gemma3",
    "qwen2.5",
    "llama3.3",
    "llama3.2",
    "llama3.1",
    "phi4",
    "mistral-small",
    "mistral-nemo",
    "granite3",
    "gemma2",
    "llama3",
    "qwen2",
    "mistral",
    "phi3",
    "smollm2",
)
# Served, but not for chat.
_NOT_CHAT = re.compile(r"embed|rerank|whisper|tts|bge-|e5-|minilm|clip|guard", re.IGNORECASE)
_SECONDARY = re.compile(r"coder|code|base|math", re.IGNORECASE)
_SIZE = re.compile(r"(?<![a-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s_:/-]+")


@dataclass(frozen=True, slots=True)
class FoundModel:
    """A model a server on this machine offers: the server's name (a key of `llm_auto_servers`), its
    OpenAI-compatible base URL, and the model's id as that server names it."""

    server: str
    base_url: str
    model: str

    @property
    def label(self) -> str:
        """What logs, `/health` and `voxhub engines` call it: `qwen2.5:3b (Ollama)`."""
        return f"{self.model} ({self.server})"


def params_billions(model: str) -> float:
    """The parameter count a model's name gives, in billions (`llama3.2:3b` → 3, `mixtral-8x7b` → 56,
    `SmolLM2-360M` → 0.36); 0 when the name gives none."""
    best = 0.0
    for experts, size, unit in _SIZE.findall(model):
        value = float(size) * (int(experts) if experts else 1)
        best = max(best, value if unit.lower() == "b" else value / 1000)
    return best


def family_rank(model: str) -> int:
    """The model's place in `FAMILIES` (lower is preferred); len(FAMILIES) for a family not listed."""
    name = _SEPARATORS.sub("", model.lower().rsplit("/", 1)[-1])
    for index, family in enumerate(FAMILIES):
        if name.startswith(family.replace("-", "")):
            return index
    return len(FAMILIES)


def is_chat_model(model: str) -> bool:
    return not _NOT_CHAT.search(model)


def best_model(found: Sequence[FoundModel], max_params_b: float) -> FoundModel | None:
    """The best of `found` by the rules in this module's docstring, or None if none is a chat model."""
    candidates = [model for model in found if is_chat_model(model.model)]
    if not candidates:
        return None

    def key(indexed: tuple[int, FoundModel]) -> tuple[bool, float, bool, int, int]:
        order, model = indexed
        size = params_billions(model.model)
        fits = size <= max_params_b
        return (
            not fits,
            -size if fits else size,
            bool(_SECONDARY.search(model.model)),
            family_rank(model.model),
            order,
        )

    return min(enumerate(candidates), key=key)[1]


async def probe_servers(servers: Mapping[str, str], budget_secs: float) -> list[FoundModel]:
    """Every model the `servers` (name → base URL) list, asking them all at once; whatever has not
    answered within `budget_secs` is left out, so start-up never waits longer than that."""
    if not servers:
        return []
    # Never the environment's proxy: these are loopback addresses, and a proxy would answer for them.
    async with httpx.AsyncClient(timeout=httpx.Timeout(budget_secs), trust_env=False) as client:
        tasks = [asyncio.create_task(_probe(client, name, url.rstrip("/"))) for name, url in servers.items()]
        done, pending = await asyncio.wait(tasks, timeout=budget_secs)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    found: list[FoundModel] = []
    for name, task in zip(servers, tasks, strict=True):
        if task in done and task.exception() is None:
            found += task.result()
        elif task not in done:
            logger.info("LLM server %s at %s did not answer in %.1f s", name, servers[name], budget_secs)
    return found


async def _probe(client: httpx.AsyncClient, name: str, base_url: str) -> list[FoundModel]:
    """The models one server offers: OpenAI's `/models`, else Ollama's own `/api/tags`."""
    try:
        response = await client.get(f"{base_url}/models")
    except httpx.HTTPError:
        return []  # nothing listens there: the usual case
    models = _model_ids(_json(response)) if response.status_code == 200 else None
    if models is None:  # not an OpenAI list: an Ollama too old for `/v1/models`?
        root = base_url.removesuffix("/v1")
        try:
            tags = await client.get(f"{root}/api/tags")
        except httpx.HTTPError:
            return []
        models = _tag_names(_json(tags)) if tags.status_code == 200 else []
    if models:
        logger.info("LLM server %s at %s offers %s", name, base_url, ", ".join(models))
    return [FoundModel(name, base_url, model) for model in models]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _model_ids(body: Any) -> list[str] | None:
    """OpenAI's `{"data": [{"id": ...}]}` (None if the body is not that), leaving out voxhub's own (another
    voxhub, or this one on a probed port: answering through it would loop)."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return None
    return [
        str(item["id"])
        for item in data
        if isinstance(item, dict) and item.get("id") and item.get("owned_by") != "voxhub"
    ]


def _tag_names(body: Any) -> list[str]:
    """Ollama's `{"models": [{"name": ...}]}`."""
    data = body.get("models") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return []
    return [str(item["name"]) for item in data if isinstance(item, dict) and item.get("name")]
