"""An OpenAI-compatible service that fails is named to the client by what it is, never by its address."""

from __future__ import annotations

import openai
import pytest

from voxhub.engines.openai_service import make_client, service_errors
from voxhub.errors import EngineError


async def test_a_refused_connection_names_the_service_but_not_its_port() -> None:
    client = make_client("http://127.0.0.1:9/v1", None, 2.0, loopback=True)

    with (
        pytest.raises(EngineError) as raised,
        service_errors("the local LLM server", "http://127.0.0.1:9/v1", None),
    ):
        await client.models.list()
    await client.close()

    assert raised.value.message.startswith("connection to the local LLM server failed")
    assert "127.0.0.1" not in raised.value.message
    assert ":9" not in raised.value.message


def test_an_upstream_error_that_quotes_an_address_is_told_without_it() -> None:
    upstream = openai.OpenAIError("proxy error: could not reach http://10.0.0.7:8080/v1/chat")

    with pytest.raises(EngineError) as raised, service_errors("the LLM", "http://10.0.0.7:8080/v1", None):
        raise upstream

    assert raised.value.message == "the LLM failed: proxy error: could not reach <address>"
