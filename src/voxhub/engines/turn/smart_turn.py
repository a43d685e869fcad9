"""The `smart-turn` end-of-turn engine: pipecat's smart-turn v3 audio model (ONNX, BSD-2) on onnxruntime.

It hears the last 8 s of the utterance as Whisper log-mel features and answers the probability that the
speaker has finished, from prosody as well as words. The model file comes out of the `pipecat-ai` wheel,
fetched without its dependencies by `voxhub models install smart-turn` (pipecat itself is never installed).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import onnxruntime

from voxhub.audio.pcm import PcmAudio
from voxhub.engines.turn.base import TurnCapabilities, TurnQuery
from voxhub.engines.turn.features import RATE_HZ, last_seconds, log_mel
from voxhub.errors import AudioError
from voxhub.models import store

if TYPE_CHECKING:
    from voxhub.config import Settings

MODEL = "smart-turn"


class SmartTurn:
    """One ONNX session for every session's pauses; each call ~100 ms of one core, in a worker thread."""

    name = "smart-turn"
    capabilities = TurnCapabilities("smart-turn v3.2 (pipecat)", reads_text=False, reads_audio=True)

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        self._session: Any = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(store.wheel_file(MODEL, settings.models_root))

    async def warm_up(self) -> None:
        await self.complete(TurnQuery(PcmAudio.silence(500, RATE_HZ)))

    async def complete(self, query: TurnQuery) -> float | None:
        if query.audio.sample_rate_hz != RATE_HZ:
            raise AudioError(f"smart-turn takes {RATE_HZ} Hz audio, not {query.audio.sample_rate_hz} Hz")
        return await asyncio.to_thread(self.score, query.audio)

    def score(self, audio: PcmAudio) -> float:
        """The model's probability that the turn is complete (blocking)."""
        features = log_mel(last_seconds(audio.to_float32()))[None, :, :]
        (output,) = self._session.run(None, {self._input: features})[:1]
        return float(np.asarray(output).reshape(-1)[0])

    async def aclose(self) -> None:
        self._session = None
