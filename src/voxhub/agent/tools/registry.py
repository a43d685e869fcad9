"""The tool registry: looks tools up by name, checks arguments against their schema, and never lets one crash a turn."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import exceptions as schema_errors
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from voxhub.agent.tools.base import Tool, ToolArgumentsError, ToolError, ToolNotFound, ToolResult
from voxhub.engines.llm.base import ToolCall, ToolSpec
from voxhub.errors import ConfigError, VoxhubError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECS = 10.0


class ToolConflict(VoxhubError):
    """A tool with that name is already registered."""

    code = "tool_conflict"
    status_code = 409


@dataclass(frozen=True, slots=True)
class _Entry:
    tool: Tool
    validator: Validator


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """One call of a turn: the result, or the error the LLM and the user are told about instead."""

    call: ToolCall
    result: ToolResult | None = None
    error: ToolError | None = None
    elapsed_secs: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def content(self) -> str:
        """What goes back to the LLM as the `tool` message."""
        if self.result is not None:
            return self.result.content
        return json.dumps({"error": str(self.error)}, ensure_ascii=False)


class ToolRegistry:
    """Every tool the assistant may call, by name; tools may come and go while calls run."""

    def __init__(self, *, timeout_secs: float = DEFAULT_TIMEOUT_SECS) -> None:
        self.timeout_secs = timeout_secs
        # Replaced, never mutated: a call or a `specs()` in progress keeps a consistent view.
        self._entries: dict[str, _Entry] = {}
        self._closers: list[Callable[[], Awaitable[None]]] = []

    def register(self, tool: Tool, *, replace: bool = False) -> None:
        """Add a tool; its parameter schema is checked now, so a bad one fails at start-up, not mid-turn."""
        name = tool.spec.name
        if name in self._entries and not replace:
            raise ToolConflict(f"a tool named {name!r} is already registered", details={"tool": name})
        schema = dict(tool.spec.parameters)
        validator_class = validator_for(schema)
        try:
            validator_class.check_schema(schema)
        except schema_errors.SchemaError as exc:
            raise ConfigError(
                f"tool {name!r} has an invalid parameter schema: {exc.message}", details={"tool": name}
            ) from None
        self._entries = {**self._entries, name: _Entry(tool, validator_class(_strict(schema)))}

    def unregister(self, name: str) -> Tool:
        """Remove a tool; calls already running finish."""
        entries = dict(self._entries)
        entry = entries.pop(name, None)
        if entry is None:
            raise ToolNotFound(f"no tool named {name!r}", details={"tool": name})
        self._entries = entries
        return entry.tool

    def get(self, name: str) -> Tool:
        entry = self._entries.get(name)
        if entry is None:
            raise ToolNotFound(f"no tool named {name!r}", details={"tool": name})
        return entry.tool

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def specs(self) -> tuple[ToolSpec, ...]:
        """What the LLM is offered."""
        return tuple(entry.tool.spec for entry in self._entries.values())

    async def call(
        self, name: str, arguments: str | Mapping[str, Any], *, timeout_secs: float | None = None
    ) -> ToolResult:
        """Check the arguments and run the tool; every failure comes out as a ToolError."""
        entry = self._entries.get(name)
        if entry is None:
            missing = ToolError(
                f"no tool named {name!r}",
                spoken="Sorry, I don't know how to do that.",
                details={"tool": name, "known": sorted(self._entries)},
            )
            _log_failure(name, arguments, missing)
            raise missing
        try:
            return await self._call(name, entry, arguments, timeout_secs)
        except ToolError as exc:
            _log_failure(name, arguments, exc)
            raise

    async def _call(
        self, name: str, entry: _Entry, arguments: str | Mapping[str, Any], timeout_secs: float | None
    ) -> ToolResult:
        checked = _checked_arguments(name, entry.validator, arguments)
        limit = self.timeout_secs if timeout_secs is None else timeout_secs
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                return await entry.tool.call(checked)
        except ToolError as exc:
            exc.details.setdefault("tool", name)
            raise
        except TimeoutError:
            if not deadline.expired():
                raise _unexpected(name, TimeoutError("the tool timed out")) from None
            raise ToolError(
                f"tool {name!r} took longer than {limit:g} s",
                spoken="Sorry, that took too long.",
                details={"tool": name, "timeout_secs": limit},
            ) from None
        except (
            VoxhubError
        ) as exc:  # a typed failure from below (e.g. Home Assistant said no): its message is clear
            raise ToolError(str(exc), details={"tool": name, "code": exc.code, **exc.details}) from exc
        except Exception as exc:
            raise _unexpected(name, exc) from exc

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run `closer` at `aclose()` (MCP connections, HTTP clients, timers), last added first."""
        self._closers.append(closer)

    async def aclose(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            try:
                await closer()
            except Exception:
                logger.exception("closing a tool source failed")


def _unexpected(name: str, exc: BaseException) -> ToolError:
    logger.exception("tool %s failed", name, exc_info=exc, extra={"tool": name})
    return ToolError(
        f"tool {name!r} failed: {type(exc).__name__}: {exc}",
        details={"tool": name, "type": type(exc).__name__},
    )


def _checked_arguments(name: str, validator: Validator, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise ToolArgumentsError(
                f"arguments for {name!r} are not valid JSON: {exc.msg} at position {exc.pos}",
                spoken="Sorry, I got confused about the details.",
                details={"tool": name, "arguments": arguments[:500]},
            ) from None
    else:
        parsed = dict(arguments)
    if not isinstance(parsed, dict):
        raise ToolArgumentsError(
            f"arguments for {name!r} must be a JSON object, not {type(parsed).__name__}",
            spoken="Sorry, I got confused about the details.",
            details={"tool": name},
        )
    schema = validator.schema if isinstance(validator.schema, Mapping) else {}
    unknown = _unknown_arguments(schema, parsed)
    errors = [
        error
        for error in validator.iter_errors(parsed)
        if not (unknown and error.validator == "additionalProperties" and not error.absolute_path)
    ]
    error = schema_errors.best_match(errors)
    if unknown or error is not None:
        problems = [_unknown_message(schema, unknown)] if unknown else []
        field = _field_of(error) if error is not None else unknown[0]
        if error is not None:
            problems.append(f"{field}: {error.message}")
        raise ToolArgumentsError(
            f"invalid arguments for {name!r}: {'; '.join(problems)}",
            spoken="Sorry, I got confused about the details.",
            details={"tool": name, "field": field, **({"unknown": unknown} if unknown else {})},
        )
    return parsed


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema arguments are checked against: a tool that names its arguments takes only those, unless it
    says otherwise (`additionalProperties`). A tool that names none, and nested objects (a service's data),
    stay as open as they are."""
    if schema.get("type") == "object" and schema.get("properties") and "additionalProperties" not in schema:
        return {**schema, "additionalProperties": False}
    return schema


def _unknown_arguments(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> list[str]:
    if schema.get("additionalProperties", True) is not False:
        return []
    known = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    return [key for key in arguments if key not in known and not patterns]


def _unknown_message(schema: Mapping[str, Any], unknown: list[str]) -> str:
    """Which arguments are not the tool's, and what it takes, so the LLM can call it again correctly."""
    known = list(schema.get("properties") or {})
    said = ", ".join(repr(key) for key in unknown)
    message = (
        f"unknown argument{'s' if len(unknown) > 1 else ''} {said}; it takes: {', '.join(known) or 'none'}"
    )
    nests = [
        key
        for key, spec in (schema.get("properties") or {}).items()
        if isinstance(spec, Mapping) and any(u in (spec.get("properties") or {}) for u in unknown)
    ]
    if nests:  # a top-level entity_id beside service_data: say where it goes
        message += f" ({said} goes inside {nests[0]!r})"
    return message


def _log_failure(name: str, arguments: str | Mapping[str, Any], error: ToolError) -> None:
    """Every failed call, with what it was asked and what the far end answered, for the operator."""
    shown = arguments if isinstance(arguments, str) else json.dumps(dict(arguments), default=str)
    upstream = error.details.get("status")
    logger.warning(
        "tool %s failed (%s%s): %s; arguments: %s",
        name,
        error.code,
        f", upstream status {upstream}" if upstream is not None else "",
        error.message,
        shown[:1000],
        extra={
            "tool": name,
            "arguments": shown[:1000],
            "error": error.code,
            "upstream_status": upstream,
        },
    )


def _field_of(error: schema_errors.ValidationError) -> str:
    """The argument at fault, as a dotted path (`list.0.domain`); a missing one is named too."""
    path = [str(part) for part in error.absolute_path]
    required = error.validator_value
    if error.validator == "required" and isinstance(error.instance, Mapping) and isinstance(required, list):
        missing = [key for key in required if key not in error.instance]
        path.extend(missing[:1])
    return ".".join(path) or "(arguments)"


async def run_tool_calls(
    registry: ToolRegistry,
    calls: Sequence[ToolCall],
    *,
    max_calls: int,
    timeout_secs: float | None = None,
) -> list[ToolOutcome]:
    """Run one turn's calls in order (their effects may depend on it); calls past `max_calls` are refused."""
    outcomes: list[ToolOutcome] = []
    for index, call in enumerate(calls):
        if index >= max_calls:
            error = ToolError(
                f"too many tool calls in one turn: at most {max_calls}; {call.name!r} was not run",
                details={"tool": call.name, "max_calls": max_calls},
            )
            outcomes.append(ToolOutcome(call, error=error))
            continue
        started = time.perf_counter()
        try:
            result = await registry.call(call.name, call.arguments_json, timeout_secs=timeout_secs)
        except ToolError as exc:
            outcomes.append(ToolOutcome(call, error=exc, elapsed_secs=time.perf_counter() - started))
        else:
            outcomes.append(ToolOutcome(call, result=result, elapsed_secs=time.perf_counter() - started))
    return outcomes
