"""Loopback networking for the dev stack: free ports, and waiting for a local server to answer.

Everything the stack starts listens on 127.0.0.1 only, and these calls never reach further.
"""

import http.client
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

LOOPBACK = "127.0.0.1"


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived while the stack was still starting."""


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now (0: any free port, always)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the servers do, so that a port in TIME_WAIT counts as free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def request(
    method: str, url: str, form: dict[str, str] | None = None, timeout: float = 2.0
) -> int | None:
    """The status of one HTTP request to a loopback URL, or None when nothing answers."""
    parts = urlsplit(url)
    if parts.hostname != LOOPBACK:
        raise ValueError(f"the dev stack only talks to {LOOPBACK}, not {url}")
    body = urlencode(form) if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
    connection = http.client.HTTPConnection(LOOPBACK, parts.port, timeout=timeout)
    try:
        connection.request(method, parts.path or "/", body=body, headers=headers)
        response = connection.getresponse()
        response.read()  # closing with unread bytes would reset the connection
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def wait_until(
    ready: Callable[[], bool], what: str, stop: threading.Event, timeout: float = 30.0
) -> None:
    """Wait until `ready()` holds; raise if it takes longer than `timeout` or `stop` is set."""
    deadline = time.monotonic() + timeout
    while not ready():
        if stop.is_set():
            raise Interrupted(what)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not become ready within {timeout:.0f} s")
        time.sleep(0.1)
