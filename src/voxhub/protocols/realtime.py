"""OpenAI Realtime at `/v1/realtime`: a thin adapter from Realtime events onto a session's conversation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, WebSocket

from voxhub.api.connection import ClientConnection, serve_connection
from voxhub.api.state import ServerState
from voxhub.audio.base64_payload import decode_base64_audio
from voxhub.engines.llm.base import ChatMessage
from voxhub.errors import VoxhubError
from voxhub.pipeline.conversation import Conversation
from voxhub.pipeline.frames import (
    ErrorFrame,
    Frame,
    SpeechStartedFrame,
    SpeechStoppedFrame,
    TranscriptFrame,
)
from voxhub.pipeline.reply import ReplyOptions
from voxhub.pipeline.turns import heard_words
from voxhub.protocols.native_events import publish_frame
from voxhub.protocols.realtime_events import (
    CLIENT_EVENTS,
    InvalidEvent,
    RealtimeConfig,
    UnsupportedEvent,
    error_event,
    function_output,
    function_output_item,
    message_item,
    new_id,
    server_event,
    session_object,
    stable_words,
    transcript_delta,
    updated_config,
    user_text,
)
from voxhub.protocols.realtime_history import ItemRef, find_item, heard_ms, rewrite_item
from voxhub.protocols.realtime_responses import RealtimeResponses
from voxhub.sessions.live import open_conversation
from voxhub.sessions.manager import Session

router = APIRouter()


@router.websocket("/v1/realtime")
async def realtime_socket(websocket: WebSocket) -> None:
    await serve_connection(websocket, RealtimeConnection)


class RealtimeConnection(ClientConnection):
    """OpenAI Realtime events on the connection base (limits, idle timeout, session watch)."""

    def __init__(self, websocket: WebSocket, state: ServerState) -> None:
        super().__init__(websocket, state)
        self.beta = "realtime=v1" in websocket.headers.get("openai-beta", "")
        self.model = websocket.query_params.get("model", "voxhub")
        self.config = RealtimeConfig(audio_output=True)
        self.session: Session | None = None
        self.conversation: Conversation | None = None
        self._base_reply: ReplyOptions | None = None
        self.responses = RealtimeResponses(
            self._emit, beta=self.beta, audio_output=lambda: self.config.audio_output
        )
        self._user_item: str | None = None  # the item the user is speaking, from speech_started on
        self._partial = ""  # the latest partial transcript of `_user_item`
        self._partial_sent = ""  # the transcript of `_user_item` sent so far as deltas
        self._pending: dict[str, ChatMessage] = {}  # items waiting for `response.create`, by id
        self._appended = False  # audio appended since the last commit or clear
        self._awaiting_final = False  # a manual commit is being transcribed
        self._respond_when_heard = False  # a `response.create` waits for that transcript

    async def open(self) -> None:
        self.session = await self.state.sessions.get_or_create(None)
        self.session_id = self.session.id
        self.input_rate_hz = self.config.input_rate_hz
        await self._open()
        await self._emit("session.created", session=self._session_object())

    async def close_pipeline(self) -> None:
        if self.conversation is not None:
            conversation, self.conversation = self.conversation, None
            await conversation.close()

    def is_audio(self, message: dict[str, Any]) -> bool:
        return message.get("type") == "input_audio_buffer.append"

    def error_body(self, exc: VoxhubError, message: dict[str, Any] | None) -> dict[str, Any]:
        event_id = message.get("event_id") if message is not None else None
        param = exc.details.get("param") if isinstance(exc.details.get("param"), str) else None
        return error_event(
            exc.message, exc.code, event_id=event_id if isinstance(event_id, str) else None, param=param
        )

    async def on_message(self, message: dict[str, Any]) -> None:
        if not isinstance(message.get("type"), str):
            raise InvalidEvent('an event needs a string "type"', details={"param": "type"})
        await self._dispatch(message["type"], message)

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
            agent=self.state.assistant,
        )
        self._base_reply = self.conversation.reply_options  # the persona's, before the client's changes
        await self._apply_in_place()

    async def _apply_in_place(self) -> None:
        """What changes without rebuilding the pipeline: modality, instructions, tools, when to answer."""
        assert self.conversation is not None
        assert self.session is not None
        await self.conversation.change_mode({"voice_output": self.config.audio_output, "text_output": True})
        config = self.config
        assert self._base_reply is not None
        options = replace(
            self._base_reply,
            tools=config.tools,
            tool_choice=config.tool_choice,
            answer_speech=config.answers_speech,
            barge_in=config.interrupt_response,
        )
        if config.instructions:
            options = replace(options, system_prompt=config.instructions)
        self.conversation.update_reply(options)

    async def _dispatch(self, kind: str, body: Mapping[str, Any]) -> None:
        assert self.conversation is not None
        if kind == "input_audio_buffer.append":
            given = body.get("audio", "")
            if not isinstance(given, str):
                raise InvalidEvent("`audio` must be a base64 string", details={"param": "audio"})
            audio = decode_base64_audio(given, max_bytes=self.settings.max_ws_message_bytes)
            self.spend_audio(len(audio))
            await self.conversation.push_audio(audio)
            self._appended = self._appended or bool(audio)
        elif kind == "input_audio_buffer.commit":
            self._awaiting_final = self._awaiting_final or (
                self._appended and self.config.turn_detection is None
            )
            self._appended = False
            await self.conversation.end_audio()
        elif kind == "input_audio_buffer.clear":
            await self.conversation.clear_audio()
            self._user_item, self._appended = None, False
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
        elif kind == "response.create":  # its per-response overrides (`response.*`) are ignored
            await self._respond()
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
            await self.conversation.finish("session.update")
            self.conversation = None
            self.input_rate_hz, self._audio = config.input_rate_hz, None
            self._appended = self._awaiting_final = self._respond_when_heard = False
            await self._open()
        else:
            await self._apply_in_place()
        await self._emit("session.updated", session=self._session_object())

    async def _respond(self) -> None:
        """Answer the items created since the last response (tool outputs first), or from history."""
        assert self.conversation is not None
        if self._awaiting_final and not self.config.answers_speech:
            self._respond_when_heard = True  # the committed utterance is still being transcribed
            return
        pending = sorted(self._pending.items(), key=lambda entry: entry[1].role != "tool")
        self.responses.asked += [item_id for item_id, _ in pending]
        self._pending = {}
        await self.conversation.respond(tuple(message for _, message in pending))

    async def _create_item(self, item: Any) -> None:
        if not isinstance(item, Mapping):
            raise InvalidEvent("conversation.item.create needs an `item` object", details={"param": "item"})
        item_id = str(item.get("id") or new_id("item"))
        if item.get("type") == "function_call_output":
            call_id, output = function_output(item)
            await self.responses.add_item(function_output_item(item_id, call_id, output))
            self._pending[item_id] = ChatMessage("tool", output, tool_call_id=call_id)
            self.responses.items[item_id] = ItemRef("tool")
            return
        text = user_text(item)
        content = [{"type": "input_text", "text": text}]
        await self.responses.add_item(message_item(item_id, "user", content, "completed"))
        self._pending[item_id] = ChatMessage("user", text)
        self.responses.items[item_id] = ItemRef("user")

    async def _delete(self, body: Mapping[str, Any]) -> None:
        """Drop an item from the client's view and, once its turn is committed, from history."""
        item_id, item = find_item(self.responses.items, body)
        if item.held is not None:  # heard but not answered yet: it must not reach the next answer
            assert self.conversation is not None
            await self.conversation.withdraw(item.held)
            self.responses.asked.remove(item_id)
        elif self._pending.pop(item_id, None) is None:
            if item.role not in ("user", "assistant"):
                raise UnsupportedEvent(
                    "answered function_call items and their outputs cannot be deleted",
                    details={"param": "item_id"},
                )
            await self._rewrite(item, lambda _: None)
        del self.responses.items[item_id]
        await self._emit("conversation.item.deleted", item_id=item_id)

    async def _truncate(self, body: Mapping[str, Any]) -> None:
        """Keep in history only the words of the answer's audio the client played (`audio_end_ms`)."""
        item_id, item = find_item(self.responses.items, body)
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

    # -- pipeline frames → server events ------------------------------------------------------------

    async def _on_frame(self, frame: Frame) -> None:
        if self.session is not None:  # voxhub's own events too, for WS /api/v1/events and the webhooks
            publish_frame(self.state, frame, self.session.id)
        match frame:
            case SpeechStartedFrame(timestamp_ms=at):
                self._user_item, self._partial, self._partial_sent = new_id("item"), "", ""
                await self._emit(
                    "input_audio_buffer.speech_started", audio_start_ms=int(at), item_id=self._user_item
                )
            case SpeechStoppedFrame(timestamp_ms=at):
                self._user_item = self._user_item or new_id("item")
                await self._emit(
                    "input_audio_buffer.speech_stopped", audio_end_ms=int(at), item_id=self._user_item
                )
            case TranscriptFrame(is_final=False, text=text) if self._user_item is not None:
                stable = stable_words(self._partial, text)
                self._partial = text
                await self._transcript_delta(self._user_item, stable)
            case TranscriptFrame(is_final=True, text=text, turn_id=turn):
                await self._user_spoke(text, turn)
            case ErrorFrame(error=code, message=message):
                await self._send(error_event(message, code, event_id=None))
                await self._heard()  # a failed transcription ends the wait for it too
            case _:
                await self.responses.on_frame(frame)

    async def _transcript_delta(self, item_id: str, text: str) -> None:
        """Send what `text` adds to the transcript deltas sent so far, if it extends them."""
        delta = transcript_delta(self._partial_sent, text)
        if delta:
            self._partial_sent = text
            await self._emit(
                "conversation.item.input_audio_transcription.delta",
                item_id=item_id,
                content_index=0,
                delta=delta,
            )

    async def _user_spoke(self, text: str, turn_id: str) -> None:
        item_id, self._user_item = self._user_item or new_id("item"), None
        await self._transcript_delta(item_id, text)
        self._partial = self._partial_sent = ""
        if self.config.answers_speech:
            self.responses.items[item_id] = ItemRef("user", turn_id)
        else:  # held for the next `response.create`, whose turn it becomes part of
            self.responses.items[item_id] = ItemRef("user", held=text)
            self.responses.asked.append(item_id)
        await self._emit(
            "input_audio_buffer.committed", previous_item_id=self.responses.last_item, item_id=item_id
        )
        content = [{"type": "input_audio", "transcript": text}]
        await self.responses.add_item(message_item(item_id, "user", content, "completed"))
        await self._emit(
            "conversation.item.input_audio_transcription.completed",
            item_id=item_id,
            content_index=0,
            transcript=text,
        )
        await self._heard()

    async def _heard(self) -> None:
        """A committed utterance is transcribed: a `response.create` that waited for it goes ahead."""
        self._awaiting_final = False
        if self._respond_when_heard:
            self._respond_when_heard = False
            await self._respond()

    async def _emit(self, kind: str, **fields: Any) -> None:
        body = server_event(kind, self.beta, **fields)
        if body is not None:
            await self._send(body)

    async def _send(self, body: dict[str, Any]) -> None:
        await self.send_json(body)
