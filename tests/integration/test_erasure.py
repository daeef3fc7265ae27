"""Erasure reaches everything that showed the person: after `DELETE /v1/customers/{token}`
no table, queue or idempotency record holds a value of theirs, masked ones included.

And what people write on the platforms never rides the queue: it waits in the store under a
ref until the consumer files it in the inbox."""

import json

import pytest

from chalicelib.errors import ServiceUnavailable
from devstack.platform_standin import SAMPLE_COMMENTER

from .platform_helpers import IG_ACCOUNT, comment, connect, meta_signed
from .sales_helpers import checkout_body, drain

BUYER_VALUES = ("Jane.Doe@example.com", "jane.doe@example.com", "Jane Doe", "+33612345678",
                "12 rue de la Paix", "75002", "j***@example.com", "J***", "***5678")  # fmt: skip
COMMENT = "Combien pour la chemise?"


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


def everything(rt) -> str:
    """Every item of every table and every message waiting on every queue."""
    found = []
    for table in (rt.settings.main_table, rt.settings.vault_table, rt.settings.vault_keys_table):
        found += rt.dynamodb.scan(TableName=table)["Items"]
    for url in rt.sqs.list_queues().get("QueueUrls", []):
        found += rt.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
    return json.dumps(found, default=str)


def test_after_erasure_no_value_of_the_buyer_is_left(api, rt, merchant, product):
    headers = {"Idempotency-Key": "jane-cart"}
    first = api.post("/v1/checkouts", checkout_body(product, quantities=(1,)), headers=headers)
    second = api.post("/v1/checkouts", checkout_body(product, quantities=(1,)))
    assert first.status_code == second.status_code == 201
    token = first.json["customer"]["token"]
    assert second.json["customer"]["token"] == token
    held = everything(rt)
    assert "j***@example.com" in held, "the orders show the buyer masked until erasure"

    erased = api.request("DELETE", f"/v1/customers/{token}", key=merchant.secret)
    assert erased.status_code == 200, erased.body
    left = everything(rt)
    assert [v for v in BUYER_VALUES if v in left] == []

    order = api.get(f"/v1/orders/{first.json['order_id']}", key=merchant.secret).json
    assert order["customer"] == {"token": token, "email": None, "name": None, "erased": True}
    replay = api.post("/v1/checkouts", checkout_body(product, quantities=(1,)), headers=headers)
    assert replay.status_code == 201 and replay.json["customer"]["erased"] is True
    fulfillment = f"/v1/customers/{token}?purpose=fulfillment&order_id={first.json['order_id']}"
    assert api.get(fulfillment, key=merchant.secret).status_code == 410


def test_an_erasure_asked_again_finishes_what_the_first_left(api, rt, merchant, product):
    placed = api.post("/v1/checkouts", checkout_body(product, quantities=(1,))).json
    token = placed["customer"]["token"]

    def busy(*args):
        raise ServiceUnavailable("the store is busy")

    references = rt.customer_references
    references.forget_order_buyer, working = busy, references.forget_order_buyer
    assert api.request("DELETE", f"/v1/customers/{token}", key=merchant.secret).status_code == 503
    assert "j***@example.com" in everything(rt)
    references.forget_order_buyer = working
    again = api.request("DELETE", f"/v1/customers/{token}", key=merchant.secret)
    assert again.status_code == 410
    assert "j***@example.com" not in everything(rt)


def test_a_commenters_text_never_rides_the_queue_and_goes_with_them(
    api, rt, merchant, post, platforms
):
    platforms.add_meta_object("c77", text=COMMENT, **{"from": SAMPLE_COMMENTER})
    connect(api, platforms, merchant, "instagram", IG_ACCOUNT)
    raw, headers = meta_signed({"object": "instagram", "entry": [comment("c77", COMMENT)]})
    assert api.post("/v1/webhooks/meta", raw=raw, headers=headers).status_code == 200
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    (queued,) = rt.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    assert COMMENT not in queued["Body"] and "text_ref" in queued["Body"]
    drain(api, rt)
    (item,) = api.get("/v1/inbox", key=merchant.secret).json["data"]
    assert item["text"] == COMMENT
    assert COMMENT in everything(rt), "filed in the inbox"
    assert json.dumps(everything(rt)).count(COMMENT) == 1, "and nowhere else"

    token = item["author"]["token"]
    assert api.request("DELETE", f"/v1/customers/{token}", key=merchant.secret).status_code == 200
    left = everything(rt)
    assert COMMENT not in left and SAMPLE_COMMENTER["username"] not in left
    (item,) = api.get("/v1/inbox", key=merchant.secret).json["data"]
    assert item["text"] == "" and item["author"] == {"token": token, "handle": "", "erased": True}


def test_another_merchant_cannot_erase_or_strip_anything(
    api, rt, merchant, other_merchant, product
):
    placed = api.post("/v1/checkouts", checkout_body(product, quantities=(1,))).json
    token = placed["customer"]["token"]
    response = api.request("DELETE", f"/v1/customers/{token}", key=other_merchant.secret)
    assert response.status_code == 404
    order = api.get(f"/v1/orders/{placed['order_id']}", key=merchant.secret).json
    assert order["customer"]["email"] == "j***@example.com"
