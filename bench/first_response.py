"""First response of each Lambda function from cold, against a floor measured in the same run.

What a user waits for on a cold start is the import of the function's handler module plus its
first invocation, not the import alone. Each sample is a fresh interpreter that imports the
handler module Lambda would import (the handler string `chalice package` writes: `app.app`
for the API, the blueprint's module for the consumer and the vault) and completes one
invocation of the same shape Lambda sends:

- api: `GET /v1/storefront/posts/{id}` as an API Gateway proxy event;
- checkout: `POST /v1/checkouts` for one line (the order, the reservation, the vault, a
  Stripe PaymentIntent);
- ingest: one SQS record, a verified Stripe `payment_intent.succeeded` for an order awaiting
  payment (the order moves to paid, its stock is committed, `order.paid` is queued);
- vault: one `tokenize` command for a new customer (a KMS data key, sealed fields).

The floor is a fresh interpreter that imports `boto3` and `chalice`, declares the same kind of
Chalice entry point (a route, an SQS handler, a plain function), and in it makes the same AWS
calls the function made, with clients configured the same way, and the same HTTP requests to
Stripe through the standard library. The calls are recorded (service, operation and
parameters; Stripe's method, path, headers and body) from one run of the function in a fresh
interpreter, then replayed; a conditional write that fails on replay is still the same round
trip. So the floor lacks exactly our own work: pydantic and the models, the services, the
pipeline, the Stripe SDK and, in the vault, the cryptography.

Time is taken inside each child, from before its first import to after the invocation
returned; interpreter start-up is the same for both and left out. App and floor samples
alternate, so a slow moment of the machine hits both; medians are compared. Everything runs
against moto's server on loopback, with localstripe for the checkouts that seed the orders.
"""

import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

from bench import Result

ROOT = Path(__file__).resolve().parent.parent
RUNS = 9
API_TARGET = 1.25

# Runs in the child: records every AWS call when asked, times import + first invocation.
CHILD = r"""
import base64, json, os, sys, time

spec = json.loads(sys.argv[1])
started = time.perf_counter()
calls, http_calls = [], []
if spec.get("record"):
    import botocore.client

    real = botocore.client.BaseClient._make_api_call

    def recording(self, operation, params):
        calls.append([self.meta.service_model.service_name, operation, params])
        return real(self, operation, params)

    botocore.client.BaseClient._make_api_call = recording

    import urllib3.connectionpool
    from urllib.parse import urlsplit

    stripe_port = urlsplit(os.environ.get("STRIPE_API_BASE", "http://x:1")).port
    real_urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen

    def recording_urlopen(self, method, url, body=None, headers=None, *args, **kw):
        if self.port == stripe_port:
            sent = body.encode() if isinstance(body, str) else body
            http_calls.append([method, url, dict(headers or {}), sent])
        return real_urlopen(self, method, url, body, headers, *args, **kw)

    urllib3.connectionpool.HTTPConnectionPool.urlopen = recording_urlopen
    started = time.perf_counter()


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self):
        return 60_000


module_name, _, attribute = spec["handler"].rpartition(".")
module = __import__(module_name, fromlist=[attribute])
handler = getattr(module, attribute)
answer = handler(spec["event"], Context())
elapsed = time.perf_counter() - started


def plain(value):
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


print(json.dumps({
    "seconds": elapsed,
    "answer": plain(answer),
    "calls": plain(calls),
    "http_calls": plain(http_calls),
}))
"""

