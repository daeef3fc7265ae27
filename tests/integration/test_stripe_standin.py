"""The Stripe stand-in takes a card payment from a browser as Stripe does: the publishable key,
the PaymentIntent's client_secret and the card, posted to the intent's `confirm`
(devstack/localstripe_browser.py). The browser tests drive the whole flow through
Stripe.js; these pin the stand-in's side of it over plain HTTP."""

import json

import pytest
import requests

SECRET_KEY = ("sk_test_integration", "")


@pytest.fixture
def intent(stripe_api_base):
    created = requests.post(
        f"{stripe_api_base}/v1/payment_intents",
        auth=SECRET_KEY,
        data={"amount": 4900, "currency": "eur", "payment_method_types[]": "card"},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    return created.json()


def confirm_in_browser(api_base, intent, card, client_secret=None):
    body = {
        "key": "pk_test_dev",
        "client_secret": client_secret or intent["client_secret"],
        "payment_method_data": {
            "type": "card",
            "card": {"number": card, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
            "billing_details": {"name": "Jane Doe"},
        },
    }
    # As the stand-in's Stripe.js sends it: JSON as text/plain, a CORS-simple request.
    return requests.post(
        f"{api_base}/v1/payment_intents/{intent['id']}/confirm",
        data=json.dumps(body),
        headers={"Origin": "http://127.0.0.1:8000"},
        timeout=10,
    )


def status_at_stripe(api_base, intent) -> str:
    found = requests.get(
        f"{api_base}/v1/payment_intents/{intent['id']}", auth=SECRET_KEY, timeout=10
    )
    return found.json()["status"]


def test_a_good_card_pays_the_intent(stripe_api_base, intent):
    paid = confirm_in_browser(stripe_api_base, intent, "4242424242424242")

    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "succeeded"
    assert paid.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
    assert status_at_stripe(stripe_api_base, intent) == "succeeded"


def test_the_generic_decline_card_is_declined_and_another_card_can_pay(stripe_api_base, intent):
    declined = confirm_in_browser(stripe_api_base, intent, "4000000000000002")

    assert declined.status_code == 402, declined.text
    assert declined.json()["error"]["code"] == "card_declined"
    assert status_at_stripe(stripe_api_base, intent) == "requires_payment_method"
    paid = confirm_in_browser(stripe_api_base, intent, "4242424242424242")
    assert paid.json()["status"] == "succeeded"
    again = confirm_in_browser(stripe_api_base, intent, "4242424242424242")
    assert again.json()["error"]["code"] == "payment_intent_unexpected_state"


def test_a_wrong_client_secret_changes_nothing(stripe_api_base, intent):
    refused = confirm_in_browser(
        stripe_api_base, intent, "4242424242424242", intent["client_secret"] + "x"
    )

    assert refused.status_code == 401
    assert status_at_stripe(stripe_api_base, intent) == "requires_payment_method"


def test_a_3d_secure_card_waits_for_authentication(stripe_api_base, intent):
    waiting = confirm_in_browser(stripe_api_base, intent, "4000002500003155")

    assert waiting.json()["status"] == "requires_action"


def test_stripe_js_is_localstripes_with_the_card_payment_flow(stripe_api_base):
    script = requests.get(f"{stripe_api_base}/js.stripe.com/v3/", timeout=10)

    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    original, fixes = script.text.split("// Shoppable's dev stack appends this", 1)
    assert "confirmCardPayment" in original  # localstripe's own stand-in comes first
    assert "/confirm`" in fixes and "payment_method_data" in fixes
