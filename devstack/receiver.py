"""A merchant's webhook receiver on loopback: what `python -m devstack.cli listen`, the tests
and the benchmark post our events to.

It records each delivery as it came (headers and raw body) and answers with `status`
(200 unless told otherwise), so a test can make it fail, or stop it and start it again on the
same port to see retries arrive. Verifying signatures is left to its user: the tests and
`listen` use the `standardwebhooks` package, which is not our code.
"""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.time)


class Receiver:
    def __init__(self, port: int = 0, status: int = 200, on_delivery: Any = None):
        self.status = status
        self.deliveries: list[Delivery] = []
        self.on_delivery = on_delivery
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                delivery = Delivery(
                    self.path, {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )  # fmt: skip
                status = receiver.status
                if receiver.on_delivery is not None:
                    status = receiver.on_delivery(delivery) or status
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
                with receiver._arrived:
                    receiver.deliveries.append(delivery)
                    receiver._arrived.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/webhooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Delivery]:
        """Until `count` deliveries have arrived (or the timeout passed); returns them all."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.deliveries) < count and time.monotonic() < deadline:
                self._arrived.wait(deadline - time.monotonic())
            return list(self.deliveries)
