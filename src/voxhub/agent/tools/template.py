"""Template tools: a Jinja2 template, rendered in a sandbox with the call's arguments, is the answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Template, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from voxhub.agent.tools.base import ToolError, ToolKind, ToolResult
from voxhub.engines.llm.base import ToolSpec
from voxhub.errors import ConfigError


@cache
def sandboxed_environment() -> ImmutableSandboxedEnvironment:
    """The one environment every tool template renders in: no private attributes, no mutation, bounded ranges."""
    environment = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
    environment.globals["now"] = lambda: datetime.now().astimezone()
    environment.filters["from_json"] = json.loads
    return environment


def compile_template(source: str, *, what: str) -> Template:
    """Compile once at load time, so a typo fails at start-up with the tool's name on it."""
    try:
        return sandboxed_environment().from_string(source)
    except TemplateError as exc:
        raise ConfigError(f"{what}: invalid template: {exc}", details={"template": source[:500]}) from None


def render(template: Template, variables: Mapping[str, Any], *, tool: str) -> str:
    """Render in the sandbox; an unsafe operation or a broken template is a ToolError, never a crash."""
    try:
        return template.render(variables)
    except SecurityError as exc:
        raise ToolError(
            f"template of {tool!r} tried an unsafe operation: {exc}", details={"tool": tool}
        ) from None
    except TemplateError as exc:
        raise ToolError(f"template of {tool!r} failed: {exc}", details={"tool": tool}) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise ToolError(
            f"template of {tool!r} failed: {type(exc).__name__}: {exc}", details={"tool": tool}
        ) from None


class TemplateTool:
    """Answers with `template` rendered with the arguments (Extended OpenAI Conversation's `template` type)."""

    kind: ToolKind = "template"

    def __init__(self, spec: ToolSpec, template: str) -> None:
        self.spec = spec
        self.source = template
        self._template = compile_template(template, what=f"tool {spec.name!r}")

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        rendered = render(self._template, arguments, tool=self.spec.name).strip()
        return ToolResult(rendered, data=rendered)
