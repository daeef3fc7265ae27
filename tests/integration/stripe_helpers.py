"""Paying at localstripe as a buyer's browser would, and delivering Stripe's signed events."""

import hashlib
import hmac
import json
import time

import stripe

from tests.fixtures.app import WEBHOOK_SECRET

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # attaches, then the charge is declined


def pay(api_base: str, intent_id: str, card: str = GOOD_CARD):
    """Attach a card and confirm, as Stripe.js does with the checkout's client_secret."""
    client = stripe.StripeClient("sk_test_integration", base_addresses={"api": api_base})
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    try:
        return client.v1.payment_intents.confirm(intent_id)
    except stripe.CardError as declined:
        return declined


def signed(event: dict, secret: str = WEBHOOK_SECRET, at: int | None = None):
    payload = json.dumps(event)
    timestamp = at if at is not None else int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return payload, {"Stripe-Signature": f"t={timestamp},v1={digest.hexdigest()}"}


def event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{abs(hash((event_type, json.dumps(obj))))}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }
