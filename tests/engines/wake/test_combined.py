"""The combined wake-word engine fires when either engine fires, so it hears voices each one alone misses.

espeak-ng's "Hey Jarvis" peaks at 0.1 on microWakeWord (cutoff 0.97) but at 0.99 on openWakeWord; hibari's
"Okay Nabu" is the other way round for microWakeWord (0.2) — both are in benchmarks/wake.py.
"""

from __future__ import annotations

import pytest

from tests.engines.wake.test_micro import listen
from tests.speech import espeak_speech, padded, piper_speech
from voxhub.config import Settings
from voxhub.engines.wake.combined import CombinedWake
from voxhub.engines.wake.micro import MicroWake


@pytest.fixture(scope="module")
def combined(session_settings: Settings) -> CombinedWake:
    return CombinedWake.from_settings(session_settings)


def test_espeaks_hey_jarvis_is_missed_by_micro_alone_and_heard_by_the_combined_engine(
    session_settings: Settings, combined: CombinedWake
) -> None:
    speech = padded(espeak_speech("Hey Jarvis."), before_ms=500, after_ms=1500)

    assert listen(MicroWake.from_settings(session_settings).create_stream(["hey_jarvis"]), speech) == []
    assert [found.wake_word for found in listen(combined.create_stream(["hey_jarvis"]), speech)] == [
        "hey_jarvis"
    ]


def test_a_word_heard_by_both_engines_fires_once(combined: CombinedWake) -> None:
    speech = padded(piper_speech("Okay Nabu."), before_ms=500, after_ms=1500)

    assert [found.wake_word for found in listen(combined.create_stream(), speech)] == ["okay_nabu"]


def test_its_scores_name_both_engines(combined: CombinedWake) -> None:
    stream = combined.create_stream(["okay_nabu"])
    listen(stream, padded(piper_speech("Okay Nabu."), before_ms=300, after_ms=1000))

    assert set(stream.peak_scores()) == {"micro:okay_nabu", "openwakeword:okay_nabu"}


def test_a_word_only_openwakeword_has_is_listened_for_by_it_alone(combined: CombinedWake) -> None:
    stream = combined.create_stream(["hey_rhasspy"])

    assert set(stream.peak_scores()) == {"openwakeword:hey_rhasspy"}
