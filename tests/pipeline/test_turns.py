"""The turn ledger, stage by stage, on scripted engines and a virtual clock (see `scripted.py`).

Each test narrates a timeline in virtual milliseconds; none depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio

from tests.pipeline.scripted import Client, ScriptedReplies, now_ms, run_virtual, scene
from voxhub.errors import VoxhubError
from voxhub.pipeline.frames import (
    AudioOutFrame,
    ErrorFrame,
    InterruptFrame,
    ResponseFrame,
    SpeechStartedFrame,
    TranscriptFrame,
)
from voxhub.pipeline.memory import CompletedTurn
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.turns import OPEN_TURNS, RECENT_TURNS, heard_words

LONG = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen."


def test_a_typed_turn_is_answered_spoken_and_committed_once() -> None:
    async def main() -> None:
        s = await scene(ScriptedReplies({"Hi": "Hello there."}))
        await s.conversation.push_text("Hi")
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        [response] = s.client.of(ResponseFrame)
        assert response.text == "Hello there."
        assert s.client.words_sent(response.turn_id) == "Hello there."
        [commit] = s.client.commits
        assert (commit.user_text, commit.assistant_text, commit.interrupted) == ("Hi", "Hello there.", False)
        await s.conversation.close()

    run_virtual(main)


def test_a_barge_in_overtakes_the_queued_audio_and_history_keeps_exactly_the_words_sent() -> None:
    async def main() -> None:
        s = await scene(ScriptedReplies({"Count": LONG}))
        await s.conversation.push_text("Count")
        # The whole answer is synthesized at once (3.2 s of audio), but goes out paced to real time.
        await s.client.wait_for(lambda: len(s.client.of(AudioOutFrame)) >= 25)  # 1 s of audio sent
        await s.say("stop", then_silence_ms=600)
        await s.client.wait_for(lambda: bool(s.client.of(InterruptFrame)))
        [interrupt] = s.client.of(InterruptFrame)
        [started_at] = s.client.at(SpeechStartedFrame)
        [interrupted_at] = s.client.at(InterruptFrame)
        assert interrupted_at - started_at < 5  # not behind the ~2 s of audio still queued
        turn_id = interrupt.turn_id
        after = [at for at, f in s.client.frames if isinstance(f, AudioOutFrame) and f.turn_id == turn_id]
        assert max(after) <= interrupted_at  # no audio of the stopped answer after the interrupt
        await s.client.wait_for(lambda: len(s.client.commits) == 2)
        first = s.client.commits[0]
        assert first.interrupted
        assert first.assistant_text == s.client.words_sent(turn_id)
        assert 0 < len(first.assistant_text.split()) < len(LONG.split())
        await s.conversation.close()

    run_virtual(main)


def test_audio_pauses_at_a_speech_onset_before_the_interrupt_is_certain() -> None:
    async def main() -> None:
        s = await scene(ScriptedReplies({"Count": LONG}))
        await s.conversation.push_text("Count")
        await s.client.wait_for(lambda: len(s.client.of(AudioOutFrame)) >= 25)
        await s.pause(500)  # the microphone streams quiet while the user listens
        onset_at = now_ms()
        await s.say("stop", then_silence_ms=600)
        [started_at] = s.client.at(SpeechStartedFrame)
        # Between the first speech frame and the VAD's confirmation (200 ms), at most the lead went out.
        sent_meanwhile = [
            at
            for at, f in s.client.frames
            if isinstance(f, AudioOutFrame) and onset_at + 40 < at < started_at
        ]
        assert sent_meanwhile == []
        await s.conversation.close()

    run_virtual(main)


def test_an_answer_started_during_a_pause_leaves_no_trace_when_the_user_goes_on() -> None:
    async def main() -> None:
        replies = ScriptedReplies({"what is": "A guess.", "what is the time": "Noon."})
        s = await scene(replies)
        # A 300 ms pause: the speculative decode starts and the answer begins, held back.
        await s.say("what is", then_silence_ms=300)
        await s.say("the time")
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        assert [r.user_text for r in replies.requests] == ["what is", "what is the time"]
        assert [r.text for r in s.client.of(ResponseFrame)] == ["Noon."]
        assert s.client.of(InterruptFrame) == []
        assert "guess" not in " ".join(f.spoken_text for f in s.client.of(AudioOutFrame))
        assert [(c.user_text, c.assistant_text) for c in s.client.commits] == [("what is the time", "Noon.")]
        assert [m.content for m in s.conversation.memory.messages] == ["what is the time", "Noon."]
        await s.conversation.close()

    run_virtual(main)


def test_every_turn_ends_with_exactly_one_response_or_interrupted() -> None:
    async def main() -> None:
        s = await scene(ScriptedReplies({"Count": LONG}, default="Sure thing."))
        for text in ("Count", "Hi", "Count", "Hello"):
            await s.conversation.push_text(text)
            await asyncio.sleep(0.5)
        await s.client.wait_for(lambda: len(s.client.commits) == 4)
        await s.client.wait_for(
            lambda: len(s.client.of(ResponseFrame)) + len(s.client.of(InterruptFrame)) >= 4
        )
        ends = [f.turn_id for f in (*s.client.of(ResponseFrame), *s.client.of(InterruptFrame))]
        assert sorted(ends) == sorted(c.turn_id for c in s.client.commits)
        assert [c.interrupted for c in s.client.commits] == [True, False, True, False]
        await s.conversation.close()

    run_virtual(main)


def test_the_next_answer_waits_for_the_previous_turn_to_reach_history() -> None:
    async def main() -> None:
        store = asyncio.Event()

        async def slow_store(turn: CompletedTurn) -> None:
            await store.wait()

        replies = ScriptedReplies({"Hi": "Hello."})
        s = await scene(replies, client=Client(commit_hook=slow_store), mode=ModeState(voice_output=False))
        await s.conversation.push_text("Hi")
        await asyncio.sleep(1.0)
        await s.conversation.push_text("Again")
        await asyncio.sleep(1.0)
        assert len(replies.requests) == 1  # held while the store is still writing the first turn
        store.set()
        await s.client.wait_for(lambda: len(replies.requests) == 2)
        assert [m.content for m in replies.requests[1].messages[1:]] == ["Hi", "Hello.", "Again"]
        await s.conversation.close()

    run_virtual(main)


def test_a_failing_history_store_is_reported_and_the_turn_still_gets_its_response() -> None:
    async def main() -> None:
        async def broken_store(turn: CompletedTurn) -> None:
            raise VoxhubError("the store is down")

        s = await scene(client=Client(commit_hook=broken_store), mode=ModeState(voice_output=False))
        await s.conversation.push_text("Hi")
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        [error] = s.client.of(ErrorFrame)
        assert error.turn_id == s.client.of(ResponseFrame)[0].turn_id
        await s.conversation.push_text("Still there?")
        await s.client.wait_for(lambda: len(s.client.of(ResponseFrame)) == 2)
        await s.conversation.close()

    run_virtual(main)


def test_a_stage_that_raises_sends_an_error_and_ends_the_turn_with_a_response() -> None:
    async def main() -> None:
        s = await scene(ScriptedReplies({"Count": LONG}))
        speak = s.conversation.speaker._speak

        async def broken_speak(*args: object) -> None:
            raise RuntimeError("a TTS bug")

        s.conversation.speaker._speak = broken_speak  # type: ignore[method-assign]
        await s.conversation.push_text("Count")
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        assert {e.error for e in s.client.of(ErrorFrame)} == {"tts_error"}  # once, not per sentence
        s.conversation.speaker._speak = speak  # type: ignore[method-assign]
        await s.conversation.push_text("Count")
        await s.client.wait_for(lambda: len(s.client.of(ResponseFrame)) == 2)
        assert s.client.of(AudioOutFrame)
        await s.conversation.close()

    run_virtual(main)


def test_a_transcript_of_nothing_opens_no_turn() -> None:
    async def main() -> None:
        s = await scene()
        s.codes.code("x")
        await s.conversation.push_audio(b"\x00\x00" * 16000)
        await asyncio.sleep(1)
        assert len(s.conversation.turns) == 0
        await s.conversation.close()

    run_virtual(main)


def test_the_ledger_stays_bounded_over_many_turns() -> None:
    async def main() -> None:
        s = await scene(mode=ModeState(voice_output=False))
        for index in range(80):
            await s.conversation.push_text(f"message {index}")
            await s.client.wait_for(lambda n=index + 1: len(s.client.of(ResponseFrame)) == n)
        assert len(s.conversation.turns) <= RECENT_TURNS + OPEN_TURNS
        await s.conversation.close()

    run_virtual(main)


def test_a_mode_change_applies_to_the_turns_after_it() -> None:
    async def main() -> None:
        s = await scene(ScriptedReplies(default="Fine."))
        await s.conversation.push_text("Hi")
        await s.client.wait_for(lambda: len(s.client.of(ResponseFrame)) == 1)
        await s.conversation.change_mode({"voice_output": False})
        await s.conversation.push_text("Again")
        await s.client.wait_for(lambda: len(s.client.of(ResponseFrame)) == 2)
        first, second = (r.turn_id for r in s.client.of(ResponseFrame))
        assert s.client.of(AudioOutFrame, first)
        assert not s.client.of(AudioOutFrame, second)
        await s.conversation.close()

    run_virtual(main)


def test_spoken_turns_are_heard_and_answered_in_order() -> None:
    async def main() -> None:
        s = await scene(ScriptedReplies({"hello": "Hi."}))
        await s.say("hello")
        await s.client.wait_for(lambda: bool(s.client.of(ResponseFrame)))
        kinds = [type(f).__name__ for _, f in s.client.frames if not isinstance(f, AudioOutFrame)]
        assert (
            kinds.index("SpeechStartedFrame") < kinds.index("TranscriptFrame") < kinds.index("ResponseFrame")
        )
        final = [t for t in s.client.of(TranscriptFrame) if t.is_final]
        assert [t.text for t in final] == ["hello"]
        assert s.client.of(ResponseFrame)[0].turn_id == final[0].turn_id
        await s.conversation.close()

    run_virtual(main)


def test_heard_words_spreads_the_words_evenly_over_the_audio() -> None:
    assert heard_words("a b c d", 500, 1000) == "a b"
    assert heard_words("a b c d", 2000, 1000) == "a b c d"
    assert heard_words("a b c d", 0, 1000) == ""
