"""When auth or Redis cannot answer, the gateway refuses with 503: never lets a request through."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.stack import free_port
from tests.e2e.test_service_processes import run_service
from tests.infra import Servers

pytestmark = pytest.mark.e2e
PASSWORD = "a long passphrase"


class TcpProxy:
    """A loopback TCP forwarder we can cut, standing in for a Redis that goes away."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        # shutdown() wakes the thread blocked in accept(); close() alone would
        # leave the kernel socket listening while that thread holds it.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"not ready on port {port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=["auth"])
def gateway_and_auth(
    request: pytest.FixtureRequest, servers: Servers, module_namespace: tuple[str, str]
) -> Iterator[tuple[str, subprocess.Popen[bytes], TcpProxy]]:
    """The gateway and auth as separate processes; one of them (the fixture's
    parameter) reaches Redis through a proxy the test can cut."""
    namespace, database_url = module_namespace
    redis = urlsplit(servers.redis_url)
    proxy = TcpProxy((redis.hostname or "127.0.0.1", redis.port or 6379))
    common = {
        "PHOENIX_NATS_URL": servers.nats_url,
        "PHOENIX_DATABASE_URL": database_url,
        "PHOENIX_NAMESPACE": namespace,
        "PHOENIX_SIGNUP_MODE": "open",
        "PHOENIX_COOKIE_SECURE": "false",
    }
    gateway_port, auth_port = free_port(), free_port()
    proxied = f"redis://127.0.0.1:{proxy.port}/{redis.path.lstrip('/') or 0}"

    def redis_of(service: str) -> str:
        return proxied if request.param == service else servers.redis_url

    gateway = run_service(
        "gateway",
        {
            **common,
            "PHOENIX_REDIS_URL": redis_of("gateway"),
            "PHOENIX_GATEWAY_PORT": str(gateway_port),
        },
    )
    auth = run_service(
        "auth",
        {**common, "PHOENIX_REDIS_URL": redis_of("auth"), "PHOENIX_HEALTH_PORT": str(auth_port)},
    )
    try:
        wait_ready(gateway_port, gateway)
        wait_ready(auth_port, auth)
        yield f"http://127.0.0.1:{gateway_port}", auth, proxy
    finally:
        proxy.cut()
        stop(auth)
        stop(gateway)


def sessions(base_url: str, count: int) -> list[str]:
    client = httpx.Client(base_url=base_url, timeout=20)
    name = "u" + uuid.uuid4().hex[:10]
    signup = client.post(
        "/api/v1/auth/signup",
        json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    assert signup.status_code == 201, signup.text
    tokens = []
    for _ in range(count):
        login = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert login.status_code == 200, login.text
        tokens.append(login.json()["session_token"])
    return tokens


def get_monitors(base_url: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{base_url}/api/v1/monitors", headers={"Authorization": f"Bearer {token}"}, timeout=20
    )


def test_without_auth_every_request_is_a_503(
    gateway_and_auth: tuple[str, subprocess.Popen[bytes], TcpProxy],
) -> None:
    base_url, auth, _ = gateway_and_auth
    used, unused = sessions(base_url, 2)
    assert get_monitors(base_url, used).status_code == 200
    stop(auth)
    for token in (unused, "not-a-session", "phx_" + "A" * 60 + "_00000000"):
        refused = get_monitors(base_url, token)
        assert refused.status_code == 503, (token[:6], refused.status_code)
        assert refused.headers["content-type"].startswith("application/problem+json")
    writes = httpx.post(
        f"{base_url}/api/v1/monitors",
        json={"name": "x", "type": "http", "url": "http://127.0.0.1:9/", "interval": 60},
        headers={"Authorization": f"Bearer {unused}"},
        timeout=20,
    )
    assert writes.status_code == 503


def test_without_redis_sessions_cannot_be_checked_so_requests_are_refused(
    gateway_and_auth: tuple[str, subprocess.Popen[bytes], TcpProxy],
) -> None:
    base_url, _, proxy = gateway_and_auth
    used, unused = sessions(base_url, 2)
    assert get_monitors(base_url, used).status_code == 200
    proxy.cut()
    refused = get_monitors(base_url, unused)
    assert refused.status_code == 503, refused.text
    login = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"username": "anyone", "password": PASSWORD},
        timeout=20,
    )
    assert login.status_code == 503


@pytest.mark.parametrize("gateway_and_auth", ["gateway"], indirect=True)
def test_without_the_gateways_redis_public_pages_still_show_and_locked_ones_stay_locked(
    gateway_and_auth: tuple[str, subprocess.Popen[bytes], TcpProxy],
) -> None:
    base_url, _, proxy = gateway_and_auth
    (token,) = sessions(base_url, 1)
    auth = {"Authorization": f"Bearer {token}"}
    slugs = {}
    for kind, extra in (("open", {}), ("locked", {"password": "page passphrase"})):
        slugs[kind] = f"{kind}-{uuid.uuid4().hex[:8]}"
        made = httpx.post(
            f"{base_url}/api/v1/status-pages",
            json={"slug": slugs[kind], "name": kind, **extra},
            headers=auth,
            timeout=20,
        )
        assert made.status_code == 201, made.text
    public = f"{base_url}/api/v1/public/status-pages"
    assert httpx.get(f"{public}/{slugs['open']}", timeout=20).status_code == 200
    visitor = httpx.Client(timeout=20)
    unlocked = visitor.post(
        f"{public}/{slugs['locked']}/unlock", json={"password": "page passphrase"}
    )
    assert unlocked.status_code == 200
    assert visitor.get(f"{public}/{slugs['locked']}").status_code == 200
    proxy.cut()
    # The page people check during an outage keeps working without its cache...
    shown = httpx.get(f"{public}/{slugs['open']}", timeout=20)
    assert shown.status_code == 200, shown.text
    assert shown.json()["name"] == "open"
    assert httpx.get(f"{base_url}/status/{slugs['open']}", timeout=20).status_code == 200
    # ...while a protected one fails closed: its unlock cannot be checked, nor a new one made.
    assert httpx.get(f"{public}/{slugs['locked']}", timeout=20).status_code == 401
    with_cookie = visitor.get(f"{public}/{slugs['locked']}")
    assert with_cookie.status_code == 503, with_cookie.text
    again = httpx.post(
        f"{public}/{slugs['locked']}/unlock", json={"password": "page passphrase"}, timeout=20
    )
    assert again.status_code == 503
