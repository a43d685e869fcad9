"""One-shot speech: transcribe an audio file, synthesize a text, without a session."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from voxhub.api.state import State
from voxhub.audio import (
    MEDIA_TYPES,
    OUTPUT_FORMATS,
    PcmAudio,
    decode_audio,
    encode_audio,
    encode_base64_audio,
)
from voxhub.audio.base64_payload import decode_base64_audio
from voxhub.audio.limits import read_upload
from voxhub.engines.registry import Stage, check_engine_name
from voxhub.engines.tts.base import synthesize_all
from voxhub.errors import AudioError, InputError, UnknownEngineError
from voxhub.pipeline.visemes import text_visemes, track_dicts

router = APIRouter(prefix="/api/v1", tags=["one-shot"])
M = TypeVar("M", bound=BaseModel)


class TranscribeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(
        default=None, description="Language of the speech; empty uses `stt_language`."
    )
    engine: str | None = Field(default=None, description="STT engine; empty uses `stt_engine`.")
    format: Literal["auto", "pcm"] = Field(
        "auto", description="`auto`: any audio file (WAV, mp3, ogg, webm, flac…); `pcm`: raw s16le mono."
    )
    sample_rate: int = Field(16000, ge=8000, le=192000, description="Rate of `pcm` audio.")


class TranscribeJson(TranscribeOptions):
    audio: str = Field(..., description="The audio, base64 (standard or URL-safe, `data:` URLs too).")


class SynthesizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., max_length=10_000, examples=["Hello, how can I help?"])
    voice: str | None = None
    language: str | None = None
    speed: float | None = Field(default=None, description="Speaking rate, 1.0 is normal.")
    engine: str | None = Field(default=None, description="TTS engine; empty uses `tts_engine`.")
    format: str = Field("wav", description=f"One of: {', '.join(OUTPUT_FORMATS)}.")
    response: Literal["audio", "json"] = Field(
        "audio", description="`audio`: the file itself; `json`: `{audio: base64, ...}`."
    )


_TRANSCRIBE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        **{name: {"type": "string"} for name in TranscribeOptions.model_fields},
                    },
                }
            },
            "application/json": {"schema": TranscribeJson.model_json_schema()},
        },
    }
}


@router.post(
    "/transcribe",
    summary="Transcribe one audio file (multipart `file`, or JSON with base64 `audio`)",
    openapi_extra=_TRANSCRIBE_BODY,
)
async def transcribe(request: Request, state: State) -> dict[str, Any]:
    settings = state.settings
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        data, options = await _multipart_audio(request, settings.max_audio_bytes)
    else:
        body = _validated(TranscribeJson, await request.body())
        data, options = decode_base64_audio(body.audio, max_bytes=settings.max_audio_bytes), body
    name = _engine_name("stt", options.engine)
    async with state.connections.turn_slot():
        started = time.perf_counter()
        audio = await _decode(data, options, settings.max_audio_secs)
        engine = await state.engines.get("stt", name)
        transcript = await engine.transcribe(audio, language=options.language)
    return {
        "text": transcript.text,
        "language": transcript.language,
        "duration_ms": round(transcript.duration_ms, 1),
        "segments": [
            {"text": s.text, "start_ms": round(s.start_ms, 1), "end_ms": round(s.end_ms, 1)}
            for s in transcript.segments
        ],
        "engine": engine.name,
        "model": engine.capabilities.model,
        "processing_ms": round((time.perf_counter() - started) * 1000, 1),
    }


@router.post(
    "/synthesize",
    summary="Speak a text: the audio file, or JSON with base64 audio",
    response_class=Response,
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()} | {"application/json": {}}}},
)
async def synthesize(body: SynthesizeRequest, state: State) -> Response:
    output_format = body.format.lower()
    if output_format not in OUTPUT_FORMATS:
        raise InputError(
            f"unsupported audio format {body.format!r}; supported: {', '.join(OUTPUT_FORMATS)}",
            details={"format": body.format, "supported": list(OUTPUT_FORMATS)},
        )
    name = _engine_name("tts", body.engine)
    async with state.connections.turn_slot():
        engine = await state.engines.get("tts", name)
        audio = await synthesize_all(
            engine, body.text, voice=body.voice, language=body.language, speed=body.speed
        )
        encoded = await asyncio.to_thread(encode_audio, audio, output_format)
    media_type = MEDIA_TYPES[output_format]
    if output_format == "pcm":
        media_type += f";rate={audio.sample_rate_hz};channels=1"
    if body.response == "json":
        return JSONResponse(
            {
                "audio": encode_base64_audio(encoded),
                "format": output_format,
                "media_type": media_type,
                "sample_rate_hz": audio.sample_rate_hz,
                "duration_ms": round(audio.duration_ms, 1),
                "engine": engine.name,
                # mouth shapes for an animated face, from the spelling spread over the audio
                "visemes": track_dicts(text_visemes(body.text, audio.duration_ms)),
            }
        )
    return Response(encoded, media_type=media_type, headers={"X-Sample-Rate": str(audio.sample_rate_hz)})


async def _multipart_audio(request: Request, max_bytes: int) -> tuple[bytes, TranscribeOptions]:
    form = await request.form(max_files=1, max_fields=len(TranscribeOptions.model_fields))
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputError(
            "a multipart request needs the audio in a part named `file`", details={"field": "file"}
        )
    fields = {key: value for key, value in form.items() if key != "file" and isinstance(value, str)}
    return await read_upload(upload, max_bytes=max_bytes), _validated(TranscribeOptions, fields)


def _validated(model: type[M], data: bytes | dict[str, str]) -> M:
    """Parse and validate like FastAPI does for declared bodies, so a bad body is the same 422."""
    try:
        return model.model_validate_json(data) if isinstance(data, bytes) else model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None


async def _decode(data: bytes, options: TranscribeOptions, max_secs: float) -> PcmAudio:
    if options.format == "pcm":
        if len(data) % 2:
            raise AudioError("raw PCM must be 16-bit samples: the byte count is odd")
        return PcmAudio(data, options.sample_rate)
    return await asyncio.to_thread(decode_audio, data, max_secs=max_secs)


def _engine_name(stage: Stage, name: str | None) -> str | None:
    """`name` if registered; a request naming an unknown engine is bad input (400), not a config error."""
    if name is None:
        return None
    try:
        return check_engine_name(stage, name)
    except UnknownEngineError as exc:
        raise InputError(exc.message, details=exc.details) from None
