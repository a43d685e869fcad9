"""Realtime responses: each pipeline turn's answer as a response with its message and function_call items."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from voxhub.audio.base64_payload import encode_base64_audio
from voxhub.audio.resample import StreamResampler
from voxhub.engines.llm.base import ToolCall
from voxhub.pipeline.frames import (
    AudioOutEndFrame,
    AudioOutFrame,
    AudioStartFrame,
    Frame,
    InterruptFrame,
    ResponseDeltaFrame,
    ResponseFrame,
    ToolCallsFrame,
)
from voxhub.protocols.realtime_events import (
    REALTIME_RATE_HZ,
    function_call_item,
    message_item,
    new_id,
)
from voxhub.protocols.realtime_history import BYTES_PER_MS, ItemRef

Emit = Callable[..., Awaitable[None]]


@dataclass
class _Response:
    """One assistant answer (a pipeline turn): its message item appears once text or audio does."""

    id: str
    turn_id: str
    output: list[dict[str, Any]] = field(default_factory=list)  # finished items, in output order
    outputs: int = 0  # output items announced so far
    item_id: str | None = None  # the message item
    message_index: int = 0
    resampler: StreamResampler | None = None
    text: list[str] = field(default_factory=list)


class RealtimeResponses:
    """Turns the pipeline's answer frames into response and item events, keeping the client's item list."""

    def __init__(self, emit: Emit, *, beta: bool, audio_output: Callable[[], bool]) -> None:
        self._emit = emit
        self._beta = beta
        self._audio_output = audio_output
        self.items: dict[str, ItemRef] = {}  # the conversation as the client sees it
        self.last_item: str | None = None
        self.asked: list[str] = []  # items handed to the pipeline, until the turn answering them starts
        self._responses: dict[str, _Response] = {}  # turn id → its response

    async def add_item(self, item: dict[str, Any]) -> None:
        """A whole item joins the conversation: `conversation.item.added`, then `done`."""
        await self._emit("conversation.item.added", previous_item_id=self.last_item, item=item)
        await self._emit("conversation.item.done", previous_item_id=self.last_item, item=item)
        self.last_item = item["id"]

    async def on_frame(self, frame: Frame) -> None:
        match frame:
            case ResponseDeltaFrame(text=text, turn_id=turn):
                response = await self._response(turn)
                response.text.append(text)
                kind = (
                    "response.output_audio_transcript.delta"
                    if self._audio_output()
                    else "response.output_text.delta"
                )
                await self._emit(kind, **await self._where(response), delta=text)
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
            case ToolCallsFrame(calls=calls, turn_id=turn):
                response = await self._response(turn)
                for call in calls:
                    await self._function_call(response, call)
            case ResponseFrame(text=text, turn_id=turn):
                await self._finish(await self._response(turn), "completed", text)
                self._responses.pop(turn, None)
            case InterruptFrame(turn_id=turn) if turn in self._responses:
                response = self._responses.pop(turn)
                await self._finish(response, "cancelled", "".join(response.text).strip())

    async def _response(self, turn_id: str) -> _Response:
        """The response of `turn_id`, announced with `response.created` on first use."""
        if turn_id in self._responses:
            return self._responses[turn_id]
        response = self._responses[turn_id] = _Response(new_id("resp"), turn_id)
        for item_id in self.asked:  # the items this turn answers are this turn's
            if item_id in self.items:
                self.items[item_id].turn_id = turn_id
                self.items[item_id].held = None
        self.asked = []
        await self._emit("response.created", response=self._response_object(response, "in_progress"))
        return response

    async def _where(self, response: _Response) -> dict[str, Any]:
        """Where text and audio go: the message item, announced on first use."""
        if response.item_id is None:
            response.item_id = new_id("item")
            response.message_index = response.outputs
            response.outputs += 1
            self.items[response.item_id] = ItemRef("assistant", response.turn_id)
            item = message_item(response.item_id, "assistant", [], "in_progress")
            await self._announce(response, response.message_index, item)
        return {
            "response_id": response.id,
            "item_id": response.item_id,
            "output_index": response.message_index,
            "content_index": 0,
        }

    async def _announce(self, response: _Response, index: int, item: dict[str, Any]) -> None:
        await self._emit("response.output_item.added", response_id=response.id, output_index=index, item=item)
        await self._emit("conversation.item.added", previous_item_id=self.last_item, item=item)
        self.last_item = item["id"]

    async def _audio(self, response: _Response, pcm: bytes) -> None:
        if pcm:
            where = await self._where(response)
            self.items[where["item_id"]].audio_ms += len(pcm) / BYTES_PER_MS
            await self._emit("response.output_audio.delta", **where, delta=encode_base64_audio(pcm))

    async def _function_call(self, response: _Response, call: ToolCall) -> None:
        """A call of one of the client's functions, as a whole function_call item."""
        item_id, index = new_id("item"), response.outputs
        response.outputs += 1
        self.items[item_id] = ItemRef("function_call", response.turn_id)
        await self._announce(
            response, index, function_call_item(item_id, call.id, call.name, "", "in_progress")
        )
        where = {"response_id": response.id, "item_id": item_id, "output_index": index, "call_id": call.id}
        await self._emit("response.function_call_arguments.delta", **where, delta=call.arguments_json)
        await self._emit(
            "response.function_call_arguments.done", **where, name=call.name, arguments=call.arguments_json
        )
        item = function_call_item(item_id, call.id, call.name, call.arguments_json, "completed")
        await self._emit("response.output_item.done", response_id=response.id, output_index=index, item=item)
        await self._emit("conversation.item.done", previous_item_id=None, item=item)
        response.output.append(item)

    async def _finish(self, response: _Response, status: str, text: str) -> None:
        if response.item_id is not None:
            where = await self._where(response)
            if self._audio_output():
                await self._emit("response.output_audio.done", **where)
                await self._emit("response.output_audio_transcript.done", **where, transcript=text)
                part = {"type": "output_audio", "transcript": text}
            else:
                await self._emit("response.output_text.done", **where, text=text)
                part = {"type": "output_text", "text": text}
            done = "completed" if status == "completed" else "incomplete"
            item = message_item(response.item_id, "assistant", [part], done)
            await self._emit(
                "response.output_item.done",
                response_id=response.id,
                output_index=where["output_index"],
                item=item,
            )
            await self._emit("conversation.item.done", previous_item_id=None, item=item)
            response.output.insert(response.message_index, item)
        await self._emit("response.done", response=self._response_object(response, status))

    def _response_object(self, response: _Response, status: str) -> dict[str, Any]:
        modalities = ["audio"] if self._audio_output() else ["text"]
        return {
            "id": response.id,
            "object": "realtime.response",
            "status": status,
            "modalities" if self._beta else "output_modalities": modalities,
            "output": list(response.output) if status != "in_progress" else [],
        }
