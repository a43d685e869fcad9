"""A small client for Home Assistant's REST API, with failures turned into errors the user can hear."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx

from voxhub.agent.tools.base import ToolError
from voxhub.config import Settings

_SLUG = re.compile(r"^[a-z0-9_]+$")
_ENTITY_ID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")


class HomeAssistantUnavailable(ToolError):
    """Home Assistant did not answer: refused connection, timeout, or a server error."""

    code = "homeassistant_unavailable"
    status_code = 503

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, spoken="I can't reach Home Assistant right now.", details=details)


class HomeAssistantAuthError(ToolError):
    """Home Assistant answered 401/403: the token is wrong, expired or revoked."""

    code = "homeassistant_auth_failed"
    status_code = 502

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, spoken="Home Assistant refused my token.", details=details)


class UnknownEntityError(ToolError):
    """No entity has this id (or, from the offline agent, this name)."""

    code = "unknown_entity"
    status_code = 404

    def __init__(self, name: str, *, details: dict[str, Any] | None = None) -> None:
        spoken_name = name.partition(".")[2].replace("_", " ") if _ENTITY_ID.match(name) else name
        super().__init__(
            f"Home Assistant has no entity {name!r}",
            spoken=f"I don't know a device called {spoken_name}.",
            details={"entity": name, **(details or {})},
        )
        self.name = name


class HomeAssistantRequestError(ToolError):
    """Home Assistant rejected a request (unknown service, bad service data, bad template)."""

    code = "homeassistant_request_failed"
    status_code = 502

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, spoken="Home Assistant couldn't do that.", details=details)


@dataclass(frozen=True, slots=True)
class EntityState:
    """One entity as `GET /api/states` reports it."""

    entity_id: str
    state: str
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.entity_id.partition(".")[0]

    @property
    def name(self) -> str:
        """The friendly name, else the object id with spaces (`light.hall_lamp` → "hall lamp")."""
        friendly = self.attributes.get("friendly_name")
        if isinstance(friendly, str) and friendly.strip():
            return friendly.strip()
        return self.entity_id.partition(".")[2].replace("_", " ")

    @property
    def aliases(self) -> tuple[str, ...]:
        """Other names: the object id spoken aloud, when it differs from the friendly name."""
        spoken_id = self.entity_id.partition(".")[2].replace("_", " ")
        return () if spoken_id.casefold() == self.name.casefold() else (spoken_id,)

    def as_dict(self) -> dict[str, Any]:
        return {"entity_id": self.entity_id, "state": self.state, "attributes": dict(self.attributes)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntityState:
        return cls(str(data["entity_id"]), str(data.get("state", "")), dict(data.get("attributes") or {}))


def check_entity_id(entity_id: str) -> str:
    """`entity_id` if it has the `domain.object_id` shape, else an UnknownEntityError."""
    if not _ENTITY_ID.match(entity_id):
        raise UnknownEntityError(entity_id, details={"reason": "not a domain.object_id entity id"})
    return entity_id


class HomeAssistantClient:
    """Calls Home Assistant's REST API with a long-lived access token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_secs: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_secs = timeout_secs
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=timeout_secs,
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> HomeAssistantClient | None:
        """A client when `homeassistant_url` is set, else None."""
        if not settings.homeassistant_url:
            return None
        token = settings.homeassistant_token.get_secret_value() if settings.homeassistant_token else ""
        return cls(settings.homeassistant_url, token, timeout_secs=settings.homeassistant_timeout_secs)

    @property
    def websocket_url(self) -> str:
        """Home Assistant's WebSocket API beside its REST API (`ws://host:8123/api/websocket`)."""
        scheme, _, rest = self.base_url.partition("://")
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/api/websocket"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def check(self) -> str:
        """Home Assistant's greeting ("API running."): proves the URL and token work."""
        body = await self._request("GET", "/api/")
        return str(body.get("message", "")) if isinstance(body, dict) else str(body)

    async def states(self) -> list[EntityState]:
        body = await self._request("GET", "/api/states")
        return [EntityState.from_json(item) for item in body]

    async def state(self, entity_id: str) -> EntityState:
        check_entity_id(entity_id)
        body = await self._request("GET", f"/api/states/{entity_id}", entity_id=entity_id)
        return EntityState.from_json(body)

    async def call_service(
        self, domain: str, service: str, data: Mapping[str, Any] | None = None
    ) -> list[EntityState]:
        """Call `domain.service`; returns the states that changed while it ran."""
        for part in (domain, service):
            if not _SLUG.match(part):
                raise HomeAssistantRequestError(
                    f"not a Home Assistant service: {domain}.{service}",
                    details={"service": f"{domain}.{service}"},
                )
        body = await self._request("POST", f"/api/services/{domain}/{service}", json=dict(data or {}))
        return [EntityState.from_json(item) for item in body] if isinstance(body, list) else []

    async def render_template(self, template: str) -> str:
        return str(await self._request("POST", "/api/template", json={"template": template}))

    async def _request(
        self, method: str, path: str, *, json: Any = None, entity_id: str | None = None
    ) -> Any:
        where = {"url": f"{self.base_url}{path}"}
        try:
            response = await self._http.request(method, path, json=json)
        except httpx.TimeoutException as error:
            raise HomeAssistantUnavailable(f"Home Assistant timed out: {error!r}", details=where) from error
        except httpx.TransportError as error:
            raise HomeAssistantUnavailable(
                f"cannot connect to Home Assistant: {error!r}", details=where
            ) from error
        status = response.status_code
        if status in (401, 403):
            raise HomeAssistantAuthError(
                f"Home Assistant answered {status} to the token", details={**where, "status": status}
            )
        if status == 404 and entity_id is not None:
            raise UnknownEntityError(entity_id, details={"status": status})
        if status >= 500:
            raise HomeAssistantUnavailable(
                f"Home Assistant answered {status}", details={**where, "status": status}
            )
        if status >= 400:
            raise HomeAssistantRequestError(
                f"Home Assistant answered {status}: {response.text[:300]}",
                details={**where, "status": status, "body": response.text[:300]},
            )
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text
