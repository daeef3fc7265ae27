"""The Stripe stand-in: localstripe in the stack's one child process.

The parent runs `python -m devstack.stripe_standin --port N` rather than the
`localstripe` script because the script listens on every interface and reloads the previous
run's objects; this entry point listens on 127.0.0.1 only and starts from an empty store (what
`localstripe --from-scratch` does). It also exits as soon as its parent is gone: its stdin is a
pipe from the parent that nobody writes to, so end-of-file means the parent closed it or died,
even by SIGKILL. The child is in its own session, so a terminal's Ctrl-C reaches only the
parent, which then stops it in order.

Once the API is up, `register_webhook` points localstripe's signed webhooks at our Stripe
route; localstripe signs them with the dev `whsec_` secret the app verifies. Browsers load the
Stripe.js stand-in from it at `js_url`, with the card payment flow `localstripe_browser` adds.
"""

import argparse
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from .loopback import LOOPBACK, free_port, request, wait_until

WEBHOOK_ID = "shoppable"
STRIPE_JS_PATH = "/js.stripe.com/v3/"  # where localstripe serves its Stripe.js stand-in


class StripeStandin:
    def __init__(self, log_path: Path, port: int | None = None):
        self.port = port or free_port()
        self._log_path = log_path
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen | None = None

    @property
    def api_base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def js_url(self) -> str:
        """Where a page loads the Stripe.js stand-in from."""
        return self.api_base + STRIPE_JS_PATH

    def start(self, stop: threading.Event) -> None:
        self._log = self._log_path.open("ab")
        project_dir = Path(__file__).resolve().parents[1]
        self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", __name__, "--port", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=project_dir,
            start_new_session=True,
        )
        wait_until(self._answers, f"localstripe (log: {self._log_path})", stop)

    def _answers(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise RuntimeError(
                f"localstripe exited with code {self._process.returncode}; see {self._log_path}"
            )
        return request("GET", f"{self.api_base}/v1/balance") is not None

    def register_webhook(self, url: str, secret: str) -> None:
        status = request(
            "POST",
            f"{self.api_base}/_config/webhooks/{WEBHOOK_ID}",
            form={"url": url, "secret": secret},
        )
        if status != 200:
            raise RuntimeError(f"localstripe refused the webhook registration ({status})")

    def stop(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            if self._process.stdin is not None:
                self._process.stdin.close()
        if self._log is not None:
            self._log.close()


def _exit_with_parent() -> None:
    # os.read, not sys.stdin: a daemon thread blocked in a buffered read would hold the
    # buffer's lock when the interpreter shuts down, which Python reports as a fatal error.
    while os.read(sys.stdin.fileno(), 1024):
        pass
    os._exit(0)  # end-of-file: the parent closed the pipe or died


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {__name__}")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    threading.Thread(target=_exit_with_parent, name="parent-watchdog", daemon=True).start()

    from aiohttp import web
    from localstripe.server import app

    from .localstripe_browser import install

    install(app)  # Stripe.js's card payment flow, for the storefront widget
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    web.run_app(
        app,
        host=LOOPBACK,
        port=args.port,
        access_log=logging.getLogger("aiohttp.access"),
        print=None,
    )


if __name__ == "__main__":
    main()
