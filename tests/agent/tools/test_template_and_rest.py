"""Template and REST tools render sandboxed Jinja2 with the arguments; REST ones call a real local API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.agent.tools.local_http import serving
from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.rest import RestRequest, RestTool
from voxhub.agent.tools.template import TemplateTool
from voxhub.engines.llm.base import ToolSpec
from voxhub.errors import ConfigError

CITY = ToolSpec("weather", "Weather.", {"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[str]:
    async with serving() as base_url:
        yield base_url


async def test_a_template_tool_renders_its_arguments() -> None:
    tool = TemplateTool(CITY, "The temperature in {{ city }} is 25 {{ unit | default('degrees') }}.")

    assert (await tool.call({"city": "Lyon"})).content == "The temperature in Lyon is 25 degrees."


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ city.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% set x = [] %}{{ x.append(1) }}",
    ],
)
async def test_a_template_cannot_escape_its_sandbox(template: str) -> None:
    tool = TemplateTool(CITY, template)

    with pytest.raises(ToolError, match=r"unsafe operation|failed"):
        await tool.call({"city": "Lyon"})


def test_a_template_that_does_not_compile_fails_at_load_time() -> None:
    with pytest.raises(ConfigError, match="tool 'weather': invalid template"):
        TemplateTool(CITY, "{{ city ")


async def test_a_rest_tool_fills_the_url_and_returns_the_json(api: str) -> None:
    tool = RestTool(CITY, RestRequest(url=api + "/weather/{{ city }}", params={"unit": "f"}))

    result = await tool.call({"city": "Oslo"})

    assert json.loads(result.content) == {"city": "Oslo", "temperature": 21, "unit": "f"}


async def test_a_value_template_shapes_the_answer(api: str) -> None:
    request = RestRequest(
        url=api + "/weather/{{ city }}",
        value_template="{{ value_json.city }}: {{ value_json.temperature }} degrees",
    )

    assert (await RestTool(CITY, request).call({"city": "Oslo"})).content == "Oslo: 21 degrees"


async def test_a_rest_tool_posts_a_templated_json_body_with_headers(api: str) -> None:
    request = RestRequest(
        url=api + "/echo",
        method="POST",
        headers={"X-Token": "secret-{{ city | lower }}"},
        body='{"city": {{ city | tojson }}}',
    )

    echoed = (await RestTool(CITY, request).call({"city": "Oslo"})).data

    assert echoed == {
        "method": "POST",
        "content_type": "application/json",
        "token": "secret-oslo",
        "body": '{"city": "Oslo"}',
    }


async def test_a_long_text_answer_is_truncated(api: str) -> None:
    tool = RestTool(CITY, RestRequest(url=api + "/text"), max_response_chars=100)

    content = (await tool.call({})).content

    assert content == "word " * 20 + " …[truncated]"


async def test_an_http_error_is_a_tool_error_with_the_status(api: str) -> None:
    tool = RestTool(CITY, RestRequest(url=api + "/fails"))

    with pytest.raises(ToolError, match="answered 500 Internal Server Error: database on fire") as caught:
        await tool.call({})

    assert caught.value.details["status"] == 500


async def test_a_slow_api_times_out_as_a_tool_error(api: str) -> None:
    tool = RestTool(CITY, RestRequest(url=api + "/slow", timeout_secs=0.2))

    with pytest.raises(ToolError, match=r"timed out after 0\.2 s"):
        await tool.call({})


async def test_an_unreachable_api_is_a_tool_error() -> None:
    tool = RestTool(CITY, RestRequest(url="http://127.0.0.1:9/nothing"))

    with pytest.raises(ToolError, match="failed: ConnectError"):
        await tool.call({})
