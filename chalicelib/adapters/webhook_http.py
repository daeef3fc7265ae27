"""Posting signed events to merchants' endpoints, and refusing to post anywhere inside.

A merchant chooses the URL, so an endpoint could point our functions at the cloud's metadata
service (169.254.169.254), the Lambda runtime API on loopback, or a private network (SSRF).
In dev (`webhook_local_urls`) it is the other way round: only this machine (loopback), so that
a local stack, its tests and its fuzzing never post anywhere else.
Outside dev, `check_destination` resolves the host when the endpoint is saved, and `send`
resolves it again at every attempt (DNS may have changed since) and connects to the address
it checked, not to a name resolved a second time (no DNS rebinding between check and use).
Redirects are never followed: a 3xx is a failed attempt, so a public URL cannot bounce us to
an internal one. Each attempt gives up after the timeout (15 s at most).
"""

import socket
import time
from urllib.parse import urlsplit

from ..domain.outbound import AttemptOutcome, is_loopback, is_public_address

MAX_RESPONSE_BYTES = 4096  # we read a little of the answer, and keep none of it


class DestinationRefused(ValueError):
    """The URL resolves to an address we do not post to (or does not resolve)."""


class WebhookSender:
    def __init__(self, local_only: bool, timeout: float):
        self.local_only = local_only
        self.timeout = timeout

    def _addresses(self, host: str, port: int) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise DestinationRefused(f"the host '{host}' does not resolve") from error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed, kind = (is_loopback, "on this machine") if self.local_only else (
            is_public_address, "public")  # fmt: skip
        refused = [a for a in addresses if not allowed(a)]
        if refused:
            raise DestinationRefused(
                f"the host '{host}' resolves to an address that is not {kind} ({refused[0]})"
            )
        if not addresses:
            raise DestinationRefused(f"the host '{host}' does not resolve")
        return addresses

    def check_destination(self, url: str) -> None:
        parts = urlsplit(url)
        self._addresses(parts.hostname or "", parts.port or _default_port(parts.scheme))

    def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptOutcome:
        import urllib3

        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or _default_port(parts.scheme)
        started = time.perf_counter()

        def outcome(status: int | None = None, error: str | None = None) -> AttemptOutcome:
            latency = round((time.perf_counter() - started) * 1000)
            return AttemptOutcome(status_code=status, latency_ms=latency, error=error)

        try:
            address = self._addresses(host, port)[0]
        except DestinationRefused as refused:
            return outcome(error=f"destination_refused: {refused}")
        timeout = urllib3.Timeout(connect=min(self.timeout, 5.0), read=self.timeout)
        pinned = f"[{address}]" if ":" in address else address
        if parts.scheme == "https":
            pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
                pinned, port, timeout=timeout, retries=False, maxsize=1,
                server_hostname=host, assert_hostname=host,
            )  # fmt: skip
        else:
            pool = urllib3.HTTPConnectionPool(
                pinned, port, timeout=timeout, retries=False, maxsize=1
            )
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        sent = {**headers, "host": parts.netloc.rsplit("@", 1)[-1]}
        try:
            response = pool.urlopen(
                "POST", path, body=body, headers=sent, redirect=False, preload_content=False
            )
            response.read(MAX_RESPONSE_BYTES)
            response.release_conn()
        except Exception as error:  # urllib3's connection, TLS and timeout errors
            return outcome(error=type(error).__name__)
        finally:
            pool.close()
        return outcome(status=response.status)


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80
