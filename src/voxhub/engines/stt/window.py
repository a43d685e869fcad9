"""Whisper on a short window: a short utterance is encoded padded to 10 s instead of 30 s, with guards.

CTranslate2's `Whisper.generate` accepts features padded to fewer than 3000 mel frames; the encoder's cost
falls with the window. A short window has two known failure modes, both guarded here:
- the decoder loops ("and eggs and eggs and eggs…"): caught by a compression ratio or a repeated n-gram;
- the decoder runs on past the audio: decoding is capped at `TOKENS_PER_SEC` tokens per second of audio;
- the decoder stops after the first word: fewer than `MIN_TOKENS_PER_SEC` tokens per second of audio.
Each one sends the utterance back to the full 30 s window, where none was seen.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens

FULL_FRAMES = 3000  # Whisper's own window: 30 s of 10 ms mel frames
FRAMES_PER_SEC = 100
TOKENS_PER_SEC = 12.0  # 6/s cut the end off an 8 s sentence; >= 10/s is safe
MIN_TOKENS = 16
MIN_TOKENS_PER_SEC = 1.0  # base on 10 s heard a clear 1.5 s "Turned on the light" as "Turn"
COMPRESSION_LIMIT = 2.4  # faster-whisper's own threshold for a too repetitive decode
REPEATS = 3  # a run of up to MAX_NGRAM words said this many times in a row is a loop
MAX_NGRAM = 4
PHRASE = 4  # ... and so is any run of this many words said twice (the whole sentence over again)
NO_SPEECH_PROB = 0.6  # faster-whisper's rule for "this window has no speech"
NO_SPEECH_LOGPROB = -1.0
TIMESTAMP_TOKENS = 8  # room for the timestamp pairs of a few segments on top of the text cap


@dataclass(frozen=True, slots=True)
class Decoded:
    """One decoder run: its text, and whether it stopped at the token cap instead of on its own."""

    text: str
    capped: bool = False
    cut_short: bool = False  # ended after fewer than MIN_TOKENS_PER_SEC: the window's other failure


def token_cap(duration_s: float) -> int:
    """How many tokens a decode of `duration_s` of audio may produce before it is called runaway."""
    return max(MIN_TOKENS, math.ceil(TOKENS_PER_SEC * duration_s))


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def repeats_itself(text: str) -> bool:
    """True if some run of 1 to MAX_NGRAM words comes REPEATS times in a row ("and eggs and eggs and eggs"),
    or some run of PHRASE words comes twice ("switch off the heating … switch off the heating")."""
    words = [word.strip(".,!?;:\"'").lower() for word in text.split()]
    phrases = [tuple(words[start : start + PHRASE]) for start in range(len(words) - PHRASE + 1)]
    if len(set(phrases)) < len(phrases):
        return True
    for n in range(1, MAX_NGRAM + 1):
        for start in range(len(words) - n * REPEATS + 1):
            gram = words[start : start + n]
            if all(words[start + k * n : start + (k + 1) * n] == gram for k in range(1, REPEATS)):
                return True
    return False


def looks_looped(text: str) -> bool:
    return compression_ratio(text) > COMPRESSION_LIMIT or repeats_itself(text)


def fits_window(sample_count: int, window_frames: int) -> bool:
    """True if audio of `sample_count` 16 kHz samples fits a window of `window_frames` mel frames."""
    return window_frames < FULL_FRAMES and sample_count // 160 + 1 <= window_frames


def guarded(first: Decoded, full: Callable[[], str]) -> str:
    """The windowed decode's text, or the full window's when the windowed one looped, hit its cap, or was
    cut short."""
    if first.capped or first.cut_short or looks_looped(first.text):
        return full()
    return first.text


@dataclass(frozen=True, slots=True)
class WindowRequest:
    """One utterance of a windowed batch: 16 kHz float32 samples that fit the window."""

    samples: np.ndarray
    language: str
    prompt: str | None = None


def decode_windowed(
    model: WhisperModel,
    samples: np.ndarray,
    *,
    window_frames: int,
    language: str,
    prompt: str | None,
    beam_size: int,
) -> Decoded:
    """One greedy or beam decode of `samples` (16 kHz float32, fitting the window)."""
    request = WindowRequest(samples, language, prompt)
    return decode_windowed_batch(model, [request], window_frames=window_frames, beam_size=beam_size)[0]


def decode_windowed_batch(
    model: WhisperModel, requests: list[WindowRequest], *, window_frames: int, beam_size: int
) -> list[Decoded]:
    """Decode several utterances in one encoder pass and one `generate` call (CTranslate2 batches them).

    The decoder runs with timestamp tokens, as faster-whisper's own path does: told `<|notimestamps|>`,
    tiny.en made twice the word errors on the espeak set, on the 30 s window as on the 10 s one (see
    docs/benchmarks.md). Only the text tokens are kept.
    """
    features = np.stack([pad_or_trim(model.feature_extractor(r.samples), window_frames) for r in requests])
    encoded = model.encode(features)
    tokenizers = [
        Tokenizer(
            model.hf_tokenizer,
            model.model.is_multilingual,
            task="transcribe",
            language=request.language if model.model.is_multilingual else "en",
        )
        for request in requests
    ]
    prefixes: list[list[int]] = [
        model.get_prompt(
            tokenizer,
            tokenizer.encode(" " + request.prompt.strip()) if request.prompt else [],
            without_timestamps=False,
        )
        for tokenizer, request in zip(tokenizers, requests, strict=True)
    ]
    caps = [token_cap(len(request.samples) / 16000) for request in requests]
    longest = max(len(prefix) + cap for prefix, cap in zip(prefixes, caps, strict=True))
    results: Any = model.model.generate(
        encoded,
        prefixes,
        beam_size=beam_size,
        max_length=min(longest + TIMESTAMP_TOKENS, model.max_length),
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizers[0], [-1]),
    )
    return [
        _decoded(result, tokenizer, request, cap)
        for result, tokenizer, request, cap in zip(results, tokenizers, requests, caps, strict=True)
    ]


def _decoded(result: Any, tokenizer: Tokenizer, request: WindowRequest, cap: int) -> Decoded:
    tokens: list[int] = result.sequences_ids[0]
    average_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
    if result.no_speech_prob > NO_SPEECH_PROB and average_logprob < NO_SPEECH_LOGPROB:
        return Decoded("")
    words = [token for token in tokens if token < tokenizer.eot]  # no timestamps, no end of text
    text = str(tokenizer.decode(words)).strip()
    if not any(character.isalnum() for character in text):
        return Decoded("")  # a lone "." on silence, as the full path would drop it
    duration_s = len(request.samples) / 16000
    return Decoded(text, capped=len(words) >= cap, cut_short=len(words) < MIN_TOKENS_PER_SEC * duration_s)
