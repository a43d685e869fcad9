"""Whisper on a 10 s window: the guards that send a looping or runaway decode back to the full window."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.speech import espeak_speech, padded, word_error_rate
from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.stt.base import SttRequest
from voxhub.engines.stt.whisper import WhisperStt
from voxhub.engines.stt.window import Decoded, fits_window, guarded, looks_looped, token_cap
from voxhub.errors import AudioError


def scripted(windowed_text: str, *, capped: bool = False, cut_short: bool = False) -> tuple[list[str], str]:
    """Run `guarded` with a stand-in for the decoder (the test scripts what Whisper would have said)."""
    calls: list[str] = []

    def windowed() -> Decoded:
        calls.append("10 s")
        return Decoded(windowed_text, capped=capped, cut_short=cut_short)

    def full() -> str:
        calls.append("30 s")
        return "And milk, eggs and bread."

    return calls, guarded(windowed(), full)


def test_a_windowed_decode_that_loops_is_redone_on_the_full_window() -> None:
    calls, text = scripted("And milk eggs and eggs and eggs and eggs and eggs.")

    assert calls == ["10 s", "30 s"]
    assert text == "And milk, eggs and bread."


def test_a_windowed_decode_that_hits_the_token_cap_is_redone_on_the_full_window() -> None:
    calls, text = scripted("Turn on the lights in the", capped=True)

    assert calls == ["10 s", "30 s"]
    assert text == "And milk, eggs and bread."


def test_a_windowed_decode_cut_short_is_redone_on_the_full_window() -> None:
    calls, text = scripted("Turn", cut_short=True)

    assert calls == ["10 s", "30 s"]
    assert text == "And milk, eggs and bread."


def test_a_clean_windowed_decode_is_kept() -> None:
    calls, text = scripted("Turn on the lights in the living room.")

    assert calls == ["10 s"]
    assert text == "Turn on the lights in the living room."


@pytest.mark.parametrize(
    "text",
    [
        "Thank you. Thank you. Thank you. Thank you.",
        "no no no no",
        "Switch off the heating when everybody has left. Switch off the heating when",
    ],
)
def test_repetition_is_seen_as_a_loop(text: str) -> None:
    assert looks_looped(text)


def test_an_ordinary_sentence_is_not_a_loop() -> None:
    assert not looks_looped("What is the tallest mountain in the world, and how high is it?")


def test_the_token_cap_allows_at_least_ten_tokens_per_second() -> None:
    assert token_cap(8.0) >= 80
    assert token_cap(0.5) >= 10


def test_only_audio_shorter_than_the_window_uses_it() -> None:
    assert fits_window(9 * 16000, 1000)
    assert not fits_window(11 * 16000, 1000)
    assert not fits_window(5 * 16000, 3000)  # a 30 s window is the full path


@pytest.fixture(scope="module")
async def windowed_stt(session_settings: Settings) -> AsyncIterator[WhisperStt]:
    """Whisper (tiny.en) on the 10 s window."""
    engine = WhisperStt.from_settings(session_settings.model_copy(update={"stt_window_secs": 10.0}))
    await engine.warm_up()
    yield engine
    await engine.aclose()


async def test_speech_is_decoded_on_the_10_s_window(windowed_stt: WhisperStt) -> None:
    sentence = "What is the tallest mountain in the world?"
    speech = padded(espeak_speech(sentence), before_ms=200, after_ms=200)

    transcript = await windowed_stt.transcribe(speech)

    assert word_error_rate(sentence, transcript.text) <= 0.2, transcript.text


async def test_speech_longer_than_the_window_is_transcribed_in_full(windowed_stt: WhisperStt) -> None:
    sentence = (
        "Please add milk, eggs and bread to the shopping list, then turn on the kitchen light, "
        "close the blinds in the living room and tell me what the weather is like this afternoon."
    )
    speech = espeak_speech(sentence, words_per_minute=120)
    assert speech.duration_ms > 11000

    transcript = await windowed_stt.transcribe(speech)

    assert word_error_rate(sentence, transcript.text) <= 0.25, transcript.text


async def test_silence_on_the_window_is_heard_as_nothing(windowed_stt: WhisperStt) -> None:
    transcript = await windowed_stt.transcribe(PcmAudio.silence(2000, 16000))

    assert transcript.text == ""


async def test_utterances_decoded_in_one_batch_each_get_their_own_transcript(
    windowed_stt: WhisperStt,
) -> None:
    sentences = ("Turn on the lights in the living room.", "What is the weather like this afternoon?")
    speech = [SttRequest(padded(espeak_speech(text), before_ms=200, after_ms=200)) for text in sentences]

    transcripts = await windowed_stt.transcribe_batch(
        [speech[0], speech[1], SttRequest(PcmAudio(b"", 16000))]
    )

    assert [
        word_error_rate(text, t.text) <= 0.2 for text, t in zip(sentences, transcripts[:2], strict=True)
    ] == [
        True,
        True,
    ], transcripts
    assert isinstance(transcripts[2], AudioError)


def test_the_window_is_the_full_one_unless_chosen() -> None:
    assert Settings().stt_window_secs == 30.0
