"""REST tools: an HTTP request built from sandboxed Jinja2 templates; the response is the answer."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from voxhub.agent.tools.base import ToolError, ToolKind, ToolResult
from voxhub.agent.tools.template import compile_template, render
from voxhub.engines.llm.base import ToolSpec

logger = logging.getLogger(__name__)

MAX_RESPONSE_CHARS = 4000  # what the LLM reads back; a whole web page would swamp a small model's context


@dataclass(frozen=True, slots=True)
class RestRequest:
    """The request, every string a Jinja2 template over the call's arguments."""

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    value_template: str | None = None  # renders the answer from `value` (text) and `value_json` (parsed)
    timeout_secs: float = 10.0
    verify_ssl: bool = True
    basic_auth: tuple[str, str] | None = None


class RestTool:
    """Calls an HTTP API. A shared `client` reuses connections (its owner closes it); not with `verify_ssl` off."""

    kind: ToolKind = "rest"

    def __init__(
        self,
        spec: ToolSpec,
        request: RestRequest,
        *,
        client: httpx.AsyncClient | None = None,
        max_response_chars: int = MAX_RESPONSE_CHARS,
    ) -> None:
        self.spec = spec
        self.request = request
        self.max_response_chars = max_response_chars
        self._client = client
        what = f"tool {spec.name!r}"
        self._url = compile_template(request.url, what=f"{what} url")
        self._headers = {
            k: compile_template(v, what=f"{what} header {k}") for k, v in request.headers.items()
        }
        self._params = {k: compile_template(v, what=f"{what} param {k}") for k, v in request.params.items()}
        self._body = None if request.body is None else compile_template(request.body, what=f"{what} body")
        self._value = (
            None
            if request.value_template is None
            else compile_template(request.value_template, what=f"{what} value_template")
        )

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        name = self.spec.name
        url = render(self._url, arguments, tool=name).strip()
        headers = {key: render(value, arguments, tool=name) for key, value in self._headers.items()}
        params = {key: render(value, arguments, tool=name) for key, value in self._params.items()}
        body = None if self._body is None else render(self._body, arguments, tool=name)
        if body is not None and not any(key.lower() == "content-type" for key in headers):
            headers["Content-Type"] = "application/json" if _is_json(body) else "text/plain; charset=utf-8"
        method = self.request.method.upper()
        response = await self._send(method, url, headers=headers, params=params, body=body)
        if response.is_error:
            raise ToolError(
                f"{method} {_shown(url)} answered {response.status_code} {response.reason_phrase}: "
                f"{response.text[:300]}",
                details={"tool": name, "status": response.status_code},
            )
        text = response.text
        parsed = _parsed_json(response)
        if self._value is not None:
            variables = {**arguments, "value": text, "value_json": parsed}
            content = render(self._value, variables, tool=name).strip()
        elif parsed is not None:
            content = json.dumps(parsed, ensure_ascii=False)
        else:
            content = text
        if len(content) > self.max_response_chars:
            content = content[: self.max_response_chars] + " …[truncated]"
        return ToolResult(content, data=parsed if parsed is not None else text)

    async def _send(
        self, method: str, url: str, *, headers: dict[str, str], params: dict[str, str], body: str | None
    ) -> httpx.Response:
        request = self.request
        options: dict[str, Any] = {"headers": headers, "params": params or None, "content": body}
        if request.basic_auth is not None:
            options["auth"] = httpx.BasicAuth(*request.basic_auth)
        try:
            if self._client is not None and request.verify_ssl:
                return await self._client.request(method, url, timeout=request.timeout_secs, **options)
            async with httpx.AsyncClient(verify=request.verify_ssl, timeout=request.timeout_secs) as client:
                return await client.request(method, url, **options)
        except httpx.TimeoutException:
            raise ToolError(
                f"{method} {_shown(url)} timed out after {request.timeout_secs:g} s",
                spoken="Sorry, that service took too long.",
                details={"tool": self.spec.name},
            ) from None
        except (httpx.HTTPError, ValueError) as exc:  # ValueError: a URL httpx cannot use
            raise ToolError(
                f"{method} {_shown(url)} failed: {type(exc).__name__}: {exc}",
                spoken="Sorry, I couldn't reach that service.",
                details={"tool": self.spec.name},
            ) from None


def _is_json(body: str) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _parsed_json(response: httpx.Response) -> Any:
    looks_like_json = response.text.lstrip()[:1] in ("{", "[")
    if "json" not in response.headers.get("content-type", "") and not looks_like_json:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _shown(url: str) -> str:
    """The URL for messages, without its query string (which may carry keys)."""
    return url.split("?", 1)[0]
