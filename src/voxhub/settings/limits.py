"""Limits on what a request may carry, and the sandbox of the tools the assistant writes for itself."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field
from pydantic_settings import NoDecode


class LimitFields(BaseModel):
    """The largest audio voxhub accepts."""

    max_audio_bytes: int = Field(25 * 1024 * 1024, ge=1024, description="Largest audio payload accepted.")
    max_audio_secs: float = Field(
        600.0,
        gt=0,
        le=86_400,
        description="Longest audio file accepted, in decoded seconds; a longer upload is refused with 413, "
        "from its declared length or as soon as decoding passes the limit (a small compressed file can hold "
        "hours of audio).",
    )


class AutoFunctionFields(BaseModel):
    """AutoFunction: tools the assistant writes for itself, run in a sandbox."""

    autofunction_allowed_modules: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Modules generated tools may import besides the safe standard ones (math, json, re, ...); "
        "comma-separated, admin only.",
    )
    autofunction_cpu_secs: int = Field(2, ge=1, le=300, description="CPU seconds one sandboxed call may use.")
    autofunction_memory_mb: int = Field(
        256, ge=64, le=65536, description="Address space one sandboxed call may use, in MiB."
    )
    autofunction_timeout_secs: float = Field(
        5.0, gt=0.0, le=600.0, description="Wall-clock limit of one sandboxed call, start-up included."
    )
    autofunction_max_processes: int = Field(
        1, ge=1, le=64, description="Processes a sandbox may have, itself included; 1 forbids forking."
    )
    autofunction_max_open_files: int = Field(
        16, ge=4, le=1024, description="File descriptors a sandbox may hold open."
    )
