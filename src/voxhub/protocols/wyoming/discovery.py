"""Zeroconf: advertise the server as `_wyoming._tcp.local.` so Home Assistant discovers it by itself."""

from __future__ import annotations

import contextlib
import importlib
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)
SERVICE_TYPE = "_wyoming._tcp.local."
_MDNS_GROUP = "224.0.0.251"


async def advertise(host: str, port: int) -> Callable[[], Awaitable[None]] | None:
    """Register the service; returns its withdrawal, or None (with a warning) if zeroconf is missing."""
    try:
        # Imported by name: zeroconf is optional and only this setting needs it.
        zeroconf: Any = importlib.import_module("zeroconf.asyncio")
    except ImportError:
        logger.warning(
            "wyoming_zeroconf is on but the `zeroconf` package is not installed: "
            "`pip install zeroconf`, or add voxhub by host and port in Home Assistant"
        )
        return None
    address = _advertised_address(host)
    info = zeroconf.AsyncServiceInfo(
        SERVICE_TYPE,
        f"voxhub-{socket.gethostname()}.{SERVICE_TYPE}",
        addresses=[socket.inet_aton(address)],
        port=port,
    )
    service = zeroconf.AsyncZeroconf()
    await service.async_register_service(info)
    logger.info(
        "wyoming server advertised", extra={"service": SERVICE_TYPE, "address": address, "port": port}
    )

    async def withdraw() -> None:
        with contextlib.suppress(Exception):  # shutting down: a failed goodbye packet changes nothing
            await service.async_unregister_service(info)
        await service.async_close()

    return withdraw


def _advertised_address(host: str) -> str:
    """The bound address, or for a wildcard the one this machine's multicast traffic leaves from."""
    if host not in ("", "0.0.0.0", "::"):
        return socket.gethostbyname(host)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((_MDNS_GROUP, 1))  # a UDP connect sends nothing; it only picks the route
        return str(probe.getsockname()[0])
