"""What every voice is given: sayable text, in pieces no longer than a sentence."""

from __future__ import annotations

from voxhub.engines.tts.base import spoken_pieces


def test_sentences_are_pieces_of_their_own() -> None:
    assert spoken_pieces("Good morning. The coffee is ready!") == ["Good morning.", "The coffee is ready!"]


def test_a_long_sentence_is_cut_at_its_clauses_then_between_words() -> None:
    sentence = "one two three, " * 30 + "end."

    pieces = spoken_pieces(sentence, max_chars=40)

    assert all(len(piece) <= 40 for piece in pieces)
    assert " ".join(pieces) == sentence.strip()
    assert pieces[0] == "one two three,"


def test_a_word_longer_than_a_piece_is_cut_too() -> None:
    assert spoken_pieces("a " + "x" * 25 + " b", max_chars=10) == ["a", "x" * 10, "x" * 10, "x" * 5 + " b"]
