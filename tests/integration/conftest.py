"""Integration tests: the Chalice app through `chalice.test.Client`, AWS emulated by moto."""

import json
import threading

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import runtime as runtime_module
from chalicelib.resources import provision
from chalicelib.services.merchants import create_merchant
from devstack.stripe_standin import StripeStandin

WEBHOOK_SECRET = "whsec_integration_tests"


@pytest.fixture(scope="session")
def stripe_api_base(tmp_path_factory):
    """localstripe, the real Stripe stand-in, the same way the dev stack runs it."""
    standin = StripeStandin(tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    standin.start(threading.Event())
    yield standin.api_base
    standin.stop()


@pytest.fixture
def rt(monkeypatch, stripe_api_base):
    monkeypatch.setenv("STRIPE_API_BASE", stripe_api_base)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_integration")
    monkeypatch.setenv("SHOPPABLE_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    with mock_aws():
        rt = runtime_module.reset()
        provision(rt)
        yield rt
        runtime_module.reset()


@pytest.fixture
def api(rt):
    import app

    with Client(app.app) as client:
        yield Api(client)


class Api:
    """Sends JSON to the app as a storefront or merchant would."""

    def __init__(self, client: Client):
        self.client = client

    def request(self, method, path, body=None, key=None, headers=None, raw=None):
        sent = {"Content-Type": "application/json", **(headers or {})}
        if key:
            sent["Authorization"] = f"Bearer {key}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.http.request(method, path, headers=sent, body=payload)
        response.json = json.loads(response.body) if response.body else None
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)


@pytest.fixture
def merchant(rt):
    return create_merchant(rt.merchants, "Acme Apparel")


@pytest.fixture
def other_merchant(rt):
    return create_merchant(rt.merchants, "Other Shop")


def product_body(**overrides):
    body = {
        "title": "Linen shirt",
        "description": "Breathable, relaxed fit.",
        "images": ["https://cdn.example.com/shirt.jpg"],
        "variants": [
            {
                "sku": "SHIRT-S",
                "price": {"amount": 4900, "currency": "EUR"},
                "options": {"size": "S"},
                "inventory": {"on_hand": 5},
            },
            {
                "sku": "SHIRT-M",
                "price": {"amount": 5400, "currency": "EUR"},
                "options": {"size": "M"},
                "inventory": {"on_hand": 0},
            },
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def product(api, merchant):
    response = api.post("/v1/products", product_body(), key=merchant.secret)
    assert response.status_code == 201, response.body
    return response.json
