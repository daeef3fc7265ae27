"""What an anonymous checkout may do to a customer the shop holds: nothing.

A checkout is identified by the blind index (any case or spacing of the email) and keeps the
details it was placed with as the order's own sealed snapshot; the customer's record, consent
included, changes only through the merchant's `POST /v1/customers`. A checkout that fails
leaves nothing in the vault. And the vault itself believes no caller it cannot verify.
"""

import time

import pytest

from chalicelib.errors import ServiceUnavailable
from chalicelib.vault.assertions import Issuer, mint

from .sales_helpers import checkout_body
from .vault_helpers import JANE, tokenize

ATTACKER = {
    "customer": {"email": "  JANE.doe@EXAMPLE.com ", "name": "Mallory", "phone": "+15555550100",
                 "marketing_consent": True},
    "shipping_address": {"line1": "1 Drop Street", "city": "Elsewhere", "postal_code": "99999",
                         "country": "US"},
}  # fmt: skip


def read(api, key, token, purpose, order_id=None):
    query = f"purpose={purpose}" + (f"&order_id={order_id}" if order_id else "")
    return api.get(f"/v1/customers/{token}?{query}", key=key)


def vault_items(rt) -> list[dict]:
    return rt.dynamodb.scan(TableName=rt.settings.vault_table)["Items"]


@pytest.fixture
def janes_order(api, merchant, product, jane):
    """Jane's own checkout, with the address the merchant holds for her."""
    body = checkout_body(product, quantities=(1,))
    body["customer"] = {"email": JANE["email"], "name": "Jane Doe"}
    body["shipping_address"] = JANE["shipping_address"]
    placed = api.post("/v1/checkouts", body)
    assert placed.status_code == 201, placed.body
    assert placed.json["customer"]["token"] == jane["token"]
    return placed.json


def test_a_checkout_with_a_known_email_changes_nothing_of_the_customer(
    api, merchant, product, jane, janes_order
):
    token = jane["token"]
    body = {**ATTACKER, "lines": [{"variant_id": product["variants"][0]["id"], "quantity": 1}]}
    attack = api.post("/v1/checkouts", body)
    assert attack.status_code == 201
    assert attack.json["customer"]["token"] == token, "found by the blind index"

    profile = read(api, merchant.secret, token, "fulfillment").json
    assert profile["name"] == "Jane Doe" and profile["phone"] == "+442079460958"
    assert profile["shipping_address"]["line1"] == "221B Baker Street"
    janes = read(api, merchant.secret, token, "fulfillment", janes_order["order_id"]).json
    assert janes["shipping_address"]["line1"] == "221B Baker Street"
    assert janes["order_id"] == janes_order["order_id"]
    theirs = read(api, merchant.secret, token, "fulfillment", attack.json["order_id"]).json
    assert theirs["shipping_address"]["line1"] == "1 Drop Street", "the order's own details"
    support = read(api, merchant.secret, token, "support").json
    assert support["email"] == JANE["email"] and support["name"] == "Jane Doe"


def test_consent_is_a_record_of_the_checkout_it_came_with(api, merchant, product, jane):
    token = jane["token"]
    assert read(api, merchant.secret, token, "marketing").status_code == 403
    body = {**ATTACKER, "lines": [{"variant_id": product["variants"][0]["id"], "quantity": 1}]}
    placed = api.post("/v1/checkouts", body).json
    marketing = read(api, merchant.secret, token, "marketing").json
    assert marketing["email"] == "JANE.doe@EXAMPLE.com", "the email given with the consent"
    assert marketing["consent"]["source"] == "checkout"
    assert marketing["consent"]["order_id"] == placed["order_id"]
    assert marketing["consent"]["text_version"] == "unversioned"
    export = api.get(f"/v1/customers/{token}/export", key=merchant.secret).json
    assert [c["order_id"] for c in export["consents"]] == [placed["order_id"]]
    assert [o["order_id"] for o in export["orders"]] == [placed["order_id"]]
    assert export["name"] == "Jane Doe", "the profile is the merchant's"


def test_an_order_id_reads_only_that_orders_details_and_only_its_customers(
    api, merchant, product, jane, janes_order, john
):
    order_id = janes_order["order_id"]
    assert read(api, merchant.secret, john["token"], "fulfillment", order_id).status_code == 404
    assert (
        read(api, merchant.secret, jane["token"], "fulfillment", "ord_nothere").status_code == 404
    )
    assert read(api, merchant.secret, jane["token"], "marketing", order_id).status_code == 400


