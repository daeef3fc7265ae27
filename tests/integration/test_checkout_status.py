"""`GET /v1/checkouts/{order_id}`: the public status read a storefront polls after paying.

Only the buyer holding the PaymentIntent's client_secret learns anything, and only the status;
every other caller gets the 404 a missing order gets, whatever it tries."""

import pytest

from chalicelib.adapters.dynamodb import keys

from .sales_helpers import BUYER, checkout_body, deliver, drain, stripe_intent
from .stripe_helpers import event, pay


@pytest.fixture
def checkout(api, product):
    response = api.post("/v1/checkouts", checkout_body(product, quantities=(1,)))
    assert response.status_code == 201, response.body
    return response.json


def status_of(api, order_id, client_secret=None, **kw):
    query = f"?client_secret={client_secret}" if client_secret is not None else ""
    return api.get(f"/v1/checkouts/{order_id}{query}", **kw)


def test_the_buyer_reads_the_status_and_nothing_else(api, rt, checkout, stripe_api_base):
    read = status_of(api, checkout["order_id"], checkout["client_secret"])

    assert read.status_code == 200, read.body
    assert read.json == {
        "object": "checkout",
        "order_id": checkout["order_id"],
        "status": "pending_payment",
    }
    assert read.headers["Access-Control-Allow-Origin"] == "*"

    pay(stripe_api_base, checkout["payment_intent_id"])
    intent = stripe_intent(stripe_api_base, checkout["payment_intent_id"])
    assert deliver(api, event("payment_intent.succeeded", intent)).status_code == 200
    drain(api, rt)
    assert status_of(api, checkout["order_id"], checkout["client_secret"]).json["status"] == "paid"


def _not_found(response, order_id):
    assert response.status_code == 404, response.body
    error = response.json["error"]
    return {**error, "message": error["message"].replace(order_id, "<id>")}


def test_without_the_right_secret_it_is_the_404_of_a_missing_order(api, product, checkout):
    other = api.post("/v1/checkouts", checkout_body(product, quantities=(1,))).json
    order_id, secret = checkout["order_id"], checkout["client_secret"]
    missing = _not_found(status_of(api, "ord_000000000000000000000000", secret), "ord_" + "0" * 24)

    attempts = {
        "no secret": status_of(api, order_id),
        "empty secret": status_of(api, order_id, ""),
        "another checkout's secret": status_of(api, order_id, other["client_secret"]),
        "the payment intent's id": status_of(api, order_id, checkout["payment_intent_id"]),
        "a secret one character off": status_of(api, order_id, secret[:-1] + "x"),
        "the secret's prefix": status_of(api, order_id, secret[:-1]),
        "the secret, with a key": status_of(api, order_id, "wrong", key="sk_test_nothing"),
    }
    for attempt, response in attempts.items():
        assert _not_found(response, order_id) == missing, attempt
        assert b"pending_payment" not in response.body, attempt
    assert missing == {
        "type": "not_found",
        "code": "resource_missing",
        "message": "No such checkout: '<id>'.",
        "param": "id",
    }
    assert _not_found(status_of(api, "not-an-order", secret), "not-an-order") == missing


def test_no_personal_data_or_amounts_in_the_answer(api, checkout):
    read = status_of(api, checkout["order_id"], checkout["client_secret"])

    text = read.body.decode().lower()
    for personal in ("jane", "example.com", "rue de la paix", "75002", "+336"):
        assert personal not in text
    assert BUYER["customer"]["email"].lower() not in text
    assert "amount" not in text and "4900" not in text
    assert set(read.json) == {"object", "order_id", "status"}


def test_the_order_keeps_only_a_digest_of_the_secret_and_merchants_never_see_it(
    api, rt, merchant, checkout
):
    item = rt.table.get(keys.order(checkout["order_id"]))
    assert checkout["client_secret"] not in str(item)
    order = api.get(f"/v1/orders/{checkout['order_id']}", key=merchant.secret).json
    assert "client_secret" not in str(order)


def test_an_order_without_a_kept_secret_is_never_readable(api, rt, checkout):
    """Platform imports, and orders placed before the digest was kept, have none to match."""
    rt.table.update(keys.order(checkout["order_id"]), "REMOVE client_secret_sha256")

    for secret in (checkout["client_secret"], "", None):
        assert status_of(api, checkout["order_id"], secret).status_code == 404


def test_a_malformed_query_is_refused_alike_for_any_order(api, checkout):
    for order_id in (checkout["order_id"], "ord_000000000000000000000000"):
        long = status_of(api, order_id, "x" * 256)
        unknown = api.get(f"/v1/checkouts/{order_id}?secret={checkout['client_secret']}")
        assert (long.status_code, long.json["error"]["param"]) == (400, "client_secret")
        assert (unknown.status_code, unknown.json["error"]["code"]) == (400, "parameter_unknown")


def test_browsers_may_ask_from_another_origin(api, checkout):
    preflight = api.request(
        "OPTIONS",
        f"/v1/checkouts/{checkout['order_id']}",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "GET"},
    )

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
