"""Starting and stopping the stack: Ctrl-C stops all of it cleanly, and the Stripe stand-in
(the one child process) does not outlive a stack that was killed outright."""

import signal
import time

import pytest

from .stack import answers, interrupt, start

pytestmark = pytest.mark.e2e


def test_ctrl_c_stops_everything_cleanly(tmp_path):
    stack = start(tmp_path)

    interrupt(stack)


def test_the_stripe_stand_in_dies_with_a_killed_stack(tmp_path):
    stack = start(tmp_path)
    stripe = stack.info["stripe_api_base"]
    assert answers(stripe)

    stack.process.send_signal(signal.SIGKILL)
    stack.process.wait()

    deadline = time.monotonic() + 5
    while answers(stripe):
        assert time.monotonic() < deadline, "localstripe outlived its parent"
        time.sleep(0.1)
