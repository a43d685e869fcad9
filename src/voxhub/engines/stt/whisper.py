"""Whisper speech to text: faster-whisper (CTranslate2), int8 on the CPU, from models shipped in packages."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from faster_whisper import WhisperModel

from voxhub.audio import PcmAudio, resample
from voxhub.config import env_name
from voxhub.engines.stt.base import SttCapabilities, SttRequest, Transcript, TranscriptSegment
from voxhub.engines.stt.scheduler import stt_workers
from voxhub.engines.stt.window import (
    FRAMES_PER_SEC,
    WindowRequest,
    decode_windowed_batch,
    fits_window,
    guarded,
)
from voxhub.errors import AudioError, ConfigError, InputError, ModelError
from voxhub.language import AUTO, is_auto, language_code
from voxhub.models import store
from voxhub.models.catalog import BUNDLED, JOINED

if TYPE_CHECKING:
    from voxhub.config import Settings

SAMPLE_RATE_HZ = 16000
TINY_EN = "tiny.en"
BASE = "base"
_ENGLISH_MODEL = "whisper-tiny.en"
_MULTILINGUAL_MODEL = "whisper-base"
_MULTILINGUAL_ADVICE = "install it with `pip install 'voxhub[pl]'`"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Segment:
    """A windowed decode's one segment, shaped like faster-whisper's (seconds)."""

    text: str
    start: float
    end: float


def multilingual_installed(models_dir: Path) -> bool:
    """True if Whisper base is joined already or its part packages are installed (no hashing)."""
    joined = JOINED[_MULTILINGUAL_MODEL]
    if (models_dir / joined.name / joined.output).is_file():
        return True
    return all(store.package_dir(BUNDLED[owner].module) is not None for owner, _ in joined.parts)


def load_model(directory: Path, settings: Settings) -> WhisperModel:
    """A CTranslate2 Whisper model from `directory`, quantized to int8 for the CPU."""
    try:
        return WhisperModel(
            str(directory),
            device="cpu",
            compute_type="int8",
            cpu_threads=settings.stt_threads,
            num_workers=stt_workers(settings) + 1,  # the scheduler's lanes, and the one kept for finals
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"could not load the Whisper model in {directory}: {exc}") from exc


class WhisperStt:
    """Transcribes utterances with Whisper: tiny.en for English, base (loaded on first need) otherwise."""

    name = "whisper"

    def __init__(
        self,
        settings: Settings,
        *,
        english: WhisperModel | None,
        multilingual: WhisperModel | None,
        find_multilingual: Callable[[], Path] | None,
        english_only_reason: str,
    ) -> None:
        self._settings = settings
        self._english = english
        self._multilingual = multilingual
        self._find_multilingual = find_multilingual
        self._english_only_reason = english_only_reason
        any_language = multilingual is not None or find_multilingual is not None
        if is_auto(settings.stt_language) and not any_language:
            raise ConfigError(
                f"stt_language ({env_name('stt_language')}) is auto, but {english_only_reason}; "
                "or name the language (en)",
                details={"setting": "stt_language", "value": settings.stt_language},
            )
        models = [name for name, present in (("tiny.en", english), ("base", any_language)) if present]
        self.capabilities = SttCapabilities(
            model="Whisper " + " + ".join(models),
            sample_rate_hz=SAMPLE_RATE_HZ,
            languages=() if any_language else ("en",),
            streaming=False,
        )
        # As many decodes at a time as the scheduler's lanes (each on `stt_threads` cores); a private pool
        # keeps waiting callers from holding the event loop's shared worker threads.
        self._loading = threading.Lock()
        self._worker = ThreadPoolExecutor(
            max_workers=stt_workers(settings) + 1, thread_name_prefix="voxhub-whisper"
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        choice = settings.stt_model.strip()
        if choice == "auto":
            models_dir = settings.models_root
            finder = functools.partial(store.joined_dir, _MULTILINGUAL_MODEL, models_dir)
            return cls(
                settings,
                english=load_model(store.bundled_dir(_ENGLISH_MODEL), settings),
                multilingual=None,
                find_multilingual=finder if multilingual_installed(models_dir) else None,
                english_only_reason=f"the multilingual Whisper base model is not installed: {_MULTILINGUAL_ADVICE}",
            )
        if choice == TINY_EN:
            return cls(
                settings,
                english=load_model(store.bundled_dir(_ENGLISH_MODEL), settings),
                multilingual=None,
                find_multilingual=None,
                english_only_reason=f"stt_model ({env_name('stt_model')}) is tiny.en, which knows only English; "
                f"set it to auto or base ({_MULTILINGUAL_ADVICE})",
            )
        if choice == BASE:
            directory = store.joined_dir(_MULTILINGUAL_MODEL, settings.models_root)
            return cls(
                settings,
                english=None,
                multilingual=load_model(directory, settings),
                find_multilingual=None,
                english_only_reason="",
            )
        model = load_model(checked_model_directory(choice), settings)
        english_only = not model.model.is_multilingual
        return cls(
            settings,
            english=model if english_only else None,
            multilingual=None if english_only else model,
            find_multilingual=None,
            english_only_reason=f"the model in {choice} knows only English",
        )

    async def warm_up(self) -> None:
        """Decode a second of silence so the first real utterance does not pay for allocations."""
        await self.transcribe(
            PcmAudio.silence(1000, SAMPLE_RATE_HZ), language="en" if self._english else None
        )

    async def transcribe(
        self, audio: PcmAudio, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        """Transcribe one utterance at any rate; raises AudioError on empty audio."""
        [result] = await self.transcribe_batch([SttRequest(audio, language, prompt)])
        if isinstance(result, Exception):
            raise result
        return result

    async def transcribe_batch(self, requests: Sequence[SttRequest]) -> list[Transcript | Exception]:
        """Utterances that fit the window and share a model go through one encoder pass and one `generate`."""
        return await self._run(self._decode_batch, list(requests))

    async def aclose(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._worker, functools.partial(function, *args)
        )

    def _decode_batch(self, requests: list[SttRequest]) -> list[Transcript | Exception]:
        """Runs on a worker thread: check every request, batch the windowed ones per model, guard each."""
        results: list[Transcript | Exception | None] = [None] * len(requests)
        window_frames = round(FRAMES_PER_SEC * self._settings.stt_window_secs)
        batches: dict[int, list[tuple[int, WhisperModel, WindowRequest]]] = {}
        for index, request in enumerate(requests):
            try:
                samples, model, code = self._prepared(request)
            except (AudioError, InputError, ModelError) as exc:
                results[index] = exc
                continue
            if fits_window(len(samples), window_frames):
                batches.setdefault(id(model), []).append(
                    (index, model, WindowRequest(samples, code, request.prompt))
                )
            else:
                segments, detected = self._decode_full(model, samples, code, request.prompt)
                results[index] = _transcript(segments, detected, request.audio.duration_ms)
        for batch in batches.values():
            model = batch[0][1]
            decoded = decode_windowed_batch(
                model,
                [item for _, _, item in batch],
                window_frames=window_frames,
                beam_size=self._settings.stt_beam_size,
            )
            for (index, _, item), first in zip(batch, decoded, strict=True):
                text = guarded(first, functools.partial(self._full_text, model, item)).strip()
                duration_s = len(item.samples) / SAMPLE_RATE_HZ
                segments = [_Segment(text, 0.0, duration_s)] if text else []
                results[index] = _transcript(segments, item.language, requests[index].audio.duration_ms)
        return [result if result is not None else ModelError("no transcript") for result in results]

    def _prepared(self, request: SttRequest) -> tuple[Any, WhisperModel, str]:
        """16 kHz float32 samples, the model and the language code for `request`; raises on a bad request."""
        if request.audio.sample_count == 0:
            raise AudioError("audio to transcribe is empty")
        code = language_code(request.language or self._settings.stt_language)
        samples = resample(request.audio, SAMPLE_RATE_HZ).to_float32()
        if code == AUTO:
            code = self._identify(samples)
        model = self._model_for(code)
        if code not in model.supported_languages:
            raise InputError(f"Whisper does not know the language {code!r}", details={"language": code})
        return samples, model, code

    def _full_text(self, model: WhisperModel, item: WindowRequest) -> str:
        return "".join(
            segment.text for segment in self._decode_full(model, item.samples, item.language, item.prompt)[0]
        )

    def _decode_full(
        self, model: WhisperModel, samples: Any, language: str, prompt: str | None
    ) -> tuple[list[Any], str]:
        """Today's path: faster-whisper's own, on the full 30 s window, for long audio and as the fallback."""
        segments, info = model.transcribe(
            samples,
            language=language,
            initial_prompt=prompt,
            beam_size=self._settings.stt_beam_size,
            vad_filter=False,  # voxhub has cut the utterance with its own VAD already
            condition_on_previous_text=False,  # keeps one misheard window from derailing the next
        )
        return list(segments), str(info.language)

    def _identify(self, samples: Any) -> str:
        """The language of `samples` by Whisper's language identification on the multilingual model; an
        English-only engine hears English (`auto` as a setting is refused at start-up there instead)."""
        if self._multilingual is None and self._find_multilingual is None:
            return "en"
        language, _probability, ranked = self._model_for(AUTO).detect_language(audio=samples)
        candidates = [language_code(code) for code in self._settings.stt_auto_languages]
        if candidates:
            language = next((code for code, _ in ranked if code in candidates), candidates[0])
        return str(language)

    def _model_for(self, language: str) -> WhisperModel:
        """Runs on a worker thread; the lock makes the lazy load of the multilingual model happen once."""
        if language == "en" and self._english is not None:
            return self._english
        with self._loading:
            if self._multilingual is None:
                if self._find_multilingual is None:
                    raise ModelError(
                        f"cannot transcribe {language!r}: {self._english_only_reason}",
                        details={"language": language},
                    )
                self._multilingual = load_model(self._find_multilingual(), self._settings)
            return self._multilingual


def _transcript(segments: list[Any], language: str, duration_ms: float) -> Transcript:
    return Transcript(
        text="".join(segment.text for segment in segments).strip(),
        language=language,
        duration_ms=duration_ms,
        segments=tuple(
            TranscriptSegment(
                segment.text.strip(), 1000.0 * segment.start, min(1000.0 * segment.end, duration_ms)
            )
            for segment in segments
            if segment.text.strip()
        ),
    )


def checked_model_directory(setting: str) -> Path:
    """The CTranslate2 model directory `stt_model` names (not sha-checked: the user chose it)."""
    directory = Path(setting).expanduser()
    missing = [name for name in ("model.bin", "tokenizer.json") if not (directory / name).is_file()]
    if missing:
        raise ConfigError(
            f"stt_model ({env_name('stt_model')}): {setting!r} is neither auto, tiny.en, base nor a CTranslate2 "
            f"Whisper model directory (missing {', '.join(missing)})",
            details={"setting": "stt_model", "value": setting},
        )
    return directory
