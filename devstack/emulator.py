"""The AWS emulator: moto's server in a thread of this process, serving one request at a time.

DESIGN §7: moto's threaded server is not atomic under concurrent `TransactWriteItems`, and a
concurrency test must test our code, not the emulator. So the emulator runs on werkzeug's
single-threaded server, and speaks HTTP/1.0 so that every request closes its connection: an
idle keep-alive connection would otherwise hold the only worker. For the same reason nothing
may long-poll it (`poller` short-polls SQS).

The app reaches it through `AWS_ENDPOINT_URL`, like any other endpoint; moto's in-memory state
lives and dies with this process.
"""

import logging
import threading

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from .loopback import LOOPBACK

logger = logging.getLogger(__name__)


ACCEPT_QUEUE = 4096


class _OneRequestPerConnection(MotoRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Only failures: the queue poller alone sends several requests a second.
        if str(code).startswith("5"):
            logger.warning("the AWS emulator answered %s to %r", code, self.requestline)


class AwsEmulator:
    account_id = DEFAULT_ACCOUNT_ID

    def __init__(self, port: int = 0):
        self._server = make_server(
            LOOPBACK,
            port,
            DomainDispatcherApplication(create_backend_app),
            threaded=False,
            request_handler=_OneRequestPerConnection,
        )
        # One request at a time, but every client gets in line: with werkzeug's backlog of 128,
        # a crowd (200 buyers, each with its own connections) overflows the accept queue, the
        # kernel drops their SYNs, and the SDK's 2 s connect timeout fails requests that only
        # had to wait their turn.
        self._server.socket.listen(ACCEPT_QUEUE)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="aws-emulator",
            daemon=True,
        )

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
