"""OpenAI Realtime at `/v1/realtime`: a thin adapter from Realtime events onto a session's conversation."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from voxhub.api.state import ServerState
from voxhub.api.websocket import admit, receive_or_close
from voxhub.audio.base64_payload import decode_base64_audio, encode_base64_audio
from voxhub.audio.resample import StreamResampler
from voxhub.errors import VoxhubError
from voxhub.pipeline.conversation import Conversation
from voxhub.pipeline.frames import (
    AudioOutEndFrame,
    AudioOutFrame,
    AudioStartFrame,
    ErrorFrame,
    Frame,
    InterruptFrame,
    ResponseDeltaFrame,
    ResponseFrame,
    SpeechStartedFrame,
    SpeechStoppedFrame,
    TranscriptFrame,
)
from voxhub.protocols.realtime_events import (
    CLIENT_EVENTS,
    REALTIME_RATE_HZ,
    InvalidEvent,
    RealtimeConfig,
    UnsupportedEvent,
    error_event,
    message_item,
    new_id,
    parse_event,
    server_event,
    session_object,
    updated_config,
    user_text,
)
from voxhub.protocols.realtime_history import (
    BYTES_PER_MS,
    ItemRef,
    find_item,
    heard_ms,
    heard_words,
    rewrite_item,
)
from voxhub.sessions.live import open_conversation, reply_options
from voxhub.sessions.manager import Session

router = APIRouter()


@router.websocket("/v1/realtime")
async def realtime_socket(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.voxhub
    if not await admit(websocket, state):
        return
    connection = _Realtime(websocket, state)
    started = asyncio.get_running_loop().time()
    try:
        await connection.run()
    finally:
        state.connections.release(duration_secs=asyncio.get_running_loop().time() - started)


@dataclass
class _Response:
    """One assistant answer (a pipeline turn) as a Realtime response with one message item."""

    id: str
    item_id: str
    resampler: StreamResampler | None = None
    text: list[str] = field(default_factory=list)


class _Realtime:
    def __init__(self, websocket: WebSocket, state: ServerState) -> None:
        self.websocket = websocket
        self.state = state
        self.settings = state.settings
        self.beta = "realtime=v1" in websocket.headers.get("openai-beta", "")
        self.model = websocket.query_params.get("model", "voxhub")
        self.config = RealtimeConfig(audio_output=True)
        self.session: Session | None = None
        self.conversation: Conversation | None = None
        self._send_lock = asyncio.Lock()
        self._last_item: str | None = None
        self._user_item: str | None = None  # the item the user is speaking, from speech_started on
        self._pending_text: dict[str, str] = {}  # user text items waiting for `response.create`, by id
        self._asked: list[str] = []  # user text items sent to the pipeline, until their turn starts
        self._items: dict[str, ItemRef] = {}  # the conversation as the client sees it
        self._responses: dict[str, _Response] = {}  # turn id → its response

    async def run(self) -> None:
        await self.websocket.accept()
        self.session = await self.state.sessions.get_or_create(None)
        self.state.sessions.mark_connected(self.session.id, True)
        try:
            await self._open()
            await self._emit("session.created", session=self._session_object())
            await self._receive_loop()
        finally:
            self.state.sessions.mark_connected(self.session.id, False)
            if self.conversation is not None:
                await self.conversation.close()

    def _session_object(self) -> dict[str, Any]:
        assert self.session is not None
        return session_object(self.config, self.session.id, self.model, self.beta)

    async def _open(self) -> None:
        assert self.session is not None
        self.conversation = await open_conversation(
            self.session,
            self.state.sessions,
            self.state.engines,
            self.settings,
            send=self._on_frame,
            metrics=self.state.metrics,
            input_rate_hz=self.config.input_rate_hz,
            activation="vad" if self.config.turn_detection else "push_to_talk",
        )
        await self._apply_in_place()

    async def _apply_in_place(self) -> None:
        """What changes without rebuilding the pipeline: output modality and instructions."""
        assert self.conversation is not None
        assert self.session is not None
        await self.conversation.change_mode({"voice_output": self.config.audio_output, "text_output": True})
        options = reply_options(self.session, self.settings)
        if self.config.instructions:
            options = replace(options, system_prompt=self.config.instructions)
        self.conversation.update_reply(options)

    async def _receive_loop(self) -> None:
        while True:
            message = await receive_or_close(self.websocket, self.settings.connection_timeout_secs)
            if message is None:
                return
            event_id: str | None = None
            try:
                body = parse_event(message.get("text"))
                event_id = body.get("event_id") if isinstance(body.get("event_id"), str) else None
                if not isinstance(body.get("type"), str):
                    raise InvalidEvent('an event needs a string "type"', details={"param": "type"})
                await self._dispatch(body["type"], body)
            except VoxhubError as exc:
                param = exc.details.get("param") if isinstance(exc.details.get("param"), str) else None
                await self._send(error_event(exc.message, exc.code, event_id=event_id, param=param))
            except WebSocketDisconnect:
                return

    async def _dispatch(self, kind: str, body: Mapping[str, Any]) -> None:
        assert self.conversation is not None
        if kind == "input_audio_buffer.append":
            audio = decode_base64_audio(
                str(body.get("audio", "")), max_bytes=self.settings.max_ws_message_bytes
            )
            await self.conversation.push_audio(audio)
        elif kind == "input_audio_buffer.commit":
            await self.conversation.end_audio()
        elif kind == "input_audio_buffer.clear":
            await self.conversation.clear_audio()
            self._user_item = None
            await self._emit("input_audio_buffer.cleared")
        elif kind == "conversation.item.delete":
            await self._delete(body)
        elif kind == "conversation.item.truncate":
            await self._truncate(body)
        elif kind == "session.update":
            session = body.get("session")
            if not isinstance(session, Mapping):
                raise InvalidEvent("session.update needs a `session` object", details={"param": "session"})
            await self._update(updated_config(self.config, session))
        elif kind == "conversation.item.create":
            await self._create_item(body.get("item"))
        elif kind == "response.create":
            if not self._pending_text:
                raise UnsupportedEvent("response.create answers new user items: create one first")
            text = "\n".join(self._pending_text.values())
            self._asked += self._pending_text
            self._pending_text = {}
            await self.conversation.push_text(text)
        elif kind == "response.cancel":
            self.conversation.interrupt()
        else:
            raise UnsupportedEvent(
                f"unsupported event type {kind!r}",
                details={"param": "type", "supported": list(CLIENT_EVENTS)},
            )

    async def _update(self, config: RealtimeConfig) -> None:
        rebuild = (config.input_rate_hz, config.turn_detection) != (
            self.config.input_rate_hz,
            self.config.turn_detection,
        )
        self.config = config
        if rebuild:  # the listener is built for one input rate and activation; history carries over
            assert self.conversation is not None
            await self.conversation.close()
            self.conversation = None
            await self._open()
        else:
            await self._apply_in_place()
        await self._emit("session.updated", session=self._session_object())

    async def _create_item(self, item: Any) -> None:
        if not isinstance(item, Mapping):
            raise InvalidEvent("conversation.item.create needs an `item` object", details={"param": "item"})
        text = user_text(item)
        item_id = str(item.get("id") or new_id("item"))
        content = [{"type": "input_text", "text": text}]
        await self._add_item(message_item(item_id, "user", content, "completed"))
        self._pending_text[item_id] = text
        self._items[item_id] = ItemRef("user")

    async def _delete(self, body: Mapping[str, Any]) -> None:
        """Drop an item from the client's view and, once its turn is committed, from history."""
        item_id, item = find_item(self._items, body)
        if self._pending_text.pop(item_id, None) is None:
            await self._rewrite(item, lambda _: None)
        del self._items[item_id]
        await self._emit("conversation.item.deleted", item_id=item_id)

    async def _truncate(self, body: Mapping[str, Any]) -> None:
        """Keep in history only the words of the answer's audio the client played (`audio_end_ms`)."""
        item_id, item = find_item(self._items, body)
        end_ms = heard_ms(body, item)
        await self._rewrite(item, lambda text: heard_words(text, end_ms, item.audio_ms))
        item.audio_ms = end_ms
        await self._emit(
            "conversation.item.truncated", item_id=item_id, content_index=0, audio_end_ms=int(end_ms)
        )

    async def _rewrite(self, item: ItemRef, edit: Callable[[str], str | None]) -> None:
        assert self.session is not None
        assert self.conversation is not None
        await rewrite_item(self.state.sessions, self.session.id, self.conversation.memory, item, edit)

    async def _add_item(self, item: dict[str, Any]) -> None:
        await self._emit("conversation.item.added", previous_item_id=self._last_item, item=item)
        await self._emit("conversation.item.done", previous_item_id=self._last_item, item=item)
        self._last_item = item["id"]

    # -- pipeline frames → server events ------------------------------------------------------------

    async def _on_frame(self, frame: Frame) -> None:
        match frame:
            case SpeechStartedFrame(timestamp_ms=at):
                self._user_item = new_id("item")
                await self._emit(
                    "input_audio_buffer.speech_started", audio_start_ms=int(at), item_id=self._user_item
                )
            case SpeechStoppedFrame(timestamp_ms=at):
                self._user_item = self._user_item or new_id("item")
                await self._emit(
                    "input_audio_buffer.speech_stopped", audio_end_ms=int(at), item_id=self._user_item
                )
            case TranscriptFrame(is_final=True, text=text, turn_id=turn):
                await self._user_spoke(text, turn)
            case ResponseDeltaFrame(text=text, turn_id=turn):
                response = await self._response(turn)
                response.text.append(text)
                kind = (
                    "response.output_audio_transcript.delta"
                    if self.config.audio_output
                    else "response.output_text.delta"
                )
                await self._emit(kind, **self._where(response), delta=text)
            case AudioStartFrame(turn_id=turn, sample_rate_hz=rate):
                (await self._response(turn)).resampler = StreamResampler(rate, REALTIME_RATE_HZ)
            case AudioOutFrame(turn_id=turn, pcm_s16le=pcm, sample_rate_hz=rate):
                response = await self._response(turn)
                if response.resampler is None:
                    response.resampler = StreamResampler(rate, REALTIME_RATE_HZ)
                await self._audio(response, response.resampler.push(pcm))
            case AudioOutEndFrame(turn_id=turn) if turn in self._responses:
                response = self._responses[turn]
                if response.resampler is not None:
                    await self._audio(response, response.resampler.push(b"", last=True))
                    response.resampler = None
            case ResponseFrame(text=text, turn_id=turn):
                await self._finish(await self._response(turn), "completed", text)
                self._responses.pop(turn, None)
            case InterruptFrame(turn_id=turn) if turn in self._responses:
                response = self._responses.pop(turn)
                await self._finish(response, "cancelled", "".join(response.text).strip())
            case ErrorFrame(error=code, message=message):
                await self._send(error_event(message, code, event_id=None))

    async def _user_spoke(self, text: str, turn_id: str) -> None:
        item_id, self._user_item = self._user_item or new_id("item"), None
        self._items[item_id] = ItemRef("user", turn_id)
        await self._emit("input_audio_buffer.committed", previous_item_id=self._last_item, item_id=item_id)
        content = [{"type": "input_audio", "transcript": text}]
        await self._add_item(message_item(item_id, "user", content, "completed"))
        await self._emit(
            "conversation.item.input_audio_transcription.completed",
            item_id=item_id,
            content_index=0,
            transcript=text,
        )

    async def _response(self, turn_id: str) -> _Response:
        """The response of `turn_id`, announced (`response.created`, its item added) on first use."""
        if turn_id in self._responses:
            return self._responses[turn_id]
        response = self._responses[turn_id] = _Response(new_id("resp"), new_id("item"))
        self._items[response.item_id] = ItemRef("assistant", turn_id)
        for item_id in self._asked:  # a text turn: the user items it answers are this turn's
            if item_id in self._items:
                self._items[item_id].turn_id = turn_id
        self._asked = []
        await self._emit("response.created", response=self._response_object(response, "in_progress", []))
        item = message_item(response.item_id, "assistant", [], "in_progress")
        await self._emit("response.output_item.added", response_id=response.id, output_index=0, item=item)
        await self._emit("conversation.item.added", previous_item_id=self._last_item, item=item)
        self._last_item = response.item_id
        return response

    async def _audio(self, response: _Response, pcm: bytes) -> None:
        if pcm:
            self._items[response.item_id].audio_ms += len(pcm) / BYTES_PER_MS
            await self._emit(
                "response.output_audio.delta", **self._where(response), delta=encode_base64_audio(pcm)
            )

    async def _finish(self, response: _Response, status: str, text: str) -> None:
        where = self._where(response)
        if self.config.audio_output:
            await self._emit("response.output_audio.done", **where)
            await self._emit("response.output_audio_transcript.done", **where, transcript=text)
            part = {"type": "output_audio", "transcript": text}
        else:
            await self._emit("response.output_text.done", **where, text=text)
            part = {"type": "output_text", "text": text}
        item = message_item(
            response.item_id, "assistant", [part], "completed" if status == "completed" else "incomplete"
        )
        await self._emit("response.output_item.done", response_id=response.id, output_index=0, item=item)
        await self._emit("conversation.item.done", previous_item_id=None, item=item)
        await self._emit("response.done", response=self._response_object(response, status, [item]))

    def _response_object(
        self, response: _Response, status: str, output: list[dict[str, Any]]
    ) -> dict[str, Any]:
        modalities = ["audio"] if self.config.audio_output else ["text"]
        key = "modalities" if self.beta else "output_modalities"
        return {
            "id": response.id,
            "object": "realtime.response",
            "status": status,
            key: modalities,
            "output": output,
        }

    @staticmethod
    def _where(response: _Response) -> dict[str, Any]:
        return {
            "response_id": response.id,
            "item_id": response.item_id,
            "output_index": 0,
            "content_index": 0,
        }

    async def _emit(self, kind: str, **fields: Any) -> None:
        body = server_event(kind, self.beta, **fields)
        if body is not None:
            await self._send(body)

    async def _send(self, body: dict[str, Any]) -> None:
        if self.websocket.client_state is not WebSocketState.CONNECTED:
            return
        async with self._send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.websocket.send_text(json.dumps(body, ensure_ascii=False))