def test_a_checkout_that_fails_leaves_nothing_in_the_vault(api, rt, merchant, product, jane):
    before = vault_items(rt)
    for fails in (
        {**ATTACKER},
        {**ATTACKER, "customer": {"email": "new@example.com", "name": "N"}},
    ):
        body = {**fails, "lines": [{"variant_id": product["variants"][0]["id"], "quantity": 1}]}
        with_stripe_down(rt, lambda body=body: api.post("/v1/checkouts", body), 503)
    assert sorted(map(str, vault_items(rt))) == sorted(map(str, before))
    assert read(api, merchant.secret, jane["token"], "marketing").status_code == 403


def with_stripe_down(rt, call, status):
    class Refusing:
        def __getattr__(self, name):
            return getattr(rt.stripe, name)

        def create_payment_intent(self, *args, **kwargs):
            raise ServiceUnavailable("the payment provider is down")

    real = rt.sales
    rt.__dict__["sales"] = type(real)(**{**real.__dict__, "payments": Refusing()})
    try:
        assert call().status_code == status
    finally:
        rt.__dict__["sales"] = real


# The vault believes only what it can verify


def invoke_vault(api, command):
    return api.client.lambda_.invoke("vault", command).payload


def refusals(rt) -> list[dict]:
    return [i for i in vault_items(rt) if i["pk"]["S"].startswith("REFUSED#")]


def test_the_vault_function_refuses_and_audits_what_it_cannot_verify(
    api, rt, merchant, other_merchant, jane
):
    def command(merchant_id):
        return {
            "type": "detokenize", "token": jane["token"], "purpose": "support",
            "caller": {"merchant_id": merchant_id, "actor": "key_x",
                       "scopes": ["customers:read:support"]},
        }  # fmt: skip

    edge = rt._secret_key("edge_caller_key")
    worker = rt._secret_key("worker_caller_key")
    forged = command(merchant.merchant.id)
    forged["assertion"] = mint(b"not-the-key" * 4, Issuer.EDGE, forged, time.time())
    expired = command(merchant.merchant.id)
    expired["assertion"] = mint(edge, Issuer.EDGE, expired, time.time() - 120)
    by_worker = command(merchant.merchant.id)
    by_worker["assertion"] = mint(worker, Issuer.WORKER, by_worker, time.time())
    moved = command(merchant.merchant.id)
    moved["assertion"] = mint(edge, Issuer.EDGE, command(other_merchant.merchant.id), time.time())
    cases = {"none": command(merchant.merchant.id), "forged": forged, "expired": expired,
             "worker": by_worker, "moved": moved}  # fmt: skip
    for name, sent in cases.items():
        reply = invoke_vault(api, sent)
        assert reply["ok"] is False, name
        assert (reply["error"]["status"], reply["error"]["code"]) == (401, "caller_unverified")
        assert "Jane" not in str(reply)
    reasons = sorted(r["reason"]["S"] for r in refusals(rt))
    assert reasons == sorted(
        ["missing", "bad signature", "expired", "worker may not detokenize", "not for this command"]
    )

    genuine = command(merchant.merchant.id)
    genuine["assertion"] = mint(edge, Issuer.EDGE, genuine, time.time())
    assert invoke_vault(api, genuine)["result"]["name"] == "Jane Doe"


def test_only_a_merchants_key_changes_a_profile(api, rt, merchant, jane):
    from chalicelib.domain.scopes import Scope
    from chalicelib.errors import AuthenticationFailed, PermissionDenied
    from chalicelib.vault.models import Caller, CustomerCreate

    service = Caller.service(merchant.merchant.id, "checkout", frozenset({Scope.CUSTOMERS_WRITE}))
    with pytest.raises(PermissionDenied):
        rt.vault.tokenize(service, CustomerCreate(email=JANE["email"], name="Mallory"))
    with pytest.raises(AuthenticationFailed) as refused:
        rt.worker_vault.export(service, jane["token"])
    assert refused.value.code == "caller_unverified", "a worker may not export"
    assert tokenize(api, merchant.secret, {**JANE, "name": "Jane D."})["created"] is False
    assert read(api, merchant.secret, jane["token"], "support").json["name"] == "Jane D."
