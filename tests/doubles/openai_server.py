"""A test double of an OpenAI-compatible API, because no cloud endpoint is reachable from this machine.

It stands in for OpenAI (or Ollama, vLLM...) so the `openai` engines can be driven over real HTTP through
the real SDK. Replies are scripted and deterministic; it records what it received, can require a key (401)
and can be told to fail (500). It never stands in for a local model's answers: those are tested for real
(its `/props` only lets a test read what the `local` engine would send llama.cpp).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
import math
import re
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

SPEECH_RATE_HZ = 24000  # what OpenAI's `pcm` speech format is
_SPEECH_CHUNK_BYTES = 1001  # odd on purpose: clients must not split a sample between chunks


@dataclass
class Upload:
    """One multipart request: its form fields and the uploaded file."""

    fields: dict[str, str]
    file_name: str
    file_bytes: bytes


@dataclass
class DoubleState:
    """What the double will answer, and what it was sent."""

    reply: str = "The capital of France is Paris."
    tool_arguments: dict[str, Any] = field(default_factory=lambda: {"city": "Paris"})
    transcript: str = "hello from the test double"
    # False: answer `verbose_json` transcription requests with 400, as some servers do
    verbose_json: bool = True
    api_key: str | None = None  # set: requests without `Authorization: Bearer <api_key>` get 401
    fail_status: int | None = None  # set: every request gets this status
    usage: tuple[int, int] | None = None  # set: the (prompt, completion) tokens it reports, else counted
    models: list[str] = field(default_factory=lambda: ["double-model"])  # what `/v1/models` lists
    owned_by: str = "test-double"  # each model's `owned_by` there
    tags_only: bool = False  # like an old Ollama: `/v1/models` is 404, the models are in `/api/tags`
    delay_secs: float = 0.0  # set: every request waits this long before the double answers
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    transcriptions: list[Upload] = field(default_factory=list)
    speech_requests: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class OpenAiDouble:
    base_url: str
    state: DoubleState = field(default_factory=DoubleState)

    def reset(self) -> OpenAiDouble:
        self.state = DoubleState()
        return self


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "test_double_error"}}, status_code=status)


def _completion_text(state: DoubleState, body: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """Scripted: on a user turn, a call of the tool the request demands or the user's words name (a word of
    four letters or more of its name: "weather" names `get_weather`); an answer using a tool's result."""
    last = next(
        m for m in reversed(body["messages"]) if m["role"] != "system"
    )  # notes after the user's words
    tools = [tool["function"]["name"] for tool in body.get("tools") or []]
    choice = body.get("tool_choice", "auto")
    if tools and choice != "none" and last["role"] == "user":
        words = set(re.findall(r"[a-z]+", str(last.get("content")).lower()))
        named = [
            name for name in tools if words & {p for p in re.split(r"[_\W]+", name.lower()) if len(p) >= 4}
        ]
        if isinstance(choice, dict):
            named = [choice["function"]["name"]]
        elif choice == "required":
            named = named or tools[:1]
        if named:
            return "", {
                "id": "call_double_1",
                "name": named[0],
                "arguments": json.dumps(state.tool_arguments),
            }
    if last["role"] == "tool":
        return f"The tool says: {last['content']}", None
    return state.reply, None


def _words(text: str) -> list[str]:
    """`text` in pieces that join back to it, one word each (with its leading space)."""
    parts = text.split(" ")
    return [parts[0]] + [f" {part}" for part in parts[1:]] if text else []


def _usage(state: DoubleState, body: dict[str, Any], pieces: int) -> dict[str, int]:
    prompt = sum(len(str(message.get("content") or "").split()) for message in body["messages"])
    prompt, pieces = state.usage or (prompt, pieces)
    return {"prompt_tokens": prompt, "completion_tokens": pieces, "total_tokens": prompt + pieces}


def _capped(body: dict[str, Any], text: str) -> tuple[str, bool]:
    """`text` within the request's `max_tokens` (a word is a token here), and whether it was cut."""
    cap = body.get("max_completion_tokens") or body.get("max_tokens")
    pieces = _words(text)
    if cap is None or len(pieces) <= cap:
        return text, False
    return "".join(pieces[:cap]), True


def _chat_events(
    state: DoubleState, body: dict[str, Any], text: str, call: dict[str, Any] | None
) -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-double", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
    text, cut = _capped(body, text)
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": piece} for piece in _words(text)]
    if call:
        half = len(call["arguments"]) // 2  # arguments arrive in two pieces, as real servers send them
        function = {"name": call["name"], "arguments": call["arguments"][:half]}
        deltas.append(
            {"tool_calls": [{"index": 0, "id": call["id"], "type": "function", "function": function}]}
        )
        deltas.append({"tool_calls": [{"index": 0, "function": {"arguments": call["arguments"][half:]}}]})
    events = [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]} for delta in deltas]
    finish = "tool_calls" if call else "length" if cut else "stop"
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**base, "choices": [], "usage": _usage(state, body, len(deltas) - 1)})
    return events


