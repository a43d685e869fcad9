"""The speech engines: voice activity detection, wake words, speech to text and text to speech."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from pydantic_settings import NoDecode

from voxhub.settings.common import seed_alias


class VadFields(BaseModel):
    """Voice activity detection: which engine, and what counts as an utterance."""

    vad_engine: str = Field("silero", description="VAD engine: `silero`, `webrtc` or `combined`.")
    vad_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Silero speech probability that counts as speech."
    )
    vad_webrtc_aggressiveness: int = Field(
        2, ge=0, le=3, description="WebRTC VAD aggressiveness, 0 (lenient) to 3."
    )
    vad_combined_rule: Literal["and", "or"] = Field(
        "and", description="`combined` VAD: speech when both engines agree (`and`) or either says so (`or`)."
    )
    vad_start_secs: float = Field(
        0.2,
        ge=0.0,
        le=5.0,
        validation_alias=seed_alias("vad_start_secs"),
        description="Speech needed before a segment starts (plain `VAD_START_SECS` works too).",
    )
    vad_stop_secs: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        validation_alias=seed_alias("vad_stop_secs"),
        description="Silence that ends an utterance (plain `VAD_STOP_SECS` works too).",
    )
    vad_min_speech_secs: float = Field(
        0.25, ge=0.0, le=10.0, description="Shorter segments are dropped as noise."
    )
    vad_max_utterance_secs: float = Field(30.0, gt=0.0, le=600.0, description="Longer segments are cut here.")
    turn_engine: Literal["silence", "text", "smart-turn", "combined"] = Field(
        "silence",
        description="What ends a turn at a pause: `silence` (the `vad_stop_secs` window), `text` (the local "
        "LLM's guess that the words are complete), `smart-turn` (an audio model) or `combined` (both); a "
        "complete-looking turn ends after 250 ms of silence, a cut-off one waits 1.2 s (docs/pipeline.md).",
    )


class WakeFields(BaseModel):
    """Wake-word detection."""

    wake_engine: str = Field(
        "micro",
        description="Wake-word engine: `micro` (microWakeWord), `openwakeword`, `combined` (both; see "
        "docs/pipeline.md for its rule), or `wyoming` (a remote server).",
    )
    wake_words: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["okay_nabu", "hey_jarvis"],
        description="Wake words to listen for: `okay_nabu`, `hey_jarvis`, `hey_mycroft`, `alexa`.",
    )
    wake_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Detection probability; empty uses each model's own cutoff."
    )
    wake_custom_models: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra wake-word model files (comma-separated paths): `name.tflite` with a "
        "microWakeWord `name.json` beside it, or an openWakeWord `name.tflite`/`name.onnx`; the word is "
        "called `name`.",
    )


class SttFields(BaseModel):
    """Speech to text."""

    stt_engine: str = Field(
        "whisper", description="STT engine: `whisper`, `openai`, or `wyoming` (a remote server)."
    )
    stt_model: str = Field(
        "auto",
        description="Whisper model: `auto` (tiny.en for English, base otherwise), `tiny.en`, `base`, "
        "or a CTranslate2 model directory.",
    )
    stt_language: str = Field(
        "en",
        description="Default language of speech (ISO 639-1), or `auto`: Whisper identifies it on the "
        "multilingual model (`voxhub[pl]`), and the answer follows the language heard. With an English-only "
        "model `auto` is refused at start-up.",
    )
    stt_auto_languages: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="With language `auto`: the languages it may be (e.g. `en,pl`), the likeliest of these "
        "wins; empty: any language Whisper knows.",
    )
    stt_threads: int = Field(2, ge=1, le=64, description="CPU threads for Whisper.")
    stt_beam_size: int = Field(1, ge=1, le=10, description="Whisper beam size; 1 is greedy and fastest.")
    stt_workers: int = Field(
        0,
        ge=0,
        le=16,
        description="Whisper decodes at a time, shared by all sessions (finals first); 0: the cores divided "
        "by `stt_threads`.",
    )
    stt_batch: int = Field(
        1,
        ge=1,
        le=32,
        description="Most utterances Whisper decodes in one pass when several sessions wait at once (finals "
        "with finals, partials with partials). 1, one at a time, is the default: on 2 CPU cores a batch costs "
        "the same CPU and makes every final wait for the whole batch (docs/benchmarks.md).",
    )
    stt_window_secs: float = Field(
        30.0,
        ge=10.0,
        le=30.0,
        description="Whisper's audio window: an utterance that fits is decoded padded to this many seconds, "
        "longer ones on the full 30 s; a windowed decode that loops, runs on or stops short is redone on 30 s. "
        "10 is 5-11x faster at the same WER on our set, but hears 'France' as 'friends' (docs/benchmarks.md).",
    )


class TtsFields(BaseModel):
    """Text to speech."""

    tts_engine: str = Field(
        "hibari",
        description="TTS engine: `hibari`, `piper`, `espeak`, `openai`, or `wyoming` (a remote server).",
    )
    tts_voice: str | None = Field(None, description="Voice name; empty uses the engine's default voice.")
    tts_language: str = Field("en", description="Default language of synthesized speech.")
    tts_speed: float = Field(1.0, gt=0.25, le=4.0, description="Speaking rate, 1.0 is normal.")
    tts_piper_model: Path | None = Field(
        None, description="Piper voice `.onnx` file (its `.onnx.json` beside it)."
    )
