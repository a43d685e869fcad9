"""Which of voice and text a session takes in and gives out; it can change mid-conversation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ModeState:
    """The live mode of one conversation, read by every stage (so `mode_change` takes effect at once)."""

    voice_input: bool = True
    text_input: bool = True
    voice_output: bool = True
    text_output: bool = True

    def as_dict(self) -> dict[str, bool]:
        return {
            "voice_input": self.voice_input,
            "text_input": self.text_input,
            "voice_output": self.voice_output,
            "text_output": self.text_output,
        }
