"""OpenAI-compatible `POST /v1/audio/transcriptions` and `POST /v1/audio/speech`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from voxhub.api.state import ServerState, State
from voxhub.audio import (
    MEDIA_TYPES,
    OUTPUT_FORMATS,
    AudioEncoder,
    PcmAudio,
    StreamResampler,
    decode_audio,
    resample,
)
from voxhub.audio.limits import read_upload
from voxhub.engines.registry import ENGINES, Stage
from voxhub.engines.stt.base import Transcript
from voxhub.engines.tts.base import TtsEngine, require_text
from voxhub.errors import InputError

router = APIRouter(tags=["openai"])

TRANSCRIPT_FORMATS = ("json", "text", "verbose_json", "srt", "vtt")
# OpenAI's voices: a client asking for one of these gets the engine's default voice rather than an error.
OPENAI_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse"}
)
PCM_RATE_HZ = 24000  # OpenAI documents `pcm` speech as 24 kHz s16le; clients rely on it


class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # `instructions` and the like are accepted and ignored

    model: str = ""
    input: str = Field(max_length=10_000)
    voice: str | None = None
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    response_format: str = "mp3"
    stream_format: str = "audio"


def _engine_name(stage: Stage, model: str | None) -> str | None:
    """A registered engine `model` names, else None for the default (`whisper-1`, `tts-1`, ...)."""
    return model if model in ENGINES[stage] else None


def _unsupported(field: str, value: str, supported: tuple[str, ...]) -> InputError:
    return InputError(
        f"unsupported {field} {value!r}; supported: {', '.join(supported)}",
        details={field: value, "supported": list(supported)},
    )


@router.post("/audio/transcriptions", summary="OpenAI-compatible transcription of an uploaded audio file")
async def transcriptions(
    state: State,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form()] = "whisper-1",
    language: Annotated[str | None, Form()] = None,
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[str, Form()] = "json",
) -> Response:
    if response_format not in TRANSCRIPT_FORMATS:
        raise _unsupported("response_format", response_format, TRANSCRIPT_FORMATS)
    data = await read_upload(file, max_bytes=state.settings.max_audio_bytes)
    async with state.connections.turn_slot():
        audio = await asyncio.to_thread(decode_audio, data, max_secs=state.settings.max_audio_secs)
        engine = await state.engines.get("stt", _engine_name("stt", model))
        transcript = await engine.transcribe(audio, language=language or None, prompt=prompt or None)
    return _transcript_response(transcript, response_format)


def _transcript_response(transcript: Transcript, response_format: str) -> Response:
    text = transcript.text.strip()
    if response_format == "json":
        return JSONResponse({"text": text})
    if response_format == "text":
        return PlainTextResponse(text)
    cues = [(s.start_ms, s.end_ms, s.text.strip()) for s in transcript.segments] or [
        (0.0, transcript.duration_ms, text)
    ]
    if response_format == "verbose_json":
        segments = [
            {"id": index, "start": start / 1000, "end": end / 1000, "text": cue}
            for index, (start, end, cue) in enumerate(cues)
        ]
        return JSONResponse(
            {
                "task": "transcribe",
                "language": transcript.language,
                "duration": round(transcript.duration_ms / 1000, 3),
                "text": text,
                "segments": segments,
            }
        )
    if response_format == "srt":
        blocks = [
            f"{index}\n{_timestamp(start, ',')} --> {_timestamp(end, ',')}\n{cue}\n"
            for index, (start, end, cue) in enumerate(cues, 1)
        ]
        return PlainTextResponse("\n".join(blocks))
    blocks = [f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}\n{cue}\n" for start, end, cue in cues]
    return PlainTextResponse("WEBVTT\n\n" + "\n".join(blocks), media_type="text/vtt")


def _timestamp(ms: float, separator: str) -> str:
    total = round(ms)
    hours, rest = divmod(total, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


@router.post(
    "/audio/speech",
    summary="OpenAI-compatible speech, streamed as it is synthesized",
    response_class=StreamingResponse,
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}}},
)
async def speech(body: SpeechRequest, state: State) -> StreamingResponse:
    output_format = body.response_format.lower()
    if output_format not in OUTPUT_FORMATS:
        raise _unsupported("response_format", body.response_format, OUTPUT_FORMATS)
    if body.stream_format != "audio":
        raise _unsupported("stream_format", body.stream_format, ("audio",))
    text = require_text(body.input)
    engine = await state.engines.get("tts", _engine_name("tts", body.model))
    voice = body.voice
    if voice in OPENAI_VOICES and voice not in engine.capabilities.voices:
        voice = None
    rate = engine.capabilities.sample_rate_hz
    out_rate = PCM_RATE_HZ if output_format == "pcm" else rate
    stream = _encoded(state, engine, text, voice, body.speed, output_format, rate, out_rate)
    first = await anext(stream)  # a bad voice or a failing engine is an HTTP error, not a cut-off file
    media_type = MEDIA_TYPES[output_format]
    if output_format == "pcm":
        media_type += f";rate={out_rate};channels=1"
    return StreamingResponse(
        _prepend(first, stream), media_type=media_type, headers={"X-Sample-Rate": str(out_rate)}
    )


async def _encoded(
    state: ServerState,
    engine: TtsEngine,
    text: str,
    voice: str | None,
    speed: float,
    output_format: str,
    rate: int,
    out_rate: int,
) -> AsyncIterator[bytes]:
    """The encoded file in pieces, one per synthesized chunk (a sentence), as soon as each is ready."""
    encoder = AudioEncoder(output_format, out_rate)
    resampler = StreamResampler(rate, out_rate)
    async with state.connections.turn_slot():
        chunks = engine.synthesize(text, voice=voice, speed=speed)
        async with contextlib.aclosing(chunks):  # type: ignore[type-var]
            async for chunk in chunks:
                if chunk.sample_rate_hz != rate:  # one file has one rate, whatever a chunk came at
                    chunk = resample(chunk, rate)
                pcm = resampler.push(chunk.pcm_s16le)
                yield await asyncio.to_thread(encoder.encode, PcmAudio(pcm, out_rate))
        tail = resampler.push(b"", last=True)
        yield await asyncio.to_thread(_finish, encoder, PcmAudio(tail, out_rate))


def _finish(encoder: AudioEncoder, tail: PcmAudio) -> bytes:
    return encoder.encode(tail) + encoder.finish()


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for item in rest:
        yield item
