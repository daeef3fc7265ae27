"""No personal data in logs: run every vault flow with all logging on, then search it all.

Everything is captured: every log record of every logger at DEBUG (message, arguments,
extra keys, exception text), the AWS SDK's included, and whatever reaches stdout or stderr.
Nor may a plaintext data key appear (botocore logs KMS response bodies at DEBUG).
"""

import base64
import json
import logging

import pytest

from chalicelib.domain.merchants import Scope

from .vault_helpers import JANE, JOHN, SEEDED_VALUES, add_key, put_raw_customer, raw_customer


class Everything(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = {k: v for k, v in record.__dict__.items() if k not in ("exc_info",)}
        self.lines.append(json.dumps(fields, default=repr))
        self.lines.append(record.getMessage())
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def captured(capfd):
    handler = Everything()
    root = logging.getLogger()
    shoppable = logging.getLogger("shoppable")
    levels = (root.level, shoppable.level)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    shoppable.setLevel(logging.DEBUG)
    if not shoppable.propagate:
        shoppable.addHandler(handler)
    try:
        yield lambda: "\n".join(handler.lines) + "\n".join(capfd.readouterr())
    finally:
        root.removeHandler(handler)
        shoppable.removeHandler(handler)
        root.setLevel(levels[0])
        shoppable.setLevel(levels[1])


def test_no_personal_value_appears_in_any_log(api, rt, merchant, other_merchant, captured):
    data_keys: list[str] = []
    rt.kms.meta.events.register(
        "after-call.kms.*",
        lambda parsed, **_: (
            parsed.get("Plaintext")
            and data_keys.append(base64.b64encode(parsed["Plaintext"]).decode())
        ),
    )
    key = merchant.secret
    support = add_key(rt, merchant.merchant.id, Scope.CUSTOMERS_SUPPORT)

    jane = api.post("/v1/customers", JANE, key=key, headers={"Idempotency-Key": "k1"}).json
    api.post("/v1/customers", JANE, key=key, headers={"Idempotency-Key": "k1"})
    john = api.post("/v1/customers", JOHN, key=key).json
    api.post("/v1/customers", {**JANE, "marketing_consent": True}, key=key)
    api.post("/v1/customers", JANE, key=other_merchant.secret)
    for purpose in ("fulfillment", "support", "marketing"):
        api.get(f"/v1/customers/{jane['token']}?purpose={purpose}", key=key)
        api.get(f"/v1/customers/{john['token']}?purpose={purpose}", key=support)
    api.get(f"/v1/customers/{jane['token']}?purpose=support", key=other_merchant.secret)
    api.get(f"/v1/customers/{john['token']}/export", key=key)
    api.get(f"/v1/customers/{john['token']}/audit", key=key)

    # Rejected input, with personal data in the rejected fields.
    api.post("/v1/customers", {**JANE, "phone": JANE["name"]}, key=key)
    api.post("/v1/customers", {**JANE, "email": JANE["name"]}, key=key)
    api.post("/v1/customers", {**JANE, "favourite_colour": JANE["email"]}, key=key)
    api.post("/v1/customers", JANE, key=support)

    # An integrity failure is logged; the data it failed on is not.
    item = raw_customer(rt, john["token"])
    item["sealed_name"] = item["sealed_email"]
    put_raw_customer(rt, item)
    api.get(f"/v1/customers/{john['token']}?purpose=support", key=key)

    api.request("DELETE", f"/v1/customers/{jane['token']}", key=key)
    api.get(f"/v1/customers/{jane['token']}?purpose=fulfillment", key=key)

    logs = captured()
    assert "customer tokenized" in logs and "customer erased" in logs, "logging was captured"
    assert "sealed field failed its integrity check" in logs
    leaked = [value for value in SEEDED_VALUES if value.lower() in logs.lower()]
    assert leaked == [], f"personal data in the logs: {leaked}"
    assert data_keys, "KMS was called"
    assert not [k for k in data_keys if k in logs], "a plaintext data key is in the logs"
