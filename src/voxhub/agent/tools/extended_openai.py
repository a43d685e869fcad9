"""Import an Extended OpenAI Conversation functions file (jekalmin/extended_openai_conversation).

The file is a YAML list of `{spec: {name, description, parameters}, function: {type, ...}}`. Supported types:

- `template`: `value_template` rendered with the arguments (a sandboxed Jinja2 template here; Home Assistant's
  own template functions such as `states()` are not available; `now()` is).
- `rest`: `resource` or `resource_template`, `method`, `headers`, `params`, `payload` or `payload_template`,
  `value_template` (with `value` and `value_json`), `timeout`, `verify_ssl`, `username`/`password`.
- `native`: built by a factory the caller supplies per name (`execute_service`, `execute_services`,
  `get_history`, ...); a name without a factory is skipped.
- `script`: built by the caller's script factory (it runs the `sequence` in Home Assistant); skipped without one.

Other types (`scrape`, `composite`, `sqlite`) are skipped. Every skip is listed with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from voxhub.agent.tools.base import Tool
from voxhub.agent.tools.rest import RestRequest, RestTool
from voxhub.agent.tools.template import TemplateTool
from voxhub.engines.llm.base import ToolSpec
from voxhub.errors import ConfigError, VoxhubError

logger = logging.getLogger(__name__)

ToolFactory = Callable[[ToolSpec, Mapping[str, Any]], Tool]
"""Builds a tool from the file's spec and the entry's `function` mapping."""


@dataclass(frozen=True, slots=True)
class SkippedFunction:
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class FunctionsImport:
    """What an import made: the tools, and each function left out with why."""

    tools: tuple[Tool, ...]
    skipped: tuple[SkippedFunction, ...]
    source: str = ""

    @property
    def summary(self) -> str:
        made = ", ".join(tool.spec.name for tool in self.tools) or "none"
        lines = [f"imported {len(self.tools)} functions from {self.source or 'the file'}: {made}"]
        lines += [f"skipped {item.name}: {item.reason}" for item in self.skipped]
        return "\n".join(lines)


def load_functions_file(
    path: Path,
    *,
    native_factories: Mapping[str, ToolFactory] | None = None,
    script_factory: ToolFactory | None = None,
    http_client: httpx.AsyncClient | None = None,
    rest_timeout_secs: float = 10.0,
) -> FunctionsImport:
    """Read and import a functions file; a missing or unreadable file is a ConfigError."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"functions file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"functions file {path} is not valid YAML: {exc}") from None
    return import_functions(
        document,
        native_factories=native_factories,
        script_factory=script_factory,
        http_client=http_client,
        rest_timeout_secs=rest_timeout_secs,
        source=str(path),
    )


def import_functions(
    document: Any,
    *,
    native_factories: Mapping[str, ToolFactory] | None = None,
    script_factory: ToolFactory | None = None,
    http_client: httpx.AsyncClient | None = None,
    rest_timeout_secs: float = 10.0,
    source: str = "",
) -> FunctionsImport:
    """Turn the parsed YAML into tools; a bad entry is skipped with its reason, never fatal."""
    if document is None:
        document = []
    if not isinstance(document, list):
        raise ConfigError(
            f"functions file {source}: expected a list of functions, got {type(document).__name__}"
        )
    builder = _Builder(dict(native_factories or {}), script_factory, http_client, rest_timeout_secs)
    tools: list[Tool] = []
    skipped: list[SkippedFunction] = []
    names: set[str] = set()
    for index, entry in enumerate(document):
        name = _name_of(entry) or f"#{index + 1}"
        try:
            tool = builder.build(entry)
        except _Skip as skip:
            skipped.append(SkippedFunction(name, str(skip)))
            continue
        except VoxhubError as exc:  # e.g. a template that does not compile
            skipped.append(SkippedFunction(name, exc.message))
            continue
        if tool.spec.name in names:
            skipped.append(SkippedFunction(name, "another function has the same name"))
            continue
        names.add(tool.spec.name)
        tools.append(tool)
    result = FunctionsImport(tuple(tools), tuple(skipped), source)
    for item in skipped:
        logger.warning("functions file %s: skipped %s: %s", source, item.name, item.reason)
    return result


class _Skip(Exception):
    """This entry cannot become a tool here; the message says why."""


def _name_of(entry: Any) -> str | None:
    if isinstance(entry, Mapping) and isinstance(entry.get("spec"), Mapping):
        name = entry["spec"].get("name")
        return str(name) if name else None
    return None


@dataclass(frozen=True, slots=True)
class _Builder:
    native_factories: dict[str, ToolFactory]
    script_factory: ToolFactory | None
    http_client: httpx.AsyncClient | None
    rest_timeout_secs: float

    def build(self, entry: Any) -> Tool:
        if not isinstance(entry, Mapping):
            raise _Skip("an entry must be a mapping with `spec` and `function`")
        spec = _spec(entry.get("spec"))
        function = entry.get("function")
        if not isinstance(function, Mapping) or not function.get("type"):
            raise _Skip("`function` must be a mapping with a `type`")
        kind = str(function["type"])
        if kind == "template":
            if not function.get("value_template"):
                raise _Skip("a template function needs `value_template`")
            return TemplateTool(spec, str(function["value_template"]))
        if kind == "rest":
            return RestTool(spec, self._rest_request(function), client=self.http_client)
        if kind == "native":
            native = str(function.get("name") or "")
            factory = self.native_factories.get(native)
            if factory is None:
                available = ", ".join(sorted(self.native_factories)) or "none"
                raise _Skip(f"native function {native!r} is not available here (available: {available})")
            return factory(spec, function)
        if kind == "script":
            if self.script_factory is None:
                raise _Skip("script functions need Home Assistant (set homeassistant_url)")
            return self.script_factory(spec, function)
        raise _Skip(f"function type {kind!r} is not supported (supported: template, rest, native, script)")

    def _rest_request(self, function: Mapping[str, Any]) -> RestRequest:
        url = function.get("resource_template") or function.get("resource")
        if not url:
            raise _Skip("a rest function needs `resource` or `resource_template`")
        body = function.get("payload_template", function.get("payload"))
        username, password = function.get("username"), function.get("password")
        return RestRequest(
            url=str(url),
            method=str(function.get("method", "GET")).upper(),
            headers={str(k): str(v) for k, v in (function.get("headers") or {}).items()},
            params={str(k): str(v) for k, v in (function.get("params") or {}).items()},
            body=None if body is None else str(body),
            value_template=function.get("value_template"),
            timeout_secs=float(function.get("timeout", self.rest_timeout_secs)),
            verify_ssl=bool(function.get("verify_ssl", True)),
            basic_auth=(str(username), str(password)) if username and password else None,
        )


def _spec(raw: Any) -> ToolSpec:
    if not isinstance(raw, Mapping) or not raw.get("name"):
        raise _Skip("`spec` must be a mapping with a `name`")
    parameters = raw.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, Mapping):
        raise _Skip("`spec.parameters` must be a JSON schema object")
    return ToolSpec(str(raw["name"]), str(raw.get("description") or raw["name"]), dict(parameters))
