"""Fault injection: AWS and Stripe calls that fail at a chosen, seeded rate, outages longer
than the SDKs' retries, and handlers killed after a write.

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

Past the retries: an outage makes the next several calls to one service fail in a row, more
than its SDK tries (botocore: 3 attempts; stripe-python: 3), so the failure reaches our code:
a checkout's clean-up, a consumer's failed record that SQS delivers again. A kill stops the
invocation right after one of its DynamoDB or SQS writes succeeded, as a Lambda timeout
would: `Killed` is not an `Exception`, so no `except` of ours (nor Powertools') runs.

Each logical call with an injected attempt is counted once it ends: `absorbed` if the SDK's
retries made it succeed, `escaped` if the fault reached our code.
"""

import json
import random
import threading
import time
from collections import Counter

import botocore.endpoint
import chalice.local
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


WRITES = {
    "dynamodb": {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"},
    "sqs": {"SendMessage", "SendMessageBatch"},
}


class Killed(BaseException):
    """The invocation timed out: it stops where it is; nothing of ours runs after."""


class FaultPlan:
    """Decides, with its own seeded random, whether the next call fails, and how."""

    def __init__(
        self,
        rate: float,
        seed: int = 20261123,
        outage_rate: float = 0.0,
        outage_calls: tuple[int, int] = (4, 9),
        kill_rate: float = 0.0,
    ):
        self.rate, self.outage_rate, self.kill_rate = rate, outage_rate, kill_rate
        self.outage_calls = outage_calls
        self.enabled = False
        self.injected: Counter = Counter()
        self.absorbed: Counter = Counter()  # per SDK: injected attempts its retries absorbed
        self.escaped: Counter = Counter()  # per service: calls failed past the retries
        self.killed: Counter = Counter()  # per service and operation: writes then killed
        self.outages: Counter = Counter()
        self._outage_left: Counter = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._call = threading.local()

    def draw(self, kinds: tuple[str, ...], service: str = "") -> str | None:
        with self._lock:
            if not self.enabled:
                return None
            if self._outage_left[service] > 0:
                self._outage_left[service] -= 1
                return self._random.choice(kinds)
            if self._random.random() < self.outage_rate:
                self.outages[service] += 1
                self._outage_left[service] = self._random.randint(*self.outage_calls) - 1
                return self._random.choice(kinds)
            if self._random.random() >= self.rate:
                return None
            return self._random.choice(kinds)

    def kill(self) -> bool:
        with self._lock:
            return self.enabled and self._random.random() < self.kill_rate

    def note(self, service: str, kind: str) -> None:
        with self._lock:
            self.injected[f"{service}:{kind}"] += 1
        self._call.faults = getattr(self._call, "faults", 0) + 1

    def begin_call(self) -> None:
        self._call.faults = 0

    def end_call(self, sdk: str, service: str, failed: bool) -> None:
        faults, self._call.faults = getattr(self._call, "faults", 0), 0
        if not faults:
            return
        with self._lock:
            if failed:
                self.escaped[service] += 1
            else:
                self.absorbed[sdk] += faults

    @property
    def total(self) -> int:
        return sum(self.injected.values())


def break_aws(client, plan: FaultPlan) -> None:
    """Make every call of this botocore client fail at the plan's rate."""
    service = client.meta.service_model.service_name

    def before_send(request, **_):
        kind = plan.draw(("throttle", "5xx", "timeout"), service)
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

    def before_call(**_):
        plan.begin_call()

    def after_call(http_response, model, **_):
        failed = http_response.status_code >= 300
        plan.end_call("botocore", service, failed)
        if not failed and model.name in WRITES.get(service, ()) and plan.kill():
            plan.killed[f"{service}:{model.name}"] += 1
            raise Killed(f"after {service} {model.name}")

    def after_call_error(**_):
        plan.end_call("botocore", service, failed=True)

    # first: under moto, its own before-send handler answers every call and ends the chain
    client.meta.events.register_first("before-send", before_send)
    client.meta.events.register("before-call", before_call)
    client.meta.events.register("after-call", after_call)
    client.meta.events.register("after-call-error", after_call_error)


class FaultyStripeHttp(RequestsClient):
    """stripe-python's requests client, failing at the plan's rate before anything is sent."""

    def __init__(self, plan: FaultPlan):
        super().__init__()
        self.plan = plan

    def request_with_retries(self, method, url, headers, post_data=None, *args, **kwargs):
        self.plan.begin_call()
        try:
            answer = super().request_with_retries(method, url, headers, post_data, *args, **kwargs)
        except APIConnectionError:
            self.plan.end_call("stripe", "stripe", failed=True)
            raise
        self.plan.end_call("stripe", "stripe", failed=answer[1] >= 500)
        return answer

    def request(self, method, url, headers, post_data=None):
        kind = self.plan.draw(("connection", "5xx"), "stripe")
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


# The API function's timeout (30 s in .chalice/config.json), shortened as the back-off sleeps
# are: a key whose run was killed is free again once its invocation would have timed out.
LAMBDA_TIMEOUT_MS = 1000


def shorten_backoff(monkeypatch) -> None:
    monkeypatch.setattr(
        chalice.local.LocalGateway,
        "_generate_lambda_context",
        lambda self: chalice.local.LambdaContext(
            function_name=self._config.function_name,
            memory_size=self._config.lambda_memory_size,
            max_runtime_ms=LAMBDA_TIMEOUT_MS,
        ),
    )
    monkeypatch.setattr(botocore.endpoint, "time", _FastTime())
    original = HTTPClient._sleep_time_seconds
    monkeypatch.setattr(
        HTTPClient,
        "_sleep_time_seconds",
        lambda self, n, *a: original(self, n, *a) * BACKOFF_SCALE,
    )
