"""Home Assistant's areas, floors, devices, entity aliases and Assist exposure, read over its WebSocket API.

The REST API's states carry no areas and no aliases; the registries behind Home Assistant's WebSocket API do.
`RegistryWatcher` reads them once (`config/area_registry/list`, `config/floor_registry/list` where the version
has floors, `config/device_registry/list`, `config/entity_registry/list` and `get_entries` for aliases, and
`homeassistant/expose_entity/list` for what is exposed to Assist), then stays subscribed to the registries'
`*_registry_updated` events and reads them again after a change, handing each new `HomeRegistry` to `on_change`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import websockets

from voxhub.agent.homeassistant import HomeAssistantAuthError, HomeAssistantUnavailable

logger = logging.getLogger(__name__)

REGISTRY_EVENTS = (
    "area_registry_updated",
    "floor_registry_updated",
    "device_registry_updated",
    "entity_registry_updated",
)
ASSIST = "conversation"  # the assistant name Home Assistant's exposure settings use for Assist
_RECONNECT_SECS = (1.0, 2.0, 5.0, 15.0, 30.0)
_SETTLE_SECS = 0.5  # a burst of registry events (a device with ten entities) costs one re-read


@dataclass(frozen=True, slots=True)
class Area:
    area_id: str
    name: str
    aliases: tuple[str, ...] = ()
    floor_id: str | None = None


@dataclass(frozen=True, slots=True)
class Floor:
    floor_id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RegistryEntity:
    """An entity registry entry: its own name and aliases, and its area (its own, else its device's)."""

    entity_id: str
    name: str | None = None
    aliases: tuple[str, ...] = ()
    area_id: str | None = None
    device_id: str | None = None
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class HomeRegistry:
    """The registries at one moment. `exposed` is None when Home Assistant would not say (not an admin token)."""

    areas: Mapping[str, Area] = field(default_factory=dict)
    floors: Mapping[str, Floor] = field(default_factory=dict)
    entities: Mapping[str, RegistryEntity] = field(default_factory=dict)
    exposed: Mapping[str, bool] | None = None

    def area_of(self, entity_id: str) -> Area | None:
        entry = self.entities.get(entity_id)
        return None if entry is None or entry.area_id is None else self.areas.get(entry.area_id)

    def is_exposed(self, entity_id: str, default: bool) -> bool:
        """Whether Assist may touch `entity_id`; `default` where Home Assistant keeps no setting for it."""
        if self.exposed is None or entity_id not in self.exposed:
            return default
        return self.exposed[entity_id]


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in values or () if str(v).strip())


def parse_registry(
    areas: list[Mapping[str, Any]],
    floors: list[Mapping[str, Any]],
    devices: list[Mapping[str, Any]],
    entities: list[Mapping[str, Any]],
    extended: Mapping[str, Mapping[str, Any] | None],
    exposed: Mapping[str, Mapping[str, Any]] | None,
) -> HomeRegistry:
    """The registry from the WebSocket answers (list results, `get_entries`, and `exposed_entities`)."""
    device_areas = {str(d["id"]): d.get("area_id") for d in devices}
    parsed: dict[str, RegistryEntity] = {}
    for entry in entities:
        if entry.get("disabled_by"):
            continue
        entity_id = str(entry["entity_id"])
        device_id = entry.get("device_id")
        area_id = entry.get("area_id") or (device_areas.get(str(device_id)) if device_id else None)
        details = extended.get(entity_id) or {}
        parsed[entity_id] = RegistryEntity(
            entity_id,
            name=entry.get("name") or None,
            aliases=_strings(details.get("aliases")),
            area_id=str(area_id) if area_id else None,
            device_id=str(device_id) if device_id else None,
            hidden=bool(entry.get("hidden_by")),
        )
    return HomeRegistry(
        areas={
            str(a["area_id"]): Area(
                str(a["area_id"]),
                str(a["name"]),
                _strings(a.get("aliases")),
                str(a["floor_id"]) if a.get("floor_id") else None,
            )
            for a in areas
        },
        floors={
            str(f["floor_id"]): Floor(str(f["floor_id"]), str(f["name"]), _strings(f.get("aliases")))
            for f in floors
        },
        entities=parsed,
        exposed=None
        if exposed is None
        else {
            entity_id: bool(settings[ASSIST])
            for entity_id, settings in exposed.items()
            if isinstance(settings, Mapping) and ASSIST in settings
        },
    )


class CommandFailed(Exception):
    """Home Assistant answered a WebSocket command with `success: false`."""

    def __init__(self, command: str, error: Mapping[str, Any]) -> None:
        super().__init__(f"{command}: {error.get('code')}: {error.get('message')}")
        self.code = str(error.get("code", ""))


