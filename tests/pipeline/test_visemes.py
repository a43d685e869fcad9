"""Mouth shapes for the avatar: from espeak-ng's phonemes, or from the spelling, timed to the audio."""

from __future__ import annotations

import itertools

import pytest

from voxhub.config import Settings
from voxhub.engines.tts.espeak import EspeakTts
from voxhub.pipeline.visemes import (
    MIN_VISEME_MS,
    VISEMES,
    Viseme,
    letters_visemes,
    marked_visemes,
    phoneme_viseme,
    text_visemes,
)


@pytest.mark.parametrize(
    ("phoneme", "viseme"),
    [("p", "PP"), ("m", "PP"), ("f", "FF"), ("θ", "TH"), ("ʃ", "CH"), ("s", "SS"), ("ɹ", "RR"),
     ("ɑː", "aa"), ("iː", "ih"), ("oʊ", "oh"), ("uː", "ou"), ("", "sil"), ("_:", "sil")],
)  # fmt: skip
def test_an_ipa_phoneme_has_the_mouth_shape_that_says_it(phoneme: str, viseme: str) -> None:
    assert phoneme_viseme(phoneme) == viseme


def test_spelling_gives_one_shape_per_sound_digraphs_included() -> None:
    assert letters_visemes("Think") == ["TH", "ih", "nn", "kk"]
    assert letters_visemes("moon") == ["PP", "ou", "nn"]


def test_a_track_from_spelling_fills_the_audio_exactly_without_overlaps() -> None:
    track = text_visemes("Hello there, Paris!", 1200.0)

    assert track[0].start_ms == 0
    assert track[-1].start_ms + track[-1].duration_ms == pytest.approx(1200.0)
    for before, after in itertools.pairwise(track):
        assert after.start_ms == pytest.approx(before.start_ms + before.duration_ms)
        assert after.viseme != before.viseme  # equal neighbours are one shape
    assert {v.viseme for v in track} <= set(VISEMES)
    assert {"PP", "aa"} <= {v.viseme for v in track}  # "Paris"


def test_no_shape_is_shorter_than_a_mouth_can_show() -> None:
    track = text_visemes("Strengths and rhythms", 300.0)

    assert all(v.duration_ms >= MIN_VISEME_MS for v in track[1:])


def test_text_without_words_or_audio_has_no_track() -> None:
    assert text_visemes("…!?", 500.0) == []
    assert text_visemes("Hello", 0.0) == []


def test_phoneme_marks_each_last_until_the_next_one_and_the_last_until_the_audio_ends() -> None:
    track = marked_visemes([(0.0, ""), (100.0, "m"), (180.0, "ɑː"), (400.0, "p")], 500.0)

    assert track == [
        Viseme("sil", 0.0, 100.0),
        Viseme("PP", 100.0, 80.0),
        Viseme("aa", 180.0, 220.0),
        Viseme("PP", 400.0, 100.0),
    ]


async def test_espeak_phoneme_events_become_a_track_that_spans_its_audio(settings: Settings) -> None:
    tts = EspeakTts.from_settings(settings)
    (speech,) = [s async for s in tts.synthesize_marked("Good morning, Paris.")]
    phonemes = [(m.audio_ms, m.phoneme) for m in speech.marks if m.kind == "phoneme"]

    track = marked_visemes(phonemes, speech.audio.duration_ms)

    shapes = [v.viseme for v in track]
    assert "PP" in shapes  # the m of "morning" and the p of "Paris"
    assert {"oh", "aa"} & set(shapes)
    assert track[-1].start_ms + track[-1].duration_ms == pytest.approx(speech.audio.duration_ms)
