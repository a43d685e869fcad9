"""What Extended OpenAI Conversation 1.0.3 sends `/v1/chat/completions`: its default prompt, rendered for a
small home, and its default `execute_services` function."""

from __future__ import annotations

from typing import Any

DEVICES = (
    ("light.kitchen", "Kitchen Light", "off", ""),
    ("light.living_room", "Living Room Lamp", "on", "Big lamp/Sofa light"),
    ("switch.coffee_maker", "Coffee Maker", "off", ""),
    ("cover.garage_door", "Garage Door", "closed", ""),
)

# EOC's default prompt template, as Home Assistant renders it for DEVICES.
SYSTEM_PROMPT = (
    "I want you to act as smart home manager of Home Assistant.\n"
    "I will provide information of smart home along with a question, you will truthfully make correction or"
    " answer using information provided in one sentence in everyday language.\n\n"
    "Current Time: 2026-12-07 15:00:00.000000+00:00\n\n"
    "Available Devices:\n```csv\nentity_id,name,state,aliases\n"
    + "".join(f"{entity_id},{name},{state},{aliases}\n" for entity_id, name, state, aliases in DEVICES)
    + "```\n\n"
    "The current state of devices is provided in available devices.\n"
    "Use execute_services function only for requested action, not for current states.\n"
    "Do not execute service without user's confirmation.\n"
    "Do not restate or appreciate what user says, rather make a quick inquiry.\n"
)

EXECUTE_SERVICES: dict[str, Any] = {
    "name": "execute_services",
    "description": "Use this function to execute service of devices in Home Assistant.",
    "parameters": {
        "type": "object",
        "properties": {
            "list": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "domain": {"type": "string", "description": "The domain of the service"},
                        "service": {"type": "string", "description": "The service to be called"},
                        "service_data": {
                            "type": "object",
                            "description": "The service data object to indicate what to control.",
                            "properties": {
                                "entity_id": {
                                    "type": "string",
                                    "description": "The entity_id retrieved from available devices. It must"
                                    " start with domain, followed by dot character.",
                                }
                            },
                            "required": ["entity_id"],
                        },
                    },
                    "required": ["domain", "service", "service_data"],
                },
            }
        },
    },
}
TOOLS: Any = [{"type": "function", "function": EXECUTE_SERVICES}]


def conversation(*user_turns: str) -> list[dict[str, Any]]:
    """EOC's messages: its system prompt, then the user's words."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        *({"role": "user", "content": t} for t in user_turns),
    ]
