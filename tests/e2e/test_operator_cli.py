"""The operator CLI against a running `make run`: it finds the stack through dev.json, with no
variable to export, and says so; the Stripe sample pays a real order; a consumer failure is
one line in the stack's output."""

import json
import os
import subprocess
import sys
import time

import requests

from devstack.sample_events import signed
from tests.e2e.stack import ROOT, UNKNOWN_TIKTOK_ORDER

DEADLINE_SECONDS = 20


def cli(devstack, *args: str) -> subprocess.CompletedProcess:
    # Only what a developer's shell has: no AWS_*, SHOPPABLE_* or STRIPE_* variables.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHOPPABLE_", "STRIPE_"))
    }
    env["SHOPPABLE_DEV_DIR"] = str(devstack.dev_dir)
    return subprocess.run(
        [sys.executable, "-m", "devstack.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_merchant_commands_reach_the_local_stack_and_say_so(api, devstack):
    created = cli(devstack, "merchant", "create", "--name", "Corner Store")

    assert created.returncode == 0, created.stderr
    assert created.stderr.startswith(
        f"Talking to the local stack (make run, {devstack.dev_dir / 'dev.json'}): "
        f"API {devstack.api}, AWS emulator {devstack.info['aws_endpoint_url']}."
    )
    merchant = json.loads(created.stdout)
    assert api.get("/v1/products", key=merchant["api_key"]).status_code == 200
    narrower = cli(devstack, "merchant", "add-key", "--merchant", merchant["merchant_id"],
                   "--scopes", "orders:read")  # fmt: skip
    assert narrower.returncode == 0, narrower.stderr
    key = json.loads(narrower.stdout)["api_key"]
    assert api.get("/v1/orders", key=key).status_code == 200
    assert api.get("/v1/products", key=key).status_code == 403


def test_dlq_redrive_reaches_the_local_queues(devstack):
    # The webhook queue: the ingest queue's dead letters belong to tests/e2e/test_queues.py.
    redriven = cli(devstack, "dlq", "redrive", "--queue", "shoppable-webhooks")

    assert redriven.returncode == 0, redriven.stderr
    assert json.loads(redriven.stdout) == {
        "queue": "shoppable-webhooks",
        "dead_letter_queue": "shoppable-webhooks-dlq",
        "moved": 0,
        "failed": 0,
        "left_in_dead_letter_queue": 0,
    }


def test_the_stripe_sample_pays_a_new_checkout_of_the_demo_post(api, devstack):
    sent = cli(devstack, "send-event", "events/stripe-payment-intent-succeeded.json")

    assert sent.returncode == 0, sent.stderr
    about, answer = sent.stdout.splitlines()
    assert answer == '200 {"received": true}'
    order_id = about.split()[2]
    assert about.startswith(f"about order {order_id} (pending_payment), PaymentIntent pi_")
    key = devstack.info["api_key"]
    deadline = time.monotonic() + DEADLINE_SECONDS
    while (order := api.get(f"/v1/orders/{order_id}", key=key).json())["status"] != "paid":
        assert time.monotonic() < deadline, order
        time.sleep(0.2)
    assert order["post_id"] == devstack.info["post_id"]

    again = cli(devstack, "send-event", "events/stripe-payment-intent-succeeded.json",
                "--order", order_id)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"about order {order_id} (paid)")


def test_a_consumer_failure_is_one_line_not_a_traceback(devstack):
    """A TikTok notification about an order TikTok does not know: its consumer fails (and SQS
    delivers it again) with one line saying why."""
    before = len(devstack.output())
    event = {
        "type": 1,
        "tts_notification_id": f"70{time.monotonic_ns()}",
        "shop_id": "7494726673780148744",  # the demo shop's TikTok account
        "timestamp": 1664095733,
        "data": {"order_id": UNKNOWN_TIKTOK_ORDER, "order_status": "AWAITING_SHIPMENT",
                 "update_time": 1664095610},
    }  # fmt: skip
    raw = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json",
        **signed("/v1/webhooks/tiktok", raw, devstack.info),
    }
    delivered = requests.post(
        f"{devstack.api}/v1/webhooks/tiktok", data=raw, headers=headers, timeout=10
    )
    assert delivered.status_code == 200, delivered.text

    deadline = time.monotonic() + DEADLINE_SECONDS
    while "message failed" not in (output := devstack.output()[before:]):
        assert time.monotonic() < deadline, output
        time.sleep(0.2)
    time.sleep(1.5)  # a retry or two more
    output = devstack.output()[before:]
    failures = [line for line in output.splitlines() if "message failed" in line]
    assert failures
    failure = json.loads(failures[0])
    assert failure["type"] == "platform.order_status_change"
    assert failure["error"].startswith("PlatformError: tiktok answered")
    assert UNKNOWN_TIKTOK_ORDER in failure["error"]
    assert "Traceback" not in output
