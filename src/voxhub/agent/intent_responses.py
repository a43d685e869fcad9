"""Replies in the user's language from Home Assistant's own response templates (home-assistant-intents).

The English replies are voxhub's own (offline_actions.py). For every other language the sentence templates
come with Jinja response templates per intent ("Włączono {{ slots.name }}"), the ones Home Assistant's Assist
speaks; a reply whose action worked is said with the matched sentence's template. A template that needs
what voxhub does not pass (an entity's state object, say) or fails to render leaves the reply as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from home_assistant_intents import get_intents
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@functools.cache
def _responses(language: str) -> Mapping[str, Mapping[str, str]]:
    data = get_intents(language) or {}
    intents = data.get("responses", {}).get("intents", {})
    return intents if isinstance(intents, dict) else {}


def localized_reply(language: str, intent: str, response: str, slots: Mapping[str, Any]) -> str | None:
    """The `response` template of `intent` in `language`, rendered with `slots` (None if there is none)."""
    templates = _responses(language).get(intent, {})
    template = templates.get(response) or templates.get("default")
    if not template:
        return None
    try:
        text = _ENVIRONMENT.from_string(template).render(slots=dict(slots))
    except (TemplateError, TypeError, ValueError):
        return None
    text = " ".join(text.split())
    return text or None
