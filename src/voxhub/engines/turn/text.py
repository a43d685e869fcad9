"""The `text` end-of-turn engine: the embedded LLM's chance that the user's message ends after these words.

One forward pass of the already loaded SmolLM2 (the `local` LLM's llama.cpp server, over loopback): the
prompt is the chat template up to the user's words, trailing punctuation removed (Whisper adds a full stop
to anything), and the verdict is the probability of the next token being the end of the message
(`<|im_end|>`) or a sentence end (`.`, `?`, `!`, a newline). No text is generated.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Self

import httpx

from voxhub.audio.pcm import PcmAudio
from voxhub.engines.llm.local import LocalLlm
from voxhub.engines.turn.base import TurnCapabilities, TurnQuery
from voxhub.errors import EngineError

if TYPE_CHECKING:
    from voxhub.config import Settings

# SmolLM2's own default system prompt: the model was tuned with it, so its probabilities are the least odd.
_PROMPT = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\n"
)
_ENDS = frozenset({"<|im_end|>", ".", "?", "!", "\n", "<|endoftext|>"})
_TOP_TOKENS = 20
_TRAILING = " \t\n.,;:!?…\"'"
_TIMEOUT_SECS = 5.0


class TextTurn:
    """Scores the words with the `local` LLM; shares the server the answers use when there is one."""

    name = "text"
    capabilities = TurnCapabilities("SmolLM2 end-of-message probability", reads_text=True, reads_audio=False)

    def __init__(self, llm: LocalLlm, *, owned: bool) -> None:
        self._llm = llm
        self.owns_server = owned  # a llama.cpp server started for this engine alone, closed with it
        self._url = llm.base_url.removesuffix("/v1") + "/completion"
        self._client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {llm.api_key}"}, timeout=_TIMEOUT_SECS, trust_env=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """With its own llama.cpp server, one slot: only when no `local` LLM is loaded to share."""
        return cls(LocalLlm.from_settings(settings.model_copy(update={"llm_slots": 1})), owned=True)

    @classmethod
    def sharing(cls, llm: LocalLlm) -> Self:
        return cls(llm, owned=False)

    async def warm_up(self) -> None:
        await self.complete(TurnQuery(PcmAudio(b"", 16000), "Hello there"))

    async def complete(self, query: TurnQuery) -> float | None:
        words = query.text.strip().rstrip(_TRAILING)
        if not words:
            return None
        body = {
            "prompt": _PROMPT + words,
            "n_predict": 1,
            "n_probs": _TOP_TOKENS,
            "temperature": 0.0,
            "cache_prompt": True,
        }
        try:
            response = await self._client.post(self._url, json=body)
            response.raise_for_status()
            return end_probability(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise EngineError(f"the text end-of-turn check failed: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()
        if self.owns_server:
            await self._llm.aclose()


def end_probability(completion: dict[str, Any]) -> float:
    """The summed probability of the ending tokens among the top ones llama.cpp reports for the next token."""
    top = completion["completion_probabilities"][0]["top_logprobs"]
    return min(1.0, sum((math.exp(entry["logprob"]) for entry in top if _ends(entry["token"])), 0.0))


def _ends(token: str) -> bool:
    return token in _ENDS or token.strip() in _ENDS
