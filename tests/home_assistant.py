"""A real Home Assistant core (from `make home-assistant`'s `.ha-venv`), booted once per test session.

`home_assistant` is a session-scoped async fixture yielding a `HomeAssistant`: an onboarded instance on a free
loopback port with a long-lived access token, four template lights backed by input booleans (`LIGHTS`, so
Assist's intents have real targets), a Front Door lock and a Kitchen Thermometer. `furnish()` puts them in
areas with aliases and hides one from Assist. A test that uses it and fails gets the tail of Home Assistant's
log in its report.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import textwrap
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.api.live import free_port

HA_VENV = Path(__file__).resolve().parent.parent / ".ha-venv"
HASS = HA_VENV / "bin" / "hass"
BOOT_TIMEOUT_SECS = 120.0
STOP_TIMEOUT_SECS = 15.0

# The lights Assist can switch: entity id suffix → friendly name. Each is backed by `input_boolean.<id>_state`
# and has a unique id, so the entity registry holds it (an area, aliases, Assist exposure: see `furnish`).
LIGHTS = {
    "kitchen_light": "Kitchen Light",
    "living_room_lamp": "Living Room Lamp",
    "kitchen_ceiling": "Ceiling",
    "bedroom_light": "Bedroom Light",
}
# What `furnish` sets in the registries: areas with their aliases, and each entity's area and aliases.
AREAS = {"Kitchen": ["cookhouse"], "Living Room": ["lounge"], "Bedroom": []}
PLACES = {
    "light.kitchen_light": ("kitchen", []),
    "light.kitchen_ceiling": ("kitchen", ["big light"]),
    "light.living_room_lamp": ("living_room", []),
    "light.bedroom_light": ("bedroom", []),
    "sensor.kitchen_thermometer": ("kitchen", []),
}
NOT_EXPOSED = ("light.bedroom_light",)  # hidden from Assist: no command may touch it


class HomeAssistantError(Exception):
    """A WebSocket command Home Assistant answered with `success: false` (or an unexpected message)."""


def configuration_yaml(port: int) -> str:
    """The smallest configuration that boots with the API, Assist, TTS audio and the test lights."""
    booleans = "".join(f"  {light}_state:\n    name: {name} state\n" for light, name in LIGHTS.items())
    lights = "".join(
        textwrap.indent(
            textwrap.dedent(f"""\
                {light}:
                  friendly_name: {name}
                  unique_id: voxhub_test_{light}
                  value_template: "{{{{ is_state('input_boolean.{light}_state', 'on') }}}}"
                  turn_on:
                    service: input_boolean.turn_on
                    target: {{entity_id: input_boolean.{light}_state}}
                  turn_off:
                    service: input_boolean.turn_off
                    target: {{entity_id: input_boolean.{light}_state}}
                """),
            "      ",
        )
        for light, name in LIGHTS.items()
    )
    return (
        textwrap.dedent(f"""\
        homeassistant:
          name: voxhub test home
          latitude: 0
          longitude: 0
          elevation: 0
          unit_system: metric
          time_zone: UTC
          country: US
          currency: USD
          internal_url: http://127.0.0.1:{port}
        http:
          server_host: 127.0.0.1
          server_port: {port}
        api:
        websocket_api:
        auth:
        config:
        onboarding:
        assist_pipeline:
        conversation:
        stt:
        tts:
        media_source:
        logger:
          default: warning
          logs:
            homeassistant.components.wyoming: debug
            homeassistant.components.assist_pipeline: debug
        input_boolean:
          front_door_state:
            name: Front Door state
        """)
        + booleans
        + "light:\n  - platform: template\n    lights:\n"
        + lights
        + textwrap.dedent("""        lock:
          - platform: template
            name: Front Door
            unique_id: voxhub_test_front_door
            value_template: "{{ is_state('input_boolean.front_door_state', 'on') }}"
            lock:
              service: input_boolean.turn_on
              target: {entity_id: input_boolean.front_door_state}
            unlock:
              service: input_boolean.turn_off
              target: {entity_id: input_boolean.front_door_state}
        template:
          - sensor:
              - name: Kitchen Thermometer
                unique_id: voxhub_test_kitchen_thermometer
                unit_of_measurement: "°C"
                device_class: temperature
                state: "21.5"
        """)
    )


@dataclass
class HomeAssistant:
    """A running Home Assistant: its base `url`, a long-lived access `token`, and helpers around both."""

    url: str
    config_dir: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    token: str = field(default="", repr=False)

    @property
    def log_path(self) -> Path:
        return self.config_dir / "hass.log"

    @property
    def websocket_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/api/websocket"

    def log_tail(self, lines: int = 60) -> str:
        """The last `lines` lines Home Assistant wrote (stdout and stderr)."""
        if not self.log_path.exists():
            return "(no log yet)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def http(self) -> httpx.AsyncClient:
        """A REST client for `url`, authenticated with the long-lived token."""
        return httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30.0
        )

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """`GET /api/states/<entity_id>`: the state object (`state`, `attributes`, ...), or None if unknown."""
        async with self.http() as http:
            response = await http.get(f"/api/states/{entity_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def call_service(self, domain: str, service: str, **data: Any) -> list[dict[str, Any]]:
        """`POST /api/services/<domain>/<service>`; returns the states it changed."""
        async with self.http() as http:
            response = await http.post(f"/api/services/{domain}/{service}", json=data)
        response.raise_for_status()
        changed: list[dict[str, Any]] = response.json()
        return changed

    @asynccontextmanager
    async def websocket(self, token: str | None = None) -> AsyncIterator[HomeAssistantSocket]:
        """An authenticated WebSocket API connection (with the long-lived token unless `token` is given)."""
        async with websockets.connect(self.websocket_url, max_size=None) as connection:
            socket = HomeAssistantSocket(connection)
            await socket.authenticate(token or self.token)
            yield socket

    async def ws_command(self, type: str, **data: Any) -> Any:
        """Send one WebSocket command on a fresh connection; returns its `result` (raises HomeAssistantError)."""
        async with self.websocket() as socket:
            return await socket.command(type, **data)

    async def furnish(self) -> None:
        """Areas (`AREAS`), each entity's area and aliases (`PLACES`), and `NOT_EXPOSED` hidden from Assist.
        Idempotent: a second call changes nothing."""
        async with self.websocket() as socket:
            # Onboarding made a Kitchen, Living Room and Bedroom already: those get their aliases.
            known = {a["name"]: a["area_id"] for a in await socket.command("config/area_registry/list")}
            for name, aliases in AREAS.items():
                if name in known:
                    await socket.command("config/area_registry/update", area_id=known[name], aliases=aliases)
                else:
                    await socket.command("config/area_registry/create", name=name, aliases=aliases)
            for entity_id, (area_id, aliases) in PLACES.items():
                await socket.command(
                    "config/entity_registry/update", entity_id=entity_id, area_id=area_id, aliases=aliases
                )
            await socket.command(
                "homeassistant/expose_entity",
                assistants=["conversation"],
                entity_ids=list(NOT_EXPOSED),
                should_expose=False,
            )

    async def wait_for_state(self, entity_id: str, expected: str, timeout_secs: float = 10.0) -> str | None:
        """Poll until `entity_id` is in state `expected`; returns the last state seen either way (None: unknown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_secs
        while True:
            current = await self.state(entity_id)
            value = None if current is None else str(current["state"])
            if value == expected or loop.time() > deadline:
                return value
            await asyncio.sleep(0.1)


class HomeAssistantSocket:
    """One WebSocket API connection: numbered commands, their results, and subscription events in order."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self._next_id = 1
        self._pending: list[dict[str, Any]] = []  # messages read while waiting for another id

    async def authenticate(self, token: str) -> None:
        hello = json.loads(await self.connection.recv())
        assert hello["type"] == "auth_required", hello
        await self.connection.send(json.dumps({"type": "auth", "access_token": token}))
        answer = json.loads(await self.connection.recv())
        if answer["type"] != "auth_ok":
            raise HomeAssistantError(f"WebSocket authentication failed: {answer}")

    async def send(self, type: str, **data: Any) -> int:
        """Send a command without waiting; returns its id."""
        message_id = self._next_id
        self._next_id += 1
        await self.connection.send(json.dumps({"id": message_id, "type": type, **data}))
        return message_id

    async def command(self, type: str, timeout_secs: float = 30.0, **data: Any) -> Any:
        """Send a command and return its `result` (raises HomeAssistantError on `success: false`)."""
        message_id = await self.send(type, **data)
        return await self.result(message_id, timeout_secs)

    async def subscribe(self, type: str, timeout_secs: float = 30.0, **data: Any) -> int:
        """Send a command that streams events (`subscribe_events`, `assist_pipeline/run`, ...); returns its id
        once Home Assistant confirmed it. Read the events with `event(id)`."""
        message_id = await self.send(type, **data)
        await self.result(message_id, timeout_secs)
        return message_id

    async def result(self, message_id: int, timeout_secs: float = 30.0) -> Any:
        message = await self._receive(message_id, "result", timeout_secs)
        if not message["success"]:
            raise HomeAssistantError(f"command {message_id} failed: {message.get('error')}")
        return message.get("result")

    async def event(self, message_id: int, timeout_secs: float = 30.0) -> dict[str, Any]:
        """The next event of subscription `message_id` (its `event` payload)."""
        message = await self._receive(message_id, "event", timeout_secs)
        event: dict[str, Any] = message["event"]
        return event

    async def send_bytes(self, data: bytes) -> None:
        """A binary message (e.g. a pipeline's handler id byte followed by audio)."""
        await self.connection.send(data)

    async def _receive(self, message_id: int, kind: str, timeout_secs: float) -> dict[str, Any]:
        for index, message in enumerate(self._pending):
            if message["id"] == message_id and message["type"] == kind:
                return self._pending.pop(index)
        async with asyncio.timeout(timeout_secs):
            while True:
                message = json.loads(await self.connection.recv())
                if message.get("id") == message_id and message["type"] == kind:
                    return message  # type: ignore[no-any-return]
                if message.get("id") == message_id and message["type"] == "result" and not message["success"]:
                    raise HomeAssistantError(f"command {message_id} failed: {message.get('error')}")
                self._pending.append(message)


@asynccontextmanager
async def running_home_assistant(config_dir: Path) -> AsyncIterator[HomeAssistant]:
    """Boot Home Assistant in `config_dir` on a free port, onboard an owner and yield it; SIGTERM at the end."""
    if not HASS.exists():
        pytest.fail(
            f"Home Assistant is not installed ({HASS} is missing): run `make home-assistant` "
            "(part of `make test`) to install it in .ha-venv",
            pytrace=False,
        )
    home_assistant = _launch(config_dir)
    try:
        try:
            home_assistant.token = await _onboard(home_assistant)
        except Exception as exc:
            raise RuntimeError(
                f"Home Assistant did not start: {exc!r}\n--- log tail ---\n{home_assistant.log_tail()}"
            ) from exc
        yield home_assistant
    finally:
        await asyncio.to_thread(_stop, home_assistant.process)


def _launch(config_dir: Path) -> HomeAssistant:
    """Write the configuration and start `hass` on a free port, its output going to `hass.log`."""
    port = free_port()
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(configuration_yaml(port))
    with (config_dir / "hass.log").open("wb") as log:
        # --skip-pip: never let Home Assistant install packages at run time; `make home-assistant` did.
        process = subprocess.Popen(
            [str(HASS), "-c", str(config_dir), "--log-no-color", "--skip-pip"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return HomeAssistant(url=f"http://127.0.0.1:{port}", config_dir=config_dir, process=process)


async def _onboard(home_assistant: HomeAssistant) -> str:
    """Wait until Home Assistant is running, create its owner and return a long-lived access token."""
    url = home_assistant.url
    client_id = f"{url}/"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOOT_TIMEOUT_SECS
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        while True:
            if home_assistant.process.poll() is not None:
                raise RuntimeError(f"hass exited with status {home_assistant.process.returncode}")
            try:
                if (await http.get("/api/onboarding")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if loop.time() > deadline:
                raise TimeoutError(f"no HTTP answer on {url} within {BOOT_TIMEOUT_SECS:.0f} s")
            await asyncio.sleep(0.2)
        owner = {"client_id": client_id, "name": "Tester", "username": "tester", "password": "tester-pw"}
        created = await http.post("/api/onboarding/users", json={**owner, "language": "en"})
        created.raise_for_status()
        tokens = await http.post(
            "/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": created.json()["auth_code"],
                "client_id": client_id,
            },
        )
        tokens.raise_for_status()
        access_token: str = tokens.json()["access_token"]
        headers = {"Authorization": f"Bearer {access_token}"}
        while (await http.get("/api/config", headers=headers)).json().get("state") != "RUNNING":
            if loop.time() > deadline:
                raise TimeoutError(f"Home Assistant not RUNNING within {BOOT_TIMEOUT_SECS:.0f} s")
            await asyncio.sleep(0.2)
    async with home_assistant.websocket(token=access_token) as socket:
        long_lived: str = await socket.command(
            "auth/long_lived_access_token", client_name="voxhub tests", lifespan=30
        )
    return long_lived


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Home Assistant stops in 3–4 s), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
async def home_assistant(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[HomeAssistant]:
    """One real Home Assistant for the whole test session (boot ≈ 5 s); fails if `.ha-venv` is missing."""
    async with running_home_assistant(tmp_path_factory.mktemp("home-assistant")) as instance:
        yield instance


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test that used `home_assistant` shows Home Assistant's log tail in its report."""
    report = yield
    instance = getattr(item, "funcargs", {}).get("home_assistant")
    if isinstance(instance, HomeAssistant) and report.failed:
        report.sections.append(("Home Assistant log (tail)", instance.log_tail()))
    return report
