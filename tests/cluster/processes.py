"""Real processes for the cluster tests and `benchmarks/scale.py`: voxhub instances (`voxhub serve`), a
private redis-server, nginx with deploy/nginx/nginx.conf pointed at them, and a fresh PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx" / "nginx.conf"
POSTGRES_ADMIN_URL = os.environ.get(
    "VOXHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: object, what: str, timeout_secs: float = 60.0, every_secs: float = 0.1) -> None:
    """Poll `check()` until it is true; AssertionError naming `what` after `timeout_secs`."""
    deadline = time.monotonic() + timeout_secs
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, OSError, KeyError, ValueError):
            if check():  # type: ignore[operator]
                return
        time.sleep(every_secs)
    raise AssertionError(f"timed out after {timeout_secs:g} s waiting for {what}")


@contextlib.contextmanager
def fresh_postgres() -> Iterator[str]:
    """A database of its own on the machine's PostgreSQL, dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"voxhub_cluster_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(POSTGRES_ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class RedisServer:
    """A redis-server of the test's own (never the shared one), which the test may stop and start."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _answers(self.port), f"redis-server on {self.port}", 15)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _answers(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
        connection.sendall(b"PING\r\n")
        return connection.recv(16).startswith(b"+PONG")


@dataclass
class Voxhub:
    """One `voxhub serve` process on free ports, its log in `log_path`."""

    name: str
    directory: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    wyoming_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        data = self.directory / self.name
        data.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "VOXHUB_DATA_DIR": str(data),
            "VOXHUB_MODELS_DIR": str(models_dir()),
            "VOXHUB_INSTANCE_ID": self.name,
            "VOXHUB_WYOMING_ENABLED": "true",
            "VOXHUB_WYOMING_HOST": "127.0.0.1",
            "VOXHUB_WYOMING_PORT": str(self.wyoming_port),
            "VOXHUB_LLM_AUTO_SERVERS": "{}",
            "VOXHUB_GREETING_ENABLED": "false",
            "VOXHUB_LOG_LEVEL": "INFO",
            **self.env,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voxhub", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
        return httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200

    def status(self) -> dict[str, object]:
        body: dict[str, object] = httpx.get(f"{self.url}/api/v1/system/status", timeout=5).json()
        return body

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """`kill -9`: no shutdown, nothing given back."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def models_dir() -> Path:
    """Where `make test` installed the models (the default data directory's)."""
    from voxhub.config import load_settings

    return load_settings().models_root


def start_all(instances: Sequence[Voxhub], timeout_secs: float = 120.0) -> None:
    for instance in instances:
        instance.start()
    for instance in instances:
        try:
            wait_until(instance.ready, f"{instance.name} ready", timeout_secs, every_secs=0.5)
        except AssertionError:
            if "address already in use" not in instance.log().lower():
                raise
            # Another process took a free port between our probe and voxhub's bind: once more, new ports.
            instance.port, instance.wyoming_port = free_port(), free_port()
            instance.start()
            wait_until(instance.ready, f"{instance.name} ready", timeout_secs, every_secs=0.5)


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise RuntimeError("nginx is not installed: `make system-deps` installs Debian's")
    return found


@dataclass
class Nginx:
    """nginx running deploy/nginx/nginx.conf with its upstreams replaced by `instances` on loopback."""

    directory: Path
    instances: Sequence[Voxhub]
    port: int = field(default_factory=free_port)
    wyoming_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def config(self) -> str:
        text = NGINX_CONF.read_text(encoding="utf-8")
        http = "".join(
            f"        server 127.0.0.1:{i.port} max_fails=1 fail_timeout=5s;\n" for i in self.instances
        )
        tcp = "".join(
            f"        server 127.0.0.1:{i.wyoming_port} max_fails=1 fail_timeout=5s;\n"
            for i in self.instances
        )
        text = re.sub(r"(?:        server voxhub\d:8129[^\n]*\n)+", http, text)
        text = re.sub(r"(?:        server voxhub\d:10900[^\n]*\n)+", tcp, text)
        text = text.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        return text.replace("listen 10900;", f"listen 127.0.0.1:{self.wyoming_port};")

    def start(self) -> None:
        prefix = self.directory / "nginx"
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "logs").mkdir(exist_ok=True)
        conf = prefix / "nginx.conf"
        for attempt in range(3):
            conf.write_text(self.config(), encoding="utf-8")
            self.process = subprocess.Popen(
                [
                    nginx_binary(),
                    "-p",
                    str(prefix),
                    "-c",
                    str(conf),
                    "-e",
                    str(prefix / "error.log"),
                    "-g",
                    f"daemon off; pid {prefix / 'nginx.pid'};",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            try:
                self.process.wait(0.5)  # nginx that cannot bind exits at once
            except subprocess.TimeoutExpired:
                break
            if attempt == 2:
                raise AssertionError(f"nginx did not start: {(prefix / 'error.log').read_text()[-2000:]}")
            self.port, self.wyoming_port = free_port(), free_port()
        wait_until(lambda: httpx.get(f"{self.url}/health/live", timeout=2).status_code == 200, "nginx", 15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
