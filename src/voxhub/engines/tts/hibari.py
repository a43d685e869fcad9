"""hibari text to speech: a small English model shipped inside the `hibari-tts` package, 24 kHz."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Self

import numpy as np
import numpy.typing as npt
from hibari import SAMPLE_RATE, Hibari

from voxhub.audio import PcmAudio
from voxhub.engines.tts.base import (
    TtsCapabilities,
    require_speed,
    require_text,
    spoken_pieces,
    unknown_voice,
)
from voxhub.errors import EngineError, InputError, ModelError
from voxhub.language import language_code
from voxhub.models import store
from voxhub.models.catalog import BUNDLED

if TYPE_CHECKING:
    from voxhub.config import Settings

# The only voice inside the package; hibari would download any other one, which voxhub never lets it do.
VOICE = "heart"
_MODEL = "hibari"


class HibariTts:
    """Speaks English with hibari's bundled voice, one chunk per sentence."""

    name = "hibari"

    def __init__(self, tts: Hibari, speed: float) -> None:
        self._tts = tts
        self._speed = speed
        self.capabilities = TtsCapabilities(
            model=f"hibari, voice {VOICE}",
            sample_rate_hz=SAMPLE_RATE,
            languages=("en",),
            voices=(VOICE,),
            streaming=True,
        )
        # hibari runs on one core; one private worker keeps sentences of concurrent callers in a queue.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voxhub-hibari")

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        if settings.tts_voice not in (None, VOICE):
            raise unknown_voice("hibari (offline)", settings.tts_voice, [VOICE], from_setting=True)
        model = store.bundled_file(_MODEL)
        for other in BUNDLED[_MODEL].files[1:]:  # the G2P's model for words outside its lexicon
            store.bundled_file(_MODEL, other)
        try:
            tts = Hibari(voice=VOICE, model=str(model), threads=1)
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
            raise ModelError(f"could not load the hibari model {model}: {exc}") from exc
        return cls(tts, settings.tts_speed)

    async def warm_up(self) -> None:
        """Load the G2P (hibari does so on first use) and run the model once."""
        async for _ in self.synthesize("Ready."):
            pass

    async def synthesize(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float | None = None
    ) -> AsyncIterator[PcmAudio]:
        """Stream the speech for `text`, one chunk per sentence; raises EmptyTextError for blank text."""
        text = require_text(text)
        if voice not in (None, VOICE):
            raise unknown_voice("hibari", voice, [VOICE])
        if language is not None and language_code(language) != "en":
            raise InputError(
                f"hibari speaks English only, not {language!r}; the espeak engine speaks other languages",
                details={"language": language},
            )
        rate = require_speed(self._speed if speed is None else speed)
        loop = asyncio.get_running_loop()
        for piece in spoken_pieces(text):  # hibari phonemizes all it is given before its first sentence
            sentences = self._tts.stream(piece, rate)
            while (
                samples := await loop.run_in_executor(self._worker, _next_sentence, sentences)
            ) is not None:
                if samples.size:
                    yield PcmAudio.from_float32(samples, SAMPLE_RATE)

    async def aclose(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


def _next_sentence(sentences: Iterator[npt.NDArray[np.float32]]) -> npt.NDArray[np.float32] | None:
    try:
        return next(sentences, None)
    except Exception as exc:  # the G2P or the model on a text it cannot read: the engine failed, not voxhub
        raise EngineError(f"hibari cannot say this text: {exc}", details={"engine": "hibari"}) from None
