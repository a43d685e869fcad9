"""End of turn at a pause, on scripted engines and a virtual clock (see `scripted.py`).

The scripted turn engine scores the words it is given from a script; each word of speech is 300 ms.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tests.pipeline.scripted import Scene, run_virtual, scene
from voxhub.engines.turn.base import TurnCapabilities, TurnQuery
from voxhub.engines.turn.combined import CombinedTurn
from voxhub.errors import EngineError
from voxhub.pipeline.frames import ErrorFrame, ResponseFrame, SpeechStoppedFrame, TranscriptFrame


@dataclass
class ScriptedTurn:
    """Text → probability that the turn is complete (unknown text: no opinion); a verdict takes `ms`."""

    script: dict[str, float] = field(default_factory=dict)
    ms: float = 30.0
    fail: bool = False
    reads_text: bool = True
    asked: list[str] = field(default_factory=list)
    name: str = "scripted"

    @property
    def capabilities(self) -> TurnCapabilities:
        return TurnCapabilities("scripted", reads_text=self.reads_text, reads_audio=not self.reads_text)

    @classmethod
    def from_settings(cls, settings: object) -> ScriptedTurn:
        return cls()

    async def warm_up(self) -> None:
        pass

    async def complete(self, query: TurnQuery) -> float | None:
        self.asked.append(query.text)
        await asyncio.sleep(self.ms / 1000)
        if self.fail:
            raise EngineError("the scripted turn engine broke")
        return self.script.get(query.text) if self.reads_text else 0.9

    async def aclose(self) -> None:
        pass


def finals(s: Scene) -> list[str]:
    return [f.text for f in s.client.of(TranscriptFrame) if f.is_final]


def stopped_after_ms(s: Scene) -> float:
    """Silence heard between the end of speech and the endpoint, as the client was told."""
    [stopped] = s.client.of(SpeechStoppedFrame)
    return float(stopped.detected_after_ms)


async def cut_sentence(s: Scene) -> None:
    await s.say("what is the tallest mountain in the", then_silence_ms=600)
    await s.say("world", then_silence_ms=1500)
    await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))


def test_under_the_default_engine_a_pause_shorter_than_the_silence_window_does_not_end_the_turn() -> None:
    async def main() -> None:
        s = await scene()
        await s.say("turn on the", then_silence_ms=400)
        await s.say("kitchen light", then_silence_ms=1000)
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        assert finals(s) == ["turn on the kitchen light"]
        assert len(s.client.of(ResponseFrame)) == 1
        await s.conversation.close()

    run_virtual(main)


def test_under_the_default_engine_the_silence_window_ends_the_turn_whatever_was_said() -> None:
    async def main() -> None:
        s = await scene()
        await s.say("turn on the kitchen light", then_silence_ms=1000)
        await s.client.wait_for(lambda: bool(finals(s)))
        assert 500 <= stopped_after_ms(s) < 550  # vad_stop_secs, 0.5 s, in 32 ms frames
        await s.conversation.close()

    run_virtual(main)


def test_an_incomplete_sentence_with_a_600_ms_pause_is_not_answered_under_text() -> None:
    async def main() -> None:
        turn = ScriptedTurn({"what is the tallest mountain in the": 0.001})
        s = await scene(turn=turn)
        await cut_sentence(s)
        assert finals(s) == ["what is the tallest mountain in the world"]
        assert len(s.client.of(ResponseFrame)) == 1
        assert turn.asked[0] == "what is the tallest mountain in the"
        await s.conversation.close()

    run_virtual(main)


def test_a_complete_sentence_ends_after_a_short_silence_under_text() -> None:
    async def main() -> None:
        s = await scene(turn=ScriptedTurn({"turn on the kitchen light": 0.9}))
        await s.say("turn on the kitchen light", then_silence_ms=1000)
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        assert finals(s) == ["turn on the kitchen light"]
        assert stopped_after_ms(s) < 300  # 250 ms, not the 500 ms window
        await s.conversation.close()

    run_virtual(main)


def test_an_unsure_verdict_leaves_the_silence_window_to_decide() -> None:
    async def main() -> None:
        s = await scene(turn=ScriptedTurn({"tell me a joke": 0.1}))
        await s.say("tell me a joke", then_silence_ms=1000)
        await s.client.wait_for(lambda: bool(finals(s)))
        assert 500 <= stopped_after_ms(s) < 550
        await s.conversation.close()

    run_virtual(main)


def test_a_complete_sentence_ends_early_under_combined_only_when_both_engines_agree() -> None:
    async def main() -> None:
        words = ScriptedTurn({"turn on the kitchen light": 0.9})
        voice = ScriptedTurn(reads_text=False)
        s = await scene(turn=CombinedTurn((words, voice)))
        await s.say("turn on the kitchen light", then_silence_ms=1000)
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        assert stopped_after_ms(s) < 300
        await s.conversation.close()

    run_virtual(main)


def test_under_combined_an_incomplete_sentence_waits_even_if_the_voice_sounds_done() -> None:
    async def main() -> None:
        words = ScriptedTurn({"what is the tallest mountain in the": 0.001})
        s = await scene(turn=CombinedTurn((words, ScriptedTurn(reads_text=False))))
        await cut_sentence(s)
        assert finals(s) == ["what is the tallest mountain in the world"]
        await s.conversation.close()

    run_virtual(main)


def test_a_failing_turn_engine_falls_back_to_the_silence_window_with_an_error_frame() -> None:
    async def main() -> None:
        s = await scene(turn=ScriptedTurn(fail=True))
        await s.say("turn on the kitchen light", then_silence_ms=1000)
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        [error] = s.client.of(ErrorFrame)
        assert error.error == "turn_error"
        assert finals(s) == ["turn on the kitchen light"]
        assert 500 <= stopped_after_ms(s) < 550
        await s.conversation.close()

    run_virtual(main)


def test_the_turn_record_keeps_what_ended_the_turn() -> None:
    async def main() -> None:
        s = await scene(turn=ScriptedTurn({"turn on the kitchen light": 0.9}))
        await s.say("turn on the kitchen light", then_silence_ms=1000)
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        [transcript] = [f for f in s.client.of(TranscriptFrame) if f.is_final]
        turn = s.conversation.turns.get(transcript.turn_id)
        assert turn is not None
        endpoint = turn.endpoint
        assert (endpoint.engine, endpoint.verdict, endpoint.failed) == ("scripted", 0.9, False)
        assert endpoint.silence_needed_ms == 250.0
        assert 250 <= endpoint.paused_ms < 300
        await s.conversation.close()

    run_virtual(main)


def test_a_verdict_that_comes_after_the_silence_window_changes_nothing() -> None:
    async def main() -> None:
        s = await scene(turn=ScriptedTurn({"turn on the": 0.001}, ms=800))
        await s.say("turn on the", then_silence_ms=1000)
        await s.client.wait_for(lambda: bool(finals(s)))
        assert 500 <= stopped_after_ms(s) < 550
        await s.conversation.close()

    run_virtual(main)


def test_under_combined_a_cut_phrase_the_words_score_zero_waits_even_if_the_voice_sounds_done() -> None:
    async def main() -> None:
        words = ScriptedTurn({"what is the tallest mountain in the": 0})  # an int, as a sum of nothing is
        s = await scene(turn=CombinedTurn((words, ScriptedTurn(reads_text=False))))
        await cut_sentence(s)
        assert finals(s) == ["what is the tallest mountain in the world"]
        await s.conversation.close()

    run_virtual(main)
