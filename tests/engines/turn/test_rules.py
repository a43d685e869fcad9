"""How much silence ends a turn, given an end-of-turn verdict; and which engines exist."""

from __future__ import annotations

import asyncio

import pytest

from voxhub.config import Settings
from voxhub.engines.turn.base import COMPLETE_MS, INCOMPLETE_MS, longest_wait_ms, silence_needed_ms
from voxhub.engines.turn.loader import load_turn_engine
from voxhub.engines.turn.silence import SilenceTurn
from voxhub.engines.turn.text import end_probability
from voxhub.errors import UnknownEngineError


def test_a_complete_looking_turn_ends_after_a_short_silence() -> None:
    assert silence_needed_ms(0.9, 500.0) == COMPLETE_MS


def test_a_cut_off_turn_waits_longer_than_the_silence_window() -> None:
    assert silence_needed_ms(0.001, 500.0) == INCOMPLETE_MS


def test_no_opinion_or_an_unsure_one_leaves_the_silence_window() -> None:
    assert silence_needed_ms(None, 500.0) == 500.0
    assert silence_needed_ms(0.2, 500.0) == 500.0


def test_the_silence_engine_never_makes_the_vad_wait_longer() -> None:
    assert longest_wait_ms(SilenceTurn(), 500.0) == 500.0


def test_an_unknown_turn_engine_names_the_choices() -> None:
    with pytest.raises(UnknownEngineError, match=r"turn_engine.*silence, text, smart-turn, combined"):
        asyncio.run(load_turn_engine("psychic", Settings()))


def test_the_end_probability_sums_the_tokens_that_end_a_message() -> None:
    completion = {
        "completion_probabilities": [
            {
                "top_logprobs": [
                    {"token": "?", "logprob": -0.5},
                    {"token": " and", "logprob": -1.0},
                    {"token": "<|im_end|>", "logprob": -2.0},
                    {"token": ".\n", "logprob": -3.0},
                ]
            }
        ]
    }
    assert end_probability(completion) == pytest.approx(0.6065 + 0.1353 + 0.0498, abs=1e-3)


def test_no_ending_token_among_the_top_ones_is_a_probability_of_zero() -> None:
    completion = {"completion_probabilities": [{"top_logprobs": [{"token": " world", "logprob": -0.1}]}]}
    verdict = end_probability(completion)
    assert isinstance(verdict, float)
    assert verdict == 0.0