def _parse_multipart(content_type: str, raw: bytes) -> Upload:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, str] = {}
    upload = Upload(fields, "", b"")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        if part.get_filename():
            upload.file_name, upload.file_bytes = str(part.get_filename()), payload
        else:
            fields[str(name)] = payload.decode()
    return upload


def speech_tone(seconds: float) -> bytes:
    """What the double says for `/v1/audio/speech`: a 440 Hz tone, 24 kHz s16le."""
    samples = round(seconds * SPEECH_RATE_HZ)
    return b"".join(
        struct.pack("<h", round(8000 * math.sin(2 * math.pi * 440 * n / SPEECH_RATE_HZ)))
        for n in range(samples)
    )


def build_app(double: OpenAiDouble) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next: Any) -> Response:
        state = double.state
        if state.delay_secs:
            await asyncio.sleep(state.delay_secs)
        if state.fail_status is not None:
            return _error(state.fail_status, "the test double was told to fail")
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if state.api_key is not None and given != state.api_key:
            # Echoes the key like some servers do, so tests can check the engines scrub it.
            return _error(401, f"Incorrect API key provided: {given}")
        response: Response = await call_next(request)
        return response

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        double.state.chat_requests.append(body)
        text, call = _completion_text(double.state, body)
        events = _chat_events(double.state, body, text, call)
        if body.get("stream"):
            lines = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
            return StreamingResponse(iter(lines), media_type="text/event-stream")
        text, cut = _capped(body, text)
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if call:
            message["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ]
        finish = "tool_calls" if call else "length" if cut else "stop"
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return JSONResponse(
            {
                "id": "chatcmpl-double",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "usage": _usage(double.state, body, len(_words(text))),
                "choices": [choice],
            }
        )

    @app.get("/v1/models")
    async def models() -> Response:
        state = double.state
        if state.tags_only:
            return _error(404, "not found")
        data = [{"id": name, "object": "model", "owned_by": state.owned_by} for name in state.models]
        return JSONResponse({"object": "list", "data": data})

    @app.get("/api/tags")
    async def tags() -> Response:
        """Ollama's own list of its models."""
        return JSONResponse({"models": [{"name": name, "model": name} for name in double.state.models]})

    @app.get("/props")
    async def props() -> Response:
        """llama.cpp's server properties, so the `local` engine can be pointed at the double."""
        return JSONResponse({"chat_template_caps": {"supports_tools": False, "supports_tool_calls": False}})

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request) -> Response:
        state = double.state
        upload = _parse_multipart(request.headers["content-type"], await request.body())
        state.transcriptions.append(upload)
        response_format = upload.fields.get("response_format", "json")
        if response_format == "text":
            return PlainTextResponse(state.transcript)
        if response_format != "verbose_json":
            return JSONResponse({"text": state.transcript})
        if not state.verbose_json:
            return _error(400, "response_format 'verbose_json' is not supported by this server")
        halves = _words(state.transcript)
        middle = len(halves) // 2
        segments = [
            {"id": 0, "start": 0.0, "end": 0.5, "text": "".join(halves[:middle])},
            {"id": 1, "start": 0.5, "end": 1.0, "text": "".join(halves[middle:])},
        ]
        return JSONResponse(
            {
                "task": "transcribe",
                "language": upload.fields.get("language", "english"),
                "duration": 1.0,
                "text": state.transcript,
                "segments": segments,
            }
        )

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Response:
        body = await request.json()
        double.state.speech_requests.append(body)
        if body.get("response_format") != "pcm":
            return _error(400, "the test double only speaks response_format 'pcm'")
        pcm = speech_tone(0.02 * len(body["input"]) / float(body.get("speed", 1.0)))

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(pcm), _SPEECH_CHUNK_BYTES):
                yield pcm[start : start + _SPEECH_CHUNK_BYTES]
                await asyncio.sleep(0.001)  # so the pieces arrive apart rather than coalesced

        return StreamingResponse(chunks(), media_type="audio/pcm")

    return app


_running: OpenAiDouble | None = None
_spares: list[OpenAiDouble] = []
_lock = threading.Lock()


def _start() -> OpenAiDouble:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    double = OpenAiDouble(f"http://127.0.0.1:{sock.getsockname()[1]}/v1")
    server = uvicorn.Server(uvicorn.Config(build_app(double), log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return double


def running_double() -> OpenAiDouble:
    """The double, started on a free 127.0.0.1 port in a background thread on first use, then shared."""
    global _running
    with _lock:
        if _running is None:
            _running = _start()
        return _running.reset()


def more_doubles(count: int) -> list[OpenAiDouble]:
    """`count` more doubles, each on a port of its own apart from `running_double`'s (several servers on one
    machine, as `llm_engine: auto` finds them); started once, reset for each caller."""
    with _lock:
        while len(_spares) < count:
            _spares.append(_start())
        return [double.reset() for double in _spares[:count]]
