"""`describe` → `info`: the asr, tts, wake and handle programs, from the loaded engines' capabilities."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)

from voxhub import __version__
from voxhub.language import WHISPER_LANGUAGES, is_auto, language_code

if TYPE_CHECKING:
    from voxhub.api.state import ServerState

PROGRAM = "voxhub"
_ATTRIBUTION = Attribution(name="voxhub", url="")  # self-hosted: no home page to point at


async def describe(state: ServerState) -> Info:
    """What this server offers; languages and voices are what the configured engines support."""
    settings = state.settings
    stt = await state.engines.get("stt")
    tts = await state.engines.get("tts")
    wake = await state.engines.get("wake")
    llm = await state.engines.get("llm")
    # An empty list means "any language Whisper knows": Home Assistant picks an engine by the names listed.
    stt_languages = list(stt.capabilities.languages) or list(WHISPER_LANGUAGES)
    tts_languages = list(tts.capabilities.languages) or [settings.tts_language]
    heard = _spoken_default(settings.stt_language)
    return Info(
        asr=[
            AsrProgram(
                name=PROGRAM,
                description=f"voxhub speech to text ({stt.capabilities.model})",
                models=[
                    AsrModel(
                        name=stt.capabilities.model,
                        description=stt.capabilities.model,
                        languages=stt_languages,
                        attribution=_ATTRIBUTION,
                        installed=True,
                        version=__version__,
                    )
                ],
                supports_transcript_streaming=True,
                attribution=_ATTRIBUTION,
                installed=True,
                version=__version__,
            )
        ],
        tts=[
            TtsProgram(
                name=PROGRAM,
                description=f"voxhub text to speech ({tts.capabilities.model})",
                voices=[
                    TtsVoice(
                        name=voice,
                        description=voice,
                        languages=voice_languages(voice, tts_languages),
                        attribution=_ATTRIBUTION,
                        installed=True,
                        version=__version__,
                    )
                    for voice in tts.capabilities.voices
                ],
                supports_synthesize_streaming=True,
                attribution=_ATTRIBUTION,
                installed=True,
                version=__version__,
            )
        ],
        wake=[
            WakeProgram(
                name=PROGRAM,
                description=f"voxhub wake words ({wake.capabilities.model})",
                models=[
                    WakeModel(
                        name=word,
                        description=word.replace("_", " ").title(),
                        phrase=word.replace("_", " ").title(),
                        languages=[heard],
                        attribution=_ATTRIBUTION,
                        installed=True,
                        version=__version__,
                    )
                    for word in wake.capabilities.wake_words
                ],
                attribution=_ATTRIBUTION,
                installed=True,
                version=__version__,
            )
        ],
        handle=[
            HandleProgram(
                name=PROGRAM,
                description=f"voxhub conversation ({llm.capabilities.model})",
                models=[
                    HandleModel(
                        name=llm.capabilities.model,
                        description=llm.capabilities.model,
                        # It answers in the language it hears: every one its STT knows.
                        languages=stt_languages,
                        attribution=_ATTRIBUTION,
                        installed=True,
                        version=__version__,
                    )
                ],
                attribution=_ATTRIBUTION,
                installed=True,
                version=__version__,
            )
        ],
    )


def voice_languages(voice: str, languages: list[str]) -> list[str]:
    """The languages one voice speaks: an engine of one language speaks it in every voice; espeak-ng's voices
    are named by their language tags ("pl", "en-us"), so each speaks its own; otherwise all of them."""
    if len(languages) <= 1:
        return languages
    if voice in languages:
        return [voice]
    return languages


def _spoken_default(language: str) -> str:
    """The configured language of speech; `auto` (any) lists as English, the wake words' language."""
    return "en" if is_auto(language) else language_code(language)
