"""Against the `make run` stack over real HTTP: a flash sale and schema fuzzing.

Flash sale: 200 buyers at once for a product with 20 in stock make exactly 20 orders; every
other buyer gets 409 `out_of_stock`, and the stock reads 20 reserved, 0 available. Each buyer
sends its checkout under its own `Idempotency-Key`; the only other answers the contract allows
are 429 and 503 with `Retry-After`, which the buyer waits out and sends again (same key) until
it gets its final 201 or 409 (as it does after no answer at all, or a 409
`idempotency_request_in_progress`). Any other final answer (another status, a 503 without
`Retry-After`) fails the test; the final answers add up to the buyers.

Fuzzing: schemathesis generates requests for every operation of `/v1/openapi.json` (with the
demo merchant's key) and checks, for valid (positive) and invalid (negative) inputs alike,
that none gets a 5xx and that every response conforms to the document: status code, content
type, body schema. The webhook routes take part: without a valid signature their documented
answer is 401.
"""

import itertools
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.generation import GenerationMode

from .harness import leaks

BUYERS, STOCK = 200, 20
MAX_TRIES = 30
BUYER = {
    "customer": {"email": "flash@example.com", "name": "Flash Buyer"},
    "shipping_address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
                         "country": "US"},
}  # fmt: skip


@pytest.mark.slow_reliability
def test_two_hundred_buyers_for_twenty_units_make_exactly_twenty_orders(devstack, figures):
    base, key = devstack.api, devstack.info["api_key"]
    auth = {"Authorization": f"Bearer {key}"}
    created = requests.post(
        f"{base}/v1/products",
        json={"title": "Flash sale", "variants": [{
            "sku": f"FLASH-{time.monotonic_ns()}", "price": {"amount": 9900, "currency": "EUR"},
            "inventory": {"on_hand": STOCK}}]},
        headers=auth, timeout=10,
    ).json()  # fmt: skip
    variant_id = created["variants"][0]["id"]

    answers: list[tuple[int, str]] = []  # every answer any buyer got, retries included

    def buy(index):
        response = None
        for _ in range(MAX_TRIES):
            try:
                response = requests.post(
                    f"{base}/v1/checkouts",
                    json={"lines": [{"variant_id": variant_id, "quantity": 1}], **BUYER},
                    headers={"Idempotency-Key": f"flash-{variant_id}-{index}"},
                    timeout=120,
                )
            except requests.RequestException:
                # No answer at all (the one machine running 200 buyers and the whole stack is
                # overloaded): a client sends the same request again under the same key.
                answers.append((0, "no answer"))
                continue
            code = (response.json().get("error") or {}).get("code", "")
            answers.append((response.status_code, code))
            if response.status_code in (429, 503) and "Retry-After" in response.headers:
                time.sleep(int(response.headers["Retry-After"]))
                continue
            if (response.status_code, code) == (409, "idempotency_request_in_progress"):
                time.sleep(1)  # the first try is still running: its answer comes next
                continue
            return response
        return response

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        responses = list(pool.map(buy, range(BUYERS)))
    assert None not in responses, "a buyer never got an answer"
    statuses = [r.status_code for r in responses]
    retried = [a for a in answers if a[0] in (429, 503)]
    figures["flash_buyers"] += BUYERS
    figures["requests"] += len(answers)
    figures["flash_orders"] += statuses.count(201)
    figures["flash_409"] += statuses.count(409)
    figures["flash_retried"] += len(retried)
    figures["flash-sale requests sent again after no answer (client timeout)"] += sum(
        a[0] == 0 for a in answers
    )
    figures["flash-sale 409 idempotency_request_in_progress, waited out"] += sum(
        a[1] == "idempotency_request_in_progress" for a in answers
    )
    figures["flash_other"] += sum(s not in (201, 409) for s in statuses)
    figures["responses_5xx"] += sum(s >= 500 for s, _ in answers)
    figures["responses_5xx_leaking"] += sum(
        s >= 500 and leaks(r.text) for s, r in zip(statuses, responses, strict=True)
    )
    assert sorted(set(statuses)) in ([201, 409], [201]), sorted(statuses)
    assert statuses.count(201) + statuses.count(409) == BUYERS
    assert statuses.count(201) == STOCK, sorted(statuses)
    assert statuses.count(409) == BUYERS - STOCK, sorted(statuses)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "out_of_stock"
    }
    assert len({r.json()["order_id"] for r in responses if r.status_code == 201}) == STOCK
    product = requests.get(f"{base}/v1/products/{created['id']}", headers=auth, timeout=10).json()
    inventory = product["variants"][0]["inventory"]
    figures["oversold"] += max(0, -inventory["available"])
    assert inventory == {"on_hand": STOCK, "reserved": STOCK, "available": 0}


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
FAST_EXAMPLES, SLOW_EXAMPLES = 3, 50


def _fuzz(devstack, figures, examples: int) -> None:
    """Every operation in turn, through hypothesis (schemathesis's pytest plugin does not run
    on pytest 9); failures are collected so that one report lists them all."""
    schema = schemathesis.openapi.from_url(f"{devstack.api}/v1/openapi.json")
    headers = {"Authorization": f"Bearer {devstack.info['api_key']}"}
    failures = []
    for result, mode in itertools.product(schema.get_all_operations(), GenerationMode):
        operation = result.ok()

        @settings(
            max_examples=examples, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        @given(case=operation.as_strategy(mode))
        def call(case):
            figures["fuzz_cases"] += 1
            figures["requests"] += 1
            response = case.call(headers=headers, timeout=30)
            if response.status_code >= 500:
                figures["fuzz_5xx"] += 1
                figures["responses_5xx"] += 1
                figures["responses_5xx_leaking"] += leaks(response.text)
            case.validate_response(response, checks=CHECKS)

        try:
            call()
        except Unsatisfiable:
            continue  # no input of this operation can be made invalid (no parameters, no body)
        except Exception as failure:
            figures["fuzz_nonconforming"] += 1
            failures.append(f"{operation.label} ({mode.value}): {str(failure)[:1500]}")
    assert failures == [], "\n\n".join(failures)


def test_fuzz_a_handful(devstack, figures):
    _fuzz(devstack, figures, FAST_EXAMPLES)


@pytest.mark.slow_reliability
def test_fuzz_every_operation(devstack, figures):
    _fuzz(devstack, figures, SLOW_EXAMPLES)
