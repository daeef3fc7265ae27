"""`python -m devstack.cli listen`: a merchant's webhook receiver on this machine, like
`stripe listen`.

It registers an endpoint for the demo merchant of the running `make run` stack, pointing at
`http://127.0.0.1:<port>/webhooks` (allowed in dev only), keeps its id and secret in
`.shoppable/listen.json`, and prints every delivery whose signature the `standardwebhooks`
package verifies (anything else is answered 400 and shown as rejected). Started again with the
same port, it reuses that endpoint: what was sent while it was stopped arrives with the retries.
"""

import json
import signal
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .devfile import FILE_NAME, dev_dir
from .receiver import Delivery, Receiver

STATE_FILE = "listen.json"


def _call(dev: dict, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 (the stack's own loopback URL)
        dev["api_base"] + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {dev['api_key']}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def endpoint_for(dev: dict, url: str, events: list[str], state_file: Path) -> dict:
    """The endpoint this receiver had (if it still exists with this URL), or a new one."""
    if state_file.exists():
        known = json.loads(state_file.read_text())
        status, found = _call(dev, "GET", f"/v1/webhook_endpoints/{known['id']}")
        if status == 200 and found["url"] == url and known.get("merchant_id") == dev["merchant_id"]:
            if not found["enabled"]:
                _call(dev, "PATCH", f"/v1/webhook_endpoints/{known['id']}", {"enabled": True})
            return known
    status, created = _call(
        dev, "POST", "/v1/webhook_endpoints",
        {"url": url, "enabled_events": events, "description": "devstack listen"},
    )  # fmt: skip
    if status != 201:
        raise SystemExit(f"could not register the endpoint: {status} {created}")
    known = {"id": created["id"], "secret": created["secret"], "url": url,
             "merchant_id": dev["merchant_id"]}  # fmt: skip
    state_file.write_text(json.dumps(known, indent=2) + "\n")
    state_file.chmod(0o600)
    return known


def describe(event: dict) -> str:
    data = event.get("data", {})
    names = ("order_id", "status", "total", "currency", "variant_id", "available", "post_id")
    facts = [f"{k}={data[k]}" for k in names if k in data]
    return f"{event['timestamp']}  {event['type']:<26} {event['id']}  {' '.join(facts)}"


def listen(port: int, events: list[str], secret: str | None = None) -> int:
    from standardwebhooks.webhooks import Webhook

    dev_file = dev_dir() / FILE_NAME
    if not dev_file.exists():
        raise SystemExit(f"{dev_file} not found: start the stack with `make run` first")
    dev = json.loads(dev_file.read_text())
    url = f"http://127.0.0.1:{port}/webhooks"
    if secret is None:
        endpoint = endpoint_for(dev, url, events, dev_dir() / STATE_FILE)
        secret = endpoint["secret"]
        print(f"Listening on {url} for endpoint {endpoint['id']} (secret {secret})", flush=True)
    else:
        print(f"Listening on {url}", flush=True)
    verifier = Webhook(secret)

    def show(delivery: Delivery) -> int:
        try:
            event = verifier.verify(delivery.body, delivery.headers)
        except Exception as error:  # standardwebhooks' WebhookVerificationError
            print(f"REJECTED  {delivery.headers.get('webhook-id')}: {error}", flush=True)
            return 400
        print(f"{describe(event)}  [signature verified]", flush=True)
        return 200

    receiver = Receiver(port=port, on_delivery=show).start()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    receiver.stop()
    return 0
