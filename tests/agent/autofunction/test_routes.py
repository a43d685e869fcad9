"""The HTTP API: create a tool from a description, review it, approve it as admin, disable, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from tests.agent.autofunction.conftest import CELSIUS_TOOL, script_tool
from tests.api.error_shape import assert_error
from tests.doubles.openai_server import OpenAiDouble
from voxhub.agent.autofunction.sandbox import Sandbox
from voxhub.agent.autofunction.service import AutoFunctionService
from voxhub.agent.tools.registry import ToolRegistry
from voxhub.api.errors import install_error_handlers
from voxhub.api.routes.autofunctions import router
from voxhub.config import Settings
from voxhub.engines.llm.openai import OpenAiLlm

Client = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def api(settings: Settings, llm: OpenAiLlm, double: OpenAiDouble, sandbox: Sandbox) -> Client:
    """`async with api(auth_token=...) as client:` an app with just these routes and the error handlers."""
    script_tool(double, CELSIUS_TOOL)

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        configured = settings.model_copy(update=overrides)
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(router)

        async def engine() -> OpenAiLlm:  # as an engine pool hands it out
            return llm

        service = AutoFunctionService(configured, engine, ToolRegistry(), sandbox=sandbox)
        app.state.voxhub = SimpleNamespace(settings=configured, autofunctions=service)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://voxhub.test") as client:
            yield client

    return start


async def test_creating_answers_the_pending_definition_with_its_test_report(api: Client) -> None:
    async with api() as client:
        response = await client.post("/api/v1/autofunctions", json={"description": "Celsius to Fahrenheit"})
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["name"], body["tests_passed"]) == ("pending", "celsius_to_fahrenheit", True)
    assert body["test_report"]["tests"]["ran"] == 1


async def test_rejected_code_answers_422_with_the_violations(api: Client, double: OpenAiDouble) -> None:
    script_tool(
        double,
        {**CELSIUS_TOOL, "source": "import socket\n\ndef celsius_to_fahrenheit(celsius):\n    return 1\n"},
    )
    async with api() as client:
        response = await client.post("/api/v1/autofunctions", json={"description": "anything"})
        listed = await client.get("/api/v1/autofunctions")
    assert_error(response, 422, "autofunction_rejected")
    assert response.json()["details"]["violations"][0]["line"] == 1
    assert listed.json() == {"autofunctions": []}


async def test_an_empty_description_answers_422(api: Client) -> None:
    async with api() as client:
        response = await client.post("/api/v1/autofunctions", json={"description": ""})
    assert_error(response, 422, "validation_error")


async def test_the_whole_lifecycle_over_http(api: Client) -> None:
    async with api() as client:
        created = (await client.post("/api/v1/autofunctions", json={"description": "C to F"})).json()
        path = f"/api/v1/autofunctions/{created['id']}"
        assert (await client.get("/api/v1/autofunctions")).json()["autofunctions"][0]["id"] == created["id"]
        assert (await client.post(f"{path}/approve")).json()["status"] == "approved"
        assert (await client.post(f"{path}/disable")).json()["status"] == "disabled"
        assert (await client.get(path)).json()["status"] == "disabled"
        assert (await client.delete(path)).status_code == 204
        gone = await client.get(path)
    assert_error(gone, 404, "autofunction_not_found")


async def test_approving_needs_the_token_when_one_is_configured(api: Client) -> None:
    async with api(auth_token=SecretStr("s3cret")) as client:
        created = (await client.post("/api/v1/autofunctions", json={"description": "C to F"})).json()
        path = f"/api/v1/autofunctions/{created['id']}/approve"
        refused = await client.post(path)
        accepted = await client.post(path, headers={"Authorization": "Bearer s3cret"})
    assert_error(refused, 401, "unauthorized")
    assert accepted.json()["status"] == "approved"


async def test_an_unknown_id_answers_404(api: Client) -> None:
    async with api() as client:
        response = await client.get("/api/v1/autofunctions/../../etc/passwd")
        missing = await client.post("/api/v1/autofunctions/af_000000000000/approve")
    assert response.status_code == 404
    assert_error(missing, 404, "autofunction_not_found")
