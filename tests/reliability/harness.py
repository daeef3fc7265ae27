"""What several reliability tests share: counting requests, spotting leaked tracebacks, and
draining the ingest queue as Lambda's SQS integration does (failures retried, then
dead-lettered)."""

import json
from types import SimpleNamespace

import boto3

from tests.integration.queue_helpers import run_ingest_batch
from tests.integration.sales_helpers import BUYER

from .faults import Killed

LEAK_MARKERS = ("Traceback", 'File "', "botocore", "stripe.", "Error(")


def leaks(body) -> bool:
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
    return any(marker in text for marker in LEAK_MARKERS)


class Recorded:
    """An `Api` whose every response is counted into `figures`."""

    def __init__(self, api, figures):
        self.api, self.figures = api, figures

    def request(self, method, path, **kw):
        self.figures["requests"] += 1
        try:
            response = self.api.request(method, path, **kw)
        except Killed:
            # The function timed out: API Gateway answers 504 with its own body.
            self.figures["requests killed after a write (answered 504)"] += 1
            body = b'{"message": "Endpoint request timed out"}'
            return SimpleNamespace(status_code=504, body=body, json=json.loads(body), headers={})
        if response.status_code >= 500:
            self.figures["responses_5xx"] += 1
            code = (response.json or {}).get("error", {}).get("code")
            self.figures[f"5xx under faults: {response.status_code} {code}"] += 1
            if leaks(response.body):
                self.figures["responses_5xx_leaking"] += 1
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)


def clean_sqs():
    """An SQS client of the harness (Lambda's poller), which no fault plan touches."""
    return boto3.client("sqs", region_name="us-east-1")


def queue_urls(sqs, rt) -> tuple[str, str]:
    name = rt.settings.ingest_queue
    return sqs.get_queue_url(QueueName=name)["QueueUrl"], sqs.get_queue_url(
        QueueName=f"{name}-dlq"
    )["QueueUrl"]


def depth(sqs, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def drain(api, rt, sqs=None, max_rounds: int = 500) -> dict:
    """Feed the ingest queue to `on_ingest` until it is empty. Records the consumer reports
    as failed become visible again at once; moto dead-letters them after maxReceiveCount. An
    invocation killed mid-way (a Lambda timeout) fails its whole batch, delivered again.
    Returns how many records were handled, failed (and delivered again) and killed."""
    sqs = sqs or clean_sqs()
    url, _ = queue_urls(sqs, rt)
    handled = failed = killed = 0
    for _ in range(max_rounds):
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if not received:
            if depth(sqs, url) == 0:
                return {"handled": handled, "failed": failed, "killed": killed}
            continue
        try:
            failures = run_ingest_batch(api, rt, sqs, url, received)
        except Killed:
            for message in received:
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            killed += len(received)
            continue
        failed += len(failures)
        handled += len(received) - len(failures)
    raise AssertionError("the ingest queue did not drain")


def dead_letters(sqs, rt, log_lines) -> list[dict]:
    """Every message in the ingest queue's dead-letter queue, with the type of its message
    and the reason its last delivery failed (from the consumer's own log line)."""
    _, dlq = queue_urls(sqs, rt)
    reasons = {
        line.get("sqs_message_id"): line.get("error")
        for line in log_lines()
        if line.get("message") == "message failed; SQS delivers it again"
    }
    listed, receipts = [], []
    while received := sqs.receive_message(
        QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages"):
        for message in received:
            receipts.append(message["ReceiptHandle"])
            kind = json.loads(message["Body"]).get("type")
            reason = reasons.get(message["MessageId"], "killed (no failure logged)")
            listed.append({"id": message["MessageId"], "type": kind, "reason": reason})
    for receipt in receipts:  # left where they were, for the redrive
        sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=receipt, VisibilityTimeout=0)
    return listed


def buyer(index: int) -> dict:
    return {**BUYER, "customer": {**BUYER["customer"], "email": f"buyer{index}@example.com"}}
