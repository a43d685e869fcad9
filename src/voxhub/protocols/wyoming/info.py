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
    # An empty list means "any language Whisper knows"; clients need names, so give the configured one.
    stt_languages = list(stt.capabilities.languages) or [settings.stt_language]
    tts_languages = list(tts.capabilities.languages) or [settings.tts_language]
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
                        languages=tts_languages,
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
                        languages=[settings.stt_language],
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
                        languages=[settings.stt_language],
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
