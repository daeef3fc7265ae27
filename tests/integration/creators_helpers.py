"""Creators, their links and codes, and sales made through them, in-process."""

from .sales_helpers import checkout_body, deliver, drain
from .stripe_helpers import event, pay

CREATOR = {
    "name": "Jane Creator",
    "email": "jane.creator@example.com",
    "handles": {"instagram": "jane.creates", "tiktok": "janecreates"},
    "payout": {
        "method": "bank_transfer",
        "account_holder": "Jane Creator",
        "iban": "DE89 3704 0044 0532 0130 00",
    },
    "commission": {"rate_bps": 1000},
}


def new_creator(api, key, **overrides) -> dict:
    response = api.post("/v1/creators", {**CREATOR, **overrides}, key=key)
    assert response.status_code == 201, response.body
    return response.json


def new_code(api, key, creator_id, code, **body) -> dict:
    response = api.post(f"/v1/creators/{creator_id}/codes", {"code": code, **body}, key=key)
    assert response.status_code == 201, response.body
    return response.json


def new_link(api, key, creator_id, post_id, **body) -> dict:
    response = api.post(f"/v1/creators/{creator_id}/links", {"post_id": post_id, **body}, key=key)
    assert response.status_code == 201, response.body
    return response.json


def new_post(api, key, product, **overrides) -> dict:
    from tests.fixtures.app import post_body

    response = api.post("/v1/posts", post_body(product, **overrides), key=key)
    assert response.status_code == 201, response.body
    return response.json


def paid_checkout(api, rt, stripe_api_base, product, quantities=(2,), **overrides) -> dict:
    """A storefront checkout paid at localstripe, its `payment_intent.succeeded` delivered
    and the ingest queue drained: the order is paid (and refundable through Stripe)."""
    placed = api.post("/v1/checkouts", checkout_body(product, quantities=quantities, **overrides))
    assert placed.status_code == 201, placed.body
    intent = pay(stripe_api_base, placed.json["payment_intent_id"])
    paid = {
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_received": intent.amount,
        "currency": intent.currency,
        "metadata": {"order_id": placed.json["order_id"]},
    }
    assert deliver(api, event("payment_intent.succeeded", paid)).status_code == 200
    drain(api, rt)
    return placed.json


def statement(api, key, creator_id, **query) -> dict:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    response = api.get(f"/v1/creators/{creator_id}/statement?{params}", key=key)
    assert response.status_code == 200, response.body
    return response.json


def funnel(api, key, group_by="creator", **query) -> dict:
    params = "&".join(f"{k}={v}" for k, v in {"group_by": group_by, **query}.items())
    response = api.get(f"/v1/analytics/funnel?{params}", key=key)
    assert response.status_code == 200, response.body
    return response.json


def row(report: dict, key) -> dict:
    found = [r for r in report["rows"] if r["key"] == key]
    assert found, f"no row {key} in {report['rows']}"
    return found[0]
