"""Readiness: are the engines loaded, is the database reachable, can the LLM backend (or the offline agent) answer?"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx

from voxhub.engines.llm.fallback import FallbackLlm, Member
from voxhub.engines.registry import STAGES

if TYPE_CHECKING:
    from voxhub.api.state import ServerState

Status = Literal["healthy", "degraded", "unhealthy"]
_LLM_PROBE_CACHE_SECS = 5.0  # /health is public: a burst of checks must not become a burst of probes
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One thing readiness depends on: `ok`, or why not."""

    ok: bool
    detail: str
    standby: bool = False  # failed, but another LLM of the chain answers instead

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class Readiness:
    """`healthy`; `degraded` (serving, with a reason: the LLM is down and the offline agent answers); or
    `unhealthy` (cannot serve a turn)."""

    status: Status
    reasons: tuple[str, ...]
    checks: dict[str, Check]

    @property
    def ready(self) -> bool:
        return self.status != "unhealthy"

    @property
    def llm(self) -> str:
        """Which LLM answers, in words (the `llm` check's detail)."""
        return self.checks["llm"].detail

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "ready": self.ready,
            "reasons": list(self.reasons),
            "checks": {name: check.to_dict() for name, check in self.checks.items()},
        }


@dataclass
class HealthChecker:
    """Runs the checks; the LLM probe's answer is kept a few seconds."""

    _llm: tuple[float, Check] | None = field(default=None, repr=False)

    async def readiness(self, state: ServerState) -> Readiness:
        checks = {
            "engines": _engines(state),
            "database": await _database(state),
            "llm": await self._llm_check(state),
            "offline_fallback": _fallback(state),
        }
        failed = [name for name in ("engines", "database") if not checks[name].ok]
        reasons = [checks[name].detail for name in failed]
        llm = checks["llm"]
        if not llm.ok:
            reasons.append(llm.detail)
            if not llm.standby and not checks["offline_fallback"].ok:
                failed.append("llm")
        if failed:
            return Readiness("unhealthy", tuple(reasons), checks)
        if reasons and not llm.ok and not llm.standby:  # the LLM is down but the offline agent answers
            reasons.append("the offline agent answers commands it knows; other questions get an apology")
        if reasons:
            return Readiness("degraded", tuple(reasons), checks)
        return Readiness("healthy", (), checks)

    async def _llm_check(self, state: ServerState) -> Check:
        now = time.monotonic()
        if self._llm is not None and now - self._llm[0] < _LLM_PROBE_CACHE_SECS:
            return self._llm[1]
        check = await _llm(state)
        self._llm = (now, check)
        return check


def _engines(state: ServerState) -> Check:
    loaded = state.engines.loaded()
    missing = [
        f"{stage} ({state.engines.default_name(stage)})"
        for stage in STAGES
        if state.engines.default_name(stage) not in loaded.get(stage, {})
    ]
    if missing:
        return Check(False, f"engines not loaded: {', '.join(missing)}")
    return Check(True, "all configured engines are loaded")


async def _database(state: ServerState) -> Check:
    try:
        await asyncio.wait_for(state.sessions.store.ping(), timeout=2.0)
    except Exception as exc:  # any failure means sessions cannot be read or written
        # /health is public: the reason names the failure, the log line (for the operator) its words.
        logger.warning("health: database unreachable: %s", str(exc) or type(exc).__name__)
        return Check(False, f"database unreachable: {type(exc).__name__}")
    return Check(True, "database answers")


async def _llm(state: ServerState) -> Check:
    """The LLM that answers: an HTTP backend answers at all (any status: it is up); an in-process one is up
    once loaded. Of a chain (`llm_fallbacks`), the members in the order the next turn tries them: the check
    fails if the first is down, and says which one answers instead."""
    name = state.engines.default_name("llm")
    engine = dict(((stage, n), e) for stage, n, e in state.engines.items()).get(("llm", name))
    if not isinstance(engine, FallbackLlm):
        label = name if engine is None else _label(engine.name, engine)
        reached = await _reach(state, name, engine, label)
        return reached if reached is not None else Check(True, f"LLM backend {label} answers")
    members = engine.next_up()
    first = await _member_check(state, members[0])
    if first.ok:
        return first
    for member in members[1:]:
        if (await _member_check(state, member)).ok:
            return Check(False, f"{first.detail}; {member.label} answers instead", standby=True)
    return first


def _label(name: str, engine: Any) -> str:
    model = getattr(getattr(engine, "capabilities", None), "model", "")
    return f"{name} ({model})" if model and model != name else name


async def _member_check(state: ServerState, member: Member) -> Check:
    if member.cooling(time.monotonic()):
        return Check(False, f"LLM {member.label} failed and cools down: {member.last_error}")
    if member.engine is None:
        return Check(True, f"LLM {member.label} answers (it loads on first use)")
    reached = await _reach(state, member.label, member.engine, member.label)
    return reached if reached is not None else Check(True, f"LLM {member.label} answers")


async def _reach(state: ServerState, name: str, engine: Any, label: str) -> Check | None:
    """None if the engine's HTTP backend answers (or it has none), else the failed check."""
    settings = state.engines.settings
    if engine is None:
        return Check(False, f"LLM engine {name} is not loaded")
    url, key = getattr(engine, "base_url", None), getattr(engine, "api_key", None)
    if not isinstance(url, str):
        return None  # runs in-process
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    timeout = httpx.Timeout(settings.openai_connect_timeout_secs)
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            await client.get(url.rstrip("/") + "/models", headers=headers)
    except httpx.HTTPError as exc:
        logger.warning("health: LLM backend %s at %s unreachable: %s", label, url, type(exc).__name__)
        return Check(False, f"LLM backend {label} unreachable: {type(exc).__name__}")
    return None


def _fallback(state: ServerState) -> Check:
    armed = state.assistant is not None and state.assistant.offline is not None
    return Check(armed, "offline agent armed" if armed else "no offline agent")