# The floor's child: boto3 and chalice, one entry point of the same kind, the same AWS calls.
FLOOR = r"""
import base64, json, sys, time

spec = json.loads(sys.argv[1])
started = time.perf_counter()
import boto3, chalice
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError


def value(v):
    if isinstance(v, dict):
        if set(v) == {"__bytes__"}:
            return base64.b64decode(v["__bytes__"])
        return {k: value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [value(x) for x in v]
    return v


calls = value(spec["calls"])
http_calls = value(spec.get("http_calls", []))
clients = {}


def replay():
    if http_calls:
        import http.client, os
        from urllib.parse import urlsplit

        base = urlsplit(os.environ["STRIPE_API_BASE"])
        for method, url, headers, body in http_calls:
            connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
            connection.request(method, url, body, headers)
            connection.getresponse().read()
            connection.close()
    for service, operation, params in calls:
        if service not in clients:
            config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2)
            clients[service] = boto3.session.Session().client(service, config=config)
        try:
            getattr(clients[service], xform_name(operation))(**params)
        except ClientError:
            pass  # a conditional write already applied by the recording: same round trip
    return {"ok": True}


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self):
        return 60_000


app = chalice.Chalice(app_name="floor")
kind = spec["kind"]
if kind == "api":
    app.route(spec["route"], methods=[spec.get("method", "GET")])(lambda **params: replay())
    entry = app
elif kind == "sqs":
    entry = app.on_sqs_message(queue="floor")(lambda event: replay())
else:
    entry = app.lambda_function(name="floor")(lambda event, context: replay())
entry(spec["event"], Context())
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def _child(script: str, spec: dict, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"a bench child failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _api_event(
    route: str, path: str, params: dict[str, str] | None, body: dict | None = None
) -> dict:
    method = "POST" if body is not None else "GET"
    headers = {"Host": "bench.example.com", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": route,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route,
            "httpMethod": method,
            "path": f"/api{path}",
            "requestId": str(uuid.uuid4()),
            "stage": "api",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def _sqs_event(queue: str, body: dict) -> dict:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1",
            }
        ]
    }


def _payment_succeeded(order: dict, merchant_id: str) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "stripe.payment_intent.succeeded",
        "merchant_id": merchant_id,
        "occurred_at": "2026-11-30T12:00:00Z",
        "data": {
            "id": order["payment_intent_id"],
            "object": "payment_intent",
            "metadata": {"order_id": order["order_id"], "merchant_id": merchant_id},
            "amount": order["amounts"]["total"],
            "amount_received": order["amounts"]["total"],
            "currency": order["amounts"]["currency"].lower(),
            "status": "succeeded",
        },
    }


def _tokenize(merchant_id: str) -> dict:
    """A tokenize command as the API's function sends it (signed just before it is sent)."""
    return {
        "type": "tokenize",
        "caller": {
            "merchant_id": merchant_id,
            "actor": "key_bench",
            "scopes": ["customers:write"],
        },
        "customer": {
            "email": f"buyer-{uuid.uuid4().hex[:12]}@example.com",
            "name": "Ana Bench",
            "phone": "+34600000000",
            "shipping_address": {
                "line1": "Calle Mayor 1",
                "city": "Madrid",
                "postal_code": "28013",
                "country": "ES",
            },
        },
    }


def _signed(command: dict) -> dict:
    """The command with its caller's assertion, minted now: it lives a minute."""
    import time

    from chalicelib.vault.assertions import Issuer, key_from, mint

    key = key_from(os.environ.get("SHOPPABLE_EDGE_CALLER_KEY"), "SHOPPABLE_EDGE_CALLER_KEY")
    return {**command, "assertion": mint(key, Issuer.EDGE, command, time.time())}


class _Shop:
    """The emulator, localstripe, the demo shop, and orders awaiting payment."""

    def __enter__(self) -> "_Shop":
        try:
            from devstack.emulator import AwsEmulator
            from devstack.environment import configure
            from devstack.seed import seed_demo_shop
            from devstack.stripe_standin import StripeStandin
        except ImportError:  # the layout before the dev tools left chalicelib
            from chalicelib.devstack.emulator import AwsEmulator
            from chalicelib.devstack.environment import configure
            from chalicelib.devstack.seed import seed_demo_shop
            from chalicelib.devstack.stripe_standin import StripeStandin

        self._dir = tempfile.TemporaryDirectory()
        self.emulator = AwsEmulator()
        self.emulator.start()
        self.stripe = StripeStandin(Path(self._dir.name) / "localstripe.log")
        self.stripe.start(threading.Event())
        os.environ.pop("STRIPE_API_KEY", None)
        os.environ.setdefault(
            "SHOPPABLE_VAULT_INDEX_KEY", base64.b64encode(os.urandom(32)).decode()
        )
        configure(self.emulator.endpoint_url, self.stripe.api_base)

        from chalice.test import Client

        import app
        from chalicelib import runtime as runtime_module
        from chalicelib.observability import logger
        from chalicelib.resources import provision

        logger.setLevel("WARNING")
        self.app = app.app
        rt = runtime_module.reset()
        provision(rt)
        self.shop = seed_demo_shop(rt)
        self.client = Client(app.app)
        self.variant_id = self._variant()
        return self

    def _variant(self) -> str:
        response = self.client.http.get(
            f"/v1/products/{self.shop.product_id}",
            headers={"Authorization": f"Bearer {self.shop.api_key}"},
        )
        return json.loads(response.body)["variants"][0]["id"]

    def stock(self, units: int) -> None:
        self.client.http.request(
            "PATCH",
            f"/v1/products/{self.shop.product_id}",
            headers={
                "Authorization": f"Bearer {self.shop.api_key}",
                "Content-Type": "application/json",
            },
            body=json.dumps(
                {"variants": [{"id": self.variant_id, "inventory": {"on_hand": units}}]}
            ),
        )

    def checkout_body(self) -> dict:
        return {
            "lines": [{"variant_id": self.variant_id, "quantity": 1}],
            "customer": {"email": f"b-{uuid.uuid4().hex[:10]}@example.com", "name": "Bo"},
            "shipping_address": {
                "line1": "1 Main St",
                "city": "Lisbon",
                "postal_code": "1100-001",
                "country": "PT",
            },
        }

    def checkout(self) -> dict:
        response = self.client.http.post(
            "/v1/checkouts",
            headers={"Content-Type": "application/json"},
            body=json.dumps(self.checkout_body()),
        )
        assert response.status_code == 201, response.body
        return json.loads(response.body)

    def handler(self, kind: str) -> str:
        """The handler string `chalice package` deploys for the function of this kind."""
        if kind == "api":
            return "app.app"
        if kind == "sqs":
            return next(s.handler_string for s in self.app.event_sources if s.name == "on_ingest")
        return next(f.handler_string for f in self.app.pure_lambda_functions if f.name == "vault")

    def child_env(self, function: str) -> dict[str, str]:
        """This process's environment (the emulator's endpoint, settings, secrets) plus what
        the deployed function gets from `.chalice/config.json`."""
        config = json.loads((ROOT / ".chalice" / "config.json").read_text())
        own = config.get("lambda_functions", {}).get(function, {})
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        return {
            **env,
            **config.get("environment_variables", {}),
            **own.get("environment_variables", {}),
        }

    def __exit__(self, *exc) -> None:
        self.stripe.stop()
        self.emulator.stop()
        self._dir.cleanup()


