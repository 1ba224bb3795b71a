"""Running the viewer: a uvicorn server on a socket bound first, so the URL printed is the one that answers."""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable

from humanllm.errors import ConfigError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one); a port in use or a bad host is one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is in use: pick another with --port (0 = any free one)") from exc
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}): check --host and --port") from exc
    sock.listen(128)
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(app: object, sock: socket.socket, *, on_ready: Callable[[], None] | None = None) -> None:
    """Serve `app` on `sock` until interrupted (Ctrl-C stops it cleanly)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready()
    server.run(sockets=[sock])
