"""Language tags and the languages voxhub's speech models know."""

from __future__ import annotations

from faster_whisper.tokenizer import _LANGUAGE_CODES

from voxhub.language import WHISPER_LANGUAGES, first_language, is_auto, language_code, language_name


def test_whisper_languages_are_those_multilingual_whisper_transcribes() -> None:
    # large-v3 added Cantonese; the shipped base model predates it.
    assert set(WHISPER_LANGUAGES) == set(_LANGUAGE_CODES) - {"yue"}


def test_a_tag_gives_its_language_code() -> None:
    assert language_code("pl_PL") == "pl"
    assert language_code("en-US") == "en"


def test_auto_means_the_speech_decides() -> None:
    assert is_auto(" Auto ")
    assert not is_auto("en")
    assert not is_auto(None)


def test_a_language_is_named_in_english() -> None:
    assert language_name("pl-PL") == "Polish"
    assert language_name("xx") == "xx"


def test_the_first_named_language_wins_over_auto_and_none() -> None:
    assert first_language(None, "auto", "pl", "en") == "pl"
    assert first_language("auto", None) is None
