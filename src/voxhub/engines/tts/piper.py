"""Piper text to speech: a VITS voice (`.onnx` with its `.onnx.json`) chosen by `tts_piper_model`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from piper import PiperVoice, SynthesisConfig

from voxhub.audio import PcmAudio
from voxhub.config import env_name
from voxhub.engines.tts.base import TtsCapabilities, require_speed, require_text, unknown_voice
from voxhub.errors import ConfigError, InputError, ModelError
from voxhub.language import language_code

if TYPE_CHECKING:
    from voxhub.config import Settings

_SETTING = f"tts_piper_model ({env_name('tts_piper_model')})"


class PiperTts:
    """Speaks with one Piper voice (any of its speakers), one chunk per sentence."""

    name = "piper"

    def __init__(self, voice: PiperVoice, *, name: str, language: str, speed: float) -> None:
        self._voice = voice
        self._name = name
        self._language = language
        self._speed = speed
        self._speakers: dict[str, int] = dict(voice.config.speaker_id_map)
        self.capabilities = TtsCapabilities(
            model=f"Piper {name}",
            sample_rate_hz=voice.config.sample_rate,
            languages=(language,),
            voices=(name, *self._speakers),
            streaming=True,
        )
        # onnxruntime already uses every core for one sentence; a private queue serves concurrent callers.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voxhub-piper")

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        model = settings.tts_piper_model
        if model is None:
            raise ConfigError(
                f"{_SETTING} is not set: point it at a Piper voice `.onnx` file with its `.onnx.json` beside it",
                details={"setting": "tts_piper_model"},
            )
        config_path = Path(f"{model}.json")
        if not config_path.is_file():
            raise ConfigError(
                f"{_SETTING}: the voice's config {config_path} is missing",
                details={"setting": "tts_piper_model"},
            )
        try:
            config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
            voice = PiperVoice.load(model, config_path)
        except Exception as exc:  # onnxruntime and piper raise many exception types for a bad voice
            raise ModelError(f"could not load the Piper voice {model}: {exc}") from exc
        language = config.get("language", {}).get("family") or voice.config.espeak_voice
        name = model.name.removesuffix(".onnx")
        speed = settings.tts_speed
        return cls(voice, name=name, language=language_code(str(language)), speed=speed)

    async def warm_up(self) -> None:
        async for _ in self.synthesize("Ready."):
            pass

    async def synthesize(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float | None = None
    ) -> AsyncIterator[PcmAudio]:
        """Stream the speech for `text`, one chunk per sentence; raises EmptyTextError for blank text."""
        text = require_text(text)
        if voice is not None and voice not in (self._name, *self._speakers):
            raise unknown_voice("piper", voice, self.capabilities.voices)
        if language is not None and language_code(language) != self._language:
            raise InputError(
                f"the Piper voice {self._name} speaks {self._language!r}, not {language!r}",
                details={"language": language},
            )
        pace = require_speed(self._speed if speed is None else speed)
        options = SynthesisConfig(
            speaker_id=self._speakers.get(voice or ""), length_scale=self._voice.config.length_scale / pace
        )
        loop = asyncio.get_running_loop()
        sentences = iter(self._voice.synthesize(text, syn_config=options))
        while (pcm := await loop.run_in_executor(self._worker, _next_sentence, sentences)) is not None:
            if pcm:
                yield PcmAudio(pcm, self.capabilities.sample_rate_hz)

    async def aclose(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


def _next_sentence(sentences: Iterator[Any]) -> bytes | None:
    chunk = next(sentences, None)
    return None if chunk is None else bytes(chunk.audio_int16_bytes)
