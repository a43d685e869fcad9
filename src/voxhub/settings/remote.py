"""Remote engines: another box's Wyoming servers for speech to text, text to speech and wake words."""

from __future__ import annotations

from pydantic import BaseModel, Field

_HOST = (
    "Host (or `tcp://host:port`) of the Wyoming server the `wyoming` {what} engine uses: another voxhub"
    " (`voxhub serve --role engines`) or {example}."
)


class RemoteEngineFields(BaseModel):
    """Engines named `wyoming`: where their servers are (see docs/wyoming.md)."""

    stt_wyoming_host: str | None = Field(
        None, description=_HOST.format(what="STT", example="wyoming-faster-whisper")
    )
    stt_wyoming_port: int = Field(10300, ge=1, le=65535, description="Port of `stt_wyoming_host`.")
    tts_wyoming_host: str | None = Field(None, description=_HOST.format(what="TTS", example="wyoming-piper"))
    tts_wyoming_port: int = Field(10200, ge=1, le=65535, description="Port of `tts_wyoming_host`.")
    wake_wyoming_host: str | None = Field(
        None, description=_HOST.format(what="wake", example="wyoming-openwakeword")
    )
    wake_wyoming_port: int = Field(10400, ge=1, le=65535, description="Port of `wake_wyoming_host`.")
    wyoming_client_timeout_secs: float = Field(
        15.0, gt=0, description="How long a remote Wyoming engine may take to connect or to answer."
    )
