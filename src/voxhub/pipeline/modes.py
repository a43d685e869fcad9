"""Which of voice and text a session takes in and gives out; it can change mid-conversation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

MODE_FLAGS = ("voice_input", "text_input", "voice_output", "text_output")


@dataclass(frozen=True, slots=True)
class ModeState:
    """The modes of one conversation at one moment. Never changed in place: a change is a new value that
    reaches each stage in a `ModeChangedFrame`, in order with the frames around it."""

    voice_input: bool = True
    text_input: bool = True
    voice_output: bool = True
    text_output: bool = True

    def with_flags(self, flags: Mapping[str, bool]) -> ModeState:
        return replace(self, **{name: bool(value) for name, value in flags.items() if name in MODE_FLAGS})

    def as_dict(self) -> dict[str, bool]:
        return {
            "voice_input": self.voice_input,
            "text_input": self.text_input,
            "voice_output": self.voice_output,
            "text_output": self.text_output,
        }
