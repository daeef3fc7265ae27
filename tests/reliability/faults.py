"""Fault injection: AWS and Stripe calls that fail at a chosen, seeded rate.

AWS: a `before-send` hook on a botocore client fails the call with a throttling error, a 500,
or a read timeout; botocore's own retries then run as configured in production. Two kinds of
fault come out of this under moto. A read timeout is raised before moto sees the request: the
call was never made. A throttle or a 500 is an answer, and botocore emits `before-send` to
every handler before it takes the first answer, so moto's handler applies the request all the
same: the write happened but its response was lost, which is harsher than throttling is on the
real service. (moto does not honour TransactWriteItems' ClientRequestToken, so a transaction
retried after a lost response fails its conditions where DynamoDB would answer success: under
these faults a buyer may get a spurious 409 `out_of_stock`; the stock stays consistent.)
Stripe: an HTTP client whose requests fail (connection error or 503) before they leave, so
stripe-python retries them. Back-off sleeps are shortened so a run of hundreds of checkouts
stays within minutes; the number of retries is unchanged.
"""

import json
import random
import threading
import time
from collections import Counter

import botocore.endpoint
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from stripe import APIConnectionError
from stripe._http_client import HTTPClient, RequestsClient

BACKOFF_SCALE = 0.01
# Each service's own name for its internal error.
SERVER = {"dynamodb": "InternalServerError", "kms": "KMSInternalException", "sqs": "InternalError"}


class _Body:
    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_):
        yield self._data


class FaultPlan:
    """Decides, with its own seeded random, whether the next call fails, and how."""

    def __init__(self, rate: float, seed: int = 20261123):
        self.rate = rate
        self.enabled = False
        self.injected: Counter = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self, kinds: tuple[str, ...]) -> str | None:
        with self._lock:
            if not self.enabled or self._random.random() >= self.rate:
                return None
            return self._random.choice(kinds)

    def note(self, service: str, kind: str) -> None:
        with self._lock:
            self.injected[f"{service}:{kind}"] += 1

    @property
    def total(self) -> int:
        return sum(self.injected.values())


def break_aws(client, plan: FaultPlan) -> None:
    """Make every call of this botocore client fail at the plan's rate."""
    service = client.meta.service_model.service_name

    def before_send(request, **_):
        kind = plan.draw(("throttle", "5xx", "timeout"))
        if kind is None:
            return None
        plan.note(service, kind)
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        status, code = (
            (400, "ThrottlingException") if kind == "throttle" else (500, SERVER[service])
        )
        body = json.dumps({"__type": code, "message": "injected fault"}).encode()
        headers = {"x-amzn-ErrorType": code, "x-amzn-query-error": f"{code};Sender"}
        return AWSResponse(request.url, status, headers, _Body(body))

    # first: under moto, its own before-send handler answers every call and ends the chain
    client.meta.events.register_first("before-send", before_send)


class FaultyStripeHttp(RequestsClient):
    """stripe-python's requests client, failing at the plan's rate before anything is sent."""

    def __init__(self, plan: FaultPlan):
        super().__init__()
        self.plan = plan

    def request(self, method, url, headers, post_data=None):
        kind = self.plan.draw(("connection", "5xx"))
        if kind == "connection":
            self.plan.note("stripe", kind)
            raise APIConnectionError("injected connection fault", should_retry=True)
        if kind == "5xx":
            self.plan.note("stripe", kind)
            body = b'{"error": {"type": "api_error", "message": "injected fault"}}'
            return body, 503, {"Content-Type": "application/json"}
        return super().request(method, url, headers, post_data)


class _FastTime:
    """`time` for botocore's endpoint, with back-off sleeps shortened."""

    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * BACKOFF_SCALE)


def shorten_backoff(monkeypatch) -> None:
    monkeypatch.setattr(botocore.endpoint, "time", _FastTime())
    original = HTTPClient._sleep_time_seconds
    monkeypatch.setattr(
        HTTPClient,
        "_sleep_time_seconds",
        lambda self, n, *a: original(self, n, *a) * BACKOFF_SCALE,
    )
