"""With language `auto`, the answer follows the language heard: the reply source is told it, the sentence
is read for the ear in it, and a voice of that language speaks it (scripted engines, virtual clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast

from tests.pipeline.scripted import (
    Client,
    FakeStt,
    FakeTts,
    FakeVad,
    ScriptedReplies,
    WordCodes,
    run_virtual,
    silence,
)
from voxhub.agent.spoken import speakable
from voxhub.audio import PcmAudio
from voxhub.engines.llm.base import LlmEngine
from voxhub.engines.stt.base import Transcript
from voxhub.engines.tts.base import TtsCapabilities
from voxhub.pipeline.conversation import Conversation, ConversationEngines, ConversationOptions
from voxhub.pipeline.frames import ResponseFrame, TranscriptFrame
from voxhub.pipeline.listener import ListeningOptions
from voxhub.pipeline.memory import ConversationMemory
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.reply import ReplyOptions
from voxhub.pipeline.speaker import VoiceOptions


class PolishStt(FakeStt):
    """Hears the word-coded audio and calls it Polish, as Whisper's language identification would."""

    async def transcribe(
        self, audio: PcmAudio, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        heard = await super().transcribe(audio, language=language, prompt=prompt)
        return Transcript(heard.text, "pl", heard.duration_ms)


@dataclass
class RecordingTts(FakeTts):
    """A fake voice that notes what it was asked to say, in which voice and language."""

    languages: tuple[str, ...] = ("en",)
    said: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self.capabilities = TtsCapabilities("fake", 16000, self.languages, ("fake",), False)

    async def synthesize(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float | None = None
    ) -> AsyncIterator[PcmAudio]:
        self.said.append((text, voice, language))
        async for audio in super().synthesize(text, voice=voice, language=language, speed=speed):
            yield audio


async def _polish_turn(
    tts: RecordingTts, other: RecordingTts | None = None
) -> tuple[ScriptedReplies, Client]:
    codes, client = WordCodes(), Client()
    replies = ScriptedReplies({"włącz światło": "Jest 2,5 stopnia."})
    engines = ConversationEngines(
        vad=FakeVad(),
        stt=PolishStt(codes),
        tts=tts,
        llm=cast(LlmEngine, None),
        replies=replies,
        tts_other_languages=other,
    )
    options = ConversationOptions(
        reply=ReplyOptions(system_prompt="Be brief.", language="en"),
        listening=ListeningOptions(language="auto"),
        voice=VoiceOptions(
            voice="heart", language="en", speakable=lambda text, lang: speakable(text, lang or "en")
        ),
    )
    conversation = Conversation(
        engines, options, mode=ModeState(), memory=ConversationMemory([], client.commit), send=client.send
    )
    await conversation.start()
    audio = codes.speech("włącz światło") + silence(1000)
    for offset in range(0, len(audio), 640):
        await conversation.push_audio(audio[offset : offset + 640])
    await client.wait_for(lambda: bool(client.of(ResponseFrame)) and bool(tts.said or (other and other.said)))
    await conversation.close()
    return replies, client


def test_the_transcript_says_which_language_was_heard() -> None:
    async def main() -> None:
        _, client = await _polish_turn(RecordingTts(languages=("en", "pl")))
        [final] = [frame for frame in client.of(TranscriptFrame) if frame.is_final]
        assert final.language == "pl"

    run_virtual(main)


def test_the_reply_source_is_asked_for_an_answer_in_the_language_heard() -> None:
    async def main() -> None:
        replies, _ = await _polish_turn(RecordingTts(languages=("en", "pl")))
        assert [request.options.language for request in replies.requests] == ["pl"]

    run_virtual(main)


def test_the_answer_is_read_the_polish_way_in_a_polish_voice() -> None:
    async def main() -> None:
        tts = RecordingTts(languages=("en", "pl"))
        await _polish_turn(tts)
        # The session's English voice is not asked to speak Polish: the engine picks its Polish one.
        assert tts.said == [("Jest dwa przecinek pięć stopnia.", None, "pl")]

    run_virtual(main)


def test_an_english_only_voice_hands_the_answer_to_the_engine_that_speaks_the_language() -> None:
    async def main() -> None:
        english, any_language = RecordingTts(languages=("en",)), RecordingTts(languages=("en", "pl"))
        await _polish_turn(english, any_language)
        assert english.said == []
        assert any_language.said == [("Jest dwa przecinek pięć stopnia.", None, "pl")]

    run_virtual(main)
