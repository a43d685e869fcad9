"""Reading Home Assistant's registries from its WebSocket answers, whatever the version or the token allows."""

from __future__ import annotations

from typing import Any

from voxhub.agent.ha_registry import CommandFailed, read_registry

ANSWERS: dict[str, Any] = {
    "config/area_registry/list": [
        {"area_id": "kitchen", "name": "Kitchen", "aliases": ["cookhouse", " "], "floor_id": "ground"},
        {"area_id": "den", "name": "Den", "aliases": []},  # 2024.3 lists no floor_id
    ],
    "config/floor_registry/list": [{"floor_id": "ground", "name": "Ground Floor", "aliases": ["downstairs"]}],
    "config/device_registry/list": [{"id": "hub", "area_id": "den"}],
    "config/entity_registry/list": [
        {"entity_id": "light.a", "area_id": "kitchen", "device_id": "hub", "name": "Worktop"},
        {"entity_id": "light.b", "area_id": None, "device_id": "hub"},
        {"entity_id": "light.c", "disabled_by": "user"},
        {"entity_id": "light.d", "hidden_by": "user"},
    ],
    "config/entity_registry/get_entries": {"light.a": {"aliases": ["counter"]}, "light.b": None},
    "homeassistant/expose_entity/list": {
        "exposed_entities": {"light.a": {"conversation": True, "cloud.alexa": False}, "light.b": {}}
    },
}


class ScriptedSocket:
    """Answers commands from ANSWERS; `refuse` makes some fail as Home Assistant would."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.refuse = refuse or {}
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def command(self, kind: str, **data: Any) -> Any:
        self.sent.append((kind, data))
        if kind in self.refuse:
            raise CommandFailed(kind, {"code": self.refuse[kind], "message": "no"})
        return ANSWERS[kind]


async def test_an_entitys_area_is_its_own_else_its_devices() -> None:
    registry = await read_registry(ScriptedSocket())  # type: ignore[arg-type]

    assert registry.entities["light.a"].area_id == "kitchen"
    assert registry.entities["light.b"].area_id == "den"


async def test_names_and_aliases_come_from_the_registries() -> None:
    registry = await read_registry(ScriptedSocket())  # type: ignore[arg-type]

    assert (registry.entities["light.a"].name, registry.entities["light.a"].aliases) == (
        "Worktop",
        ("counter",),
    )
    assert registry.areas["kitchen"].aliases == ("cookhouse",)
    assert registry.floors["ground"].aliases == ("downstairs",)
    assert registry.areas["kitchen"].floor_id == "ground"


async def test_disabled_entities_are_left_out_and_only_enabled_ones_are_asked_about() -> None:
    socket = ScriptedSocket()

    registry = await read_registry(socket)  # type: ignore[arg-type]

    assert "light.c" not in registry.entities
    assert (
        "config/entity_registry/get_entries",
        {"entity_ids": ["light.a", "light.b", "light.d"]},
    ) in socket.sent


async def test_exposure_is_home_assistants_setting_else_the_default() -> None:
    registry = await read_registry(ScriptedSocket())  # type: ignore[arg-type]

    assert registry.is_exposed("light.a", default=False)
    assert not registry.is_exposed("light.b", default=False)  # no Assist setting: the default
    assert registry.is_exposed("light.b", default=True)


async def test_a_version_without_floors_reads_no_floors() -> None:
    registry = await read_registry(ScriptedSocket({"config/floor_registry/list": "unknown_command"}))  # type: ignore[arg-type]

    assert registry.floors == {}
    assert registry.areas["kitchen"].name == "Kitchen"


async def test_a_token_that_may_not_list_exposure_falls_back_to_the_defaults() -> None:
    registry = await read_registry(ScriptedSocket({"homeassistant/expose_entity/list": "unauthorized"}))  # type: ignore[arg-type]

    assert registry.exposed is None
    assert registry.is_exposed("light.a", default=True)
