"""Starting and stopping the `make run` stack from a test, as a developer would.

`start` runs `python -m devstack` on a free port with its own dev directory and
waits for `dev.json`, which the stack writes once its API answers. `interrupt` is Ctrl-C and
requires a clean stop: exit code 0 within 15 s, no traceback after the interrupt, `dev.json`
removed, and nothing left listening.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60
STOP_TIMEOUT = 30
# An order TikTok does not know: the operator CLI test sends a notification about it on
# purpose, so that its consumer fails and the message ends in the dead-letter queue that the
# other tests of the same stack look at.
UNKNOWN_TIKTOK_ORDER = "576684019699999999"

# Settings and endpoints of the test run must not leak into the stack it starts.
_NOT_INHERITED = ("AWS_", "SHOPPABLE_", "STRIPE_")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    """Whether anything listens at the URL's host and port."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


@dataclass
class DevStack:
    info: dict
    process: subprocess.Popen
    dev_dir: Path

    @property
    def api(self) -> str:
        return self.info["api_base"]

    @property
    def log_path(self) -> Path:
        return self.dev_dir / "devstack.log"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sqs(self):
        return boto3.client(
            "sqs",
            endpoint_url=self.info["aws_endpoint_url"],
            region_name=self.info["aws_region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def start(dev_dir: Path) -> DevStack:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
    env.update(
        PORT=str(free_port()),
        SHOPPABLE_DEV_DIR=str(dev_dir),
        SHOPPABLE_DEV_RETRY_SECONDS="1",
        SHOPPABLE_DEV_SCHEDULE_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    log_path = dev_dir / "devstack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    dev_file = dev_dir / "dev.json"
    deadline = time.monotonic() + START_TIMEOUT
    while not dev_file.exists():
        problem = None
        if process.poll() is not None:
            problem = f"the dev stack exited with {process.returncode} before it was ready"
        elif time.monotonic() > deadline:
            problem = f"no dev.json after {START_TIMEOUT} s"
        if problem:
            process.kill()
            process.wait()
            pytest.fail(f"{problem}:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.1)
    return DevStack(json.loads(dev_file.read_text()), process, dev_dir)


def interrupt(stack: DevStack) -> None:
    """Ctrl-C the stack and require that it stops cleanly and completely."""
    before = len(stack.output())
    stack.process.send_signal(signal.SIGINT)
    try:
        code = stack.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.process.wait()
        pytest.fail(f"the dev stack did not stop within {STOP_TIMEOUT} s:\n{stack.output()}")
    after_interrupt = stack.output()[before:]
    assert code == 0, f"the dev stack exited with {code}:\n{stack.output()}"
    assert "Traceback" not in after_interrupt, after_interrupt
    assert not (stack.dev_dir / "dev.json").exists(), "dev.json outlived the stack"
    for name in ("api_base", "aws_endpoint_url", "stripe_api_base"):
        assert not answers(stack.info[name]), f"{name} still answers after the stack stopped"