def _compare(
    name: str,
    kind: str,
    shop: _Shop,
    events: list[dict],
    extra: dict,
    target: float | None = None,
) -> Result:
    """`events`: one per run, the first for the recording (each run needs its own, so that
    every one does the first-time work: an order still awaiting payment, a new customer)."""
    env = shop.child_env({"api": "api_handler", "sqs": "on_ingest"}.get(kind, "vault"))
    handler = shop.handler(kind)
    ready = _signed if kind == "vault" else (lambda event: event)
    first = ready(events[0])
    recorded = _child(CHILD, {"handler": handler, "event": first, "record": True}, env)
    floor_spec = {
        "kind": kind,
        "calls": recorded["calls"],
        "http_calls": recorded["http_calls"],
        "event": first,
        **extra,
    }
    app_runs, floor_runs = [], []
    for event in events[1:]:
        floor_runs.append(_child(FLOOR, floor_spec, env)["seconds"])
        app_runs.append(_child(CHILD, {"handler": handler, "event": ready(event)}, env)["seconds"])
    services = sorted({f"{c[0]}:{c[1]}" for c in recorded["calls"]})
    stripe = f" + {len(recorded['http_calls'])} Stripe" if recorded["http_calls"] else ""
    return Result(
        name=f"first response, {name} ({len(recorded['calls'])} AWS calls{stripe}: "
        f"{', '.join(services)})",
        value=statistics.median(app_runs) * 1000,
        unit="ms",
        floor=statistics.median(floor_runs) * 1000,
        target=target,
    )


def run(runs: int = RUNS) -> list[Result]:
    with _Shop() as shop:
        route = "/v1/storefront/posts/{post_id}"
        post = shop.shop.post_id
        api_events = [
            _api_event(route, f"/v1/storefront/posts/{post}", {"post_id": post})
            for _ in range(runs + 2)
        ]
        api = _compare(
            "API: a storefront post", "api", shop, api_events, {"route": route}, API_TARGET
        )

        shop.stock(runs * 8)
        checkout_events = [
            _api_event("/v1/checkouts", "/v1/checkouts", None, shop.checkout_body())
            for _ in range(runs + 2)
        ]
        checkout = _compare(
            "API: a checkout",
            "api",
            shop,
            checkout_events,
            {"route": "/v1/checkouts", "method": "POST"},
        )

        queue = os.environ.get("SHOPPABLE_INGEST_QUEUE", "shoppable-ingest")
        merchant = shop.shop.merchant_id
        ingest_events = [
            _sqs_event(queue, _payment_succeeded(shop.checkout(), merchant))
            for _ in range(runs + 2)
        ]
        ingest = _compare("ingest: a Stripe payment", "sqs", shop, ingest_events, {})

        vault_events = [_tokenize(merchant) for _ in range(runs + 2)]
        vault = _compare("vault: tokenize a new customer", "vault", shop, vault_events, {})
    return [api, checkout, ingest, vault]