class _Socket:
    """One authenticated WebSocket API connection: numbered commands, and events handed to a queue."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self._connection = connection
        self._ids = itertools.count(1)
        self.events: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()
        self._subscriptions: set[int] = set()

    async def authenticate(self, token: str) -> None:
        hello = json.loads(await self._connection.recv())
        if hello.get("type") != "auth_required":
            raise HomeAssistantUnavailable(f"unexpected WebSocket greeting: {hello.get('type')}")
        await self._connection.send(json.dumps({"type": "auth", "access_token": token}))
        answer = json.loads(await self._connection.recv())
        if answer.get("type") != "auth_ok":
            raise HomeAssistantAuthError(f"Home Assistant's WebSocket API refused the token: {answer}")

    async def command(self, kind: str, **data: Any) -> Any:
        message_id = next(self._ids)
        await self._connection.send(json.dumps({"id": message_id, "type": kind, **data}))
        while True:
            message = json.loads(await self._connection.recv())
            if message.get("type") == "event":
                self.events.put_nowait(message)
            elif message.get("id") == message_id and message.get("type") == "result":
                if not message.get("success"):
                    raise CommandFailed(kind, message.get("error") or {})
                return message.get("result")

    async def subscribe(self, event_type: str) -> None:
        await self.command("subscribe_events", event_type=event_type)

    async def next_event(self) -> Mapping[str, Any]:
        if not self.events.empty():
            return self.events.get_nowait()
        while True:
            message = json.loads(await self._connection.recv())
            if message.get("type") == "event":
                return message  # type: ignore[no-any-return]


async def read_registry(socket: _Socket) -> HomeRegistry:
    """Every registry this agent uses, read on one connection."""
    areas = await socket.command("config/area_registry/list")
    try:
        floors = await socket.command("config/floor_registry/list")
    except CommandFailed as error:  # before 2024.3 Home Assistant had no floors
        if error.code != "unknown_command":
            raise
        floors = []
    devices = await socket.command("config/device_registry/list")
    entities = await socket.command("config/entity_registry/list")
    ids = [str(e["entity_id"]) for e in entities if not e.get("disabled_by")]
    extended = await socket.command("config/entity_registry/get_entries", entity_ids=ids) if ids else {}
    try:
        exposed = (await socket.command("homeassistant/expose_entity/list"))["exposed_entities"]
    except CommandFailed as error:  # an admin-only command: a non-admin token reads no exposure
        logger.warning("Home Assistant would not list the entities exposed to Assist: %s", error)
        exposed = None
    return parse_registry(areas, floors, devices, entities, extended, exposed)


OnRegistry = Callable[[HomeRegistry], Awaitable[None] | None]


class RegistryWatcher:
    """Keeps a `HomeRegistry` current: read at `start()`, read again after each registry event."""

    def __init__(
        self,
        websocket_url: str,
        token: str,
        *,
        on_change: OnRegistry | None = None,
        timeout_secs: float = 10.0,
    ) -> None:
        self.websocket_url = websocket_url
        self._token = token
        self.on_change = on_change
        self._timeout_secs = timeout_secs
        self.registry: HomeRegistry | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.loaded = asyncio.Event()  # set after each successful read (cleared while reconnecting)

    async def read_once(self) -> HomeRegistry:
        """Connect, read every registry and close (HomeAssistantUnavailable when it cannot)."""
        async with self._connect() as socket:
            return await asyncio.wait_for(read_registry(socket), self._timeout_secs)

    def start(self) -> None:
        """Watch in the background: read, subscribe, re-read on change, reconnect when the socket drops."""
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="ha-registry")

    async def aclose(self) -> None:
        self._closing = True
        task, self._task = self._task, None
        # A cancel that lands as a connect attempt finishes can be swallowed (asyncio.wait_for): ask again.
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=1.0)

    @contextlib.asynccontextmanager
    async def _connect(self) -> Any:
        try:
            connection = await asyncio.wait_for(
                websockets.connect(self.websocket_url, max_size=None), self._timeout_secs
            )
        except (OSError, TimeoutError, websockets.InvalidHandshake) as error:
            raise HomeAssistantUnavailable(
                f"cannot open Home Assistant's WebSocket API: {error!r}", details={"url": self.websocket_url}
            ) from error
        try:
            socket = _Socket(connection)
            await asyncio.wait_for(socket.authenticate(self._token), self._timeout_secs)
            yield socket
        finally:
            await connection.close()

    async def _watch(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                async with self._connect() as socket:
                    for event_type in REGISTRY_EVENTS:
                        await socket.subscribe(event_type)
                    await self._publish(await read_registry(socket))
                    attempt = 0
                    while True:
                        await socket.next_event()
                        await asyncio.sleep(_SETTLE_SECS)
                        await self._publish(await read_registry(socket))
            except asyncio.CancelledError:
                raise
            except HomeAssistantAuthError as error:  # a wrong token stays wrong: stop asking
                logger.warning("Home Assistant's registries: %s; not watching them", error.message)
                return
            except Exception as error:  # a dropped socket, a restart of Home Assistant: try again later
                self.loaded.clear()
                delay = _RECONNECT_SECS[min(attempt, len(_RECONNECT_SECS) - 1)]
                attempt += 1
                logger.warning("Home Assistant's registries: %r; reconnecting in %g s", error, delay)
                await asyncio.sleep(delay)

    async def _publish(self, registry: HomeRegistry) -> None:
        self.registry = registry
        self.loaded.set()
        if self.on_change is not None:
            result = self.on_change(registry)
            if inspect.isawaitable(result):
                await result
