"""What Wyoming, which has no token, may reach when the rest of voxhub needs one (`auth_token` set).

- Where it listens: on loopback only, unless `wyoming_allow_remote` says to serve other machines anyway.
- Which sessions a `handle` turn may use: only those begun over Wyoming, whose ids start with `wyoming-`;
  a `conversation_id` naming a session of the authenticated API is refused.

Without `auth_token` every route is open to anyone anyway, and neither rule applies.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from voxhub.config import Settings, env_name
from voxhub.errors import VoxhubError

LOOPBACK = "127.0.0.1"
SESSION_PREFIX = "wyoming-"


@dataclass(frozen=True, slots=True)
class ListenAddress:
    host: str
    warning: str | None  # for the start-up log: where Wyoming listens and why, when auth is on


class ConversationRefused(VoxhubError):
    """A Wyoming client named a session of the authenticated API."""

    code = "forbidden"
    status_code = 403


def listen_address(settings: Settings, port: int) -> ListenAddress:
    """The address the Wyoming server binds: `wyoming_host` (or `host`), kept to loopback under auth."""
    asked = settings.wyoming_host or settings.host
    if settings.auth_token is None:
        return ListenAddress(asked, None)
    if is_loopback(asked):
        return ListenAddress(
            asked,
            f"auth_token is set and the Wyoming protocol has no authentication: the Wyoming server listens "
            f"on {asked}:{port} (loopback), so only programs on this machine can use it",
        )
    allow = env_name("wyoming_allow_remote")
    if settings.wyoming_allow_remote:
        return ListenAddress(
            asked,
            f"auth_token is set but {allow}=true: the Wyoming server listens on {asked}:{port} with no "
            f"authentication; anyone who can reach that port gets speech to text, text to speech and the "
            f"LLM without the token (sessions of the HTTP and WebSocket API stay out of its reach)",
        )
    return ListenAddress(
        LOOPBACK,
        f"auth_token is set and the Wyoming protocol has no authentication, so the Wyoming server listens on "
        f"{LOOPBACK}:{port} only, not on {asked} as {env_name('wyoming_host')}/{env_name('host')} ask; "
        f"set {allow}=true to serve other machines (Home Assistant elsewhere) without authentication",
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def own_session_id(conversation_id: str) -> str:
    """The session a Wyoming conversation lives in under auth: its id, marked as Wyoming's."""
    return conversation_id if conversation_id.startswith(SESSION_PREFIX) else SESSION_PREFIX + conversation_id
