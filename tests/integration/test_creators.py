"""Creators through HTTP: their personal data in the vault, links and codes, attribution at
checkout, and the commission ledger fed by the outbox's events."""

import json

from .creators_helpers import (
    funnel,
    new_code,
    new_creator,
    paid_checkout,
    row,
    statement,
)
from .outbound_helpers import Outbox
from .sales_helpers import order_of


def test_a_creator_keeps_only_a_token_and_masked_values(api, rt, merchant):
    creator = new_creator(api, merchant.secret)
    assert creator["id"].startswith("cr_")
    assert creator["customer_token"].startswith("cus_")
    assert creator["masked"] == {"name": "J***", "email": "j***@example.com",
                                 "handles": ["instagram", "tiktok"],
                                 "payout_method": "bank_transfer"}  # fmt: skip
    stored = json.dumps(rt.table.get({"pk": f"CR#{creator['id']}", "sk": "CREATOR"}))
    for secret in ("jane.creates", "Jane Creator", "DE89", "3704", "jane.creator@"):
        assert secret not in stored
    # The payout details come back only for the payout purpose, audited.
    read = api.get(f"/v1/customers/{creator['customer_token']}?purpose=payout",
                   key=merchant.secret)  # fmt: skip
    assert read.status_code == 200, read.body
    assert read.json["payout"]["iban"] == "DE89370400440532013000"


def test_a_purchase_with_a_code_shows_on_the_statement_and_a_partial_refund_claws_back(
    api, rt, merchant, product, stripe_api_base
):
    creator = new_creator(api, merchant.secret)
    code = new_code(api, merchant.secret, creator["id"], "jane10")
    assert code["code"] == "JANE10"
    outbox = Outbox(api, rt)
    placed = paid_checkout(api, rt, stripe_api_base, product, referral_code="Jane10")
    order = order_of(api, merchant, placed["order_id"])
    assert order["attribution"]["creator_id"] == creator["id"]
    assert order["attribution"]["via"] == "code"
    outbox.drain()
    got = statement(api, merchant.secret, creator["id"])
    assert [(e["kind"], e["amount"]) for e in got["entries"]] == [("earned", 980)]
    assert got["totals"] == [{"currency": "EUR", "earned": 980, "clawed_back": 0, "net": 980,
                              "available": 0, "pending": 980}]  # fmt: skip
    # A refund of 1/7 of the order claws back 1/7 of the commission: 140.
    refunded = api.post(f"/v1/orders/{placed['order_id']}/refund", {"amount": 1400},
                        key=merchant.secret)  # fmt: skip
    assert refunded.status_code == 200, refunded.body
    outbox.drain()
    got = statement(api, merchant.secret, creator["id"])
    assert [(e["kind"], e["amount"]) for e in got["entries"]] == [
        ("earned", 980),
        ("clawback", -140),
    ]
    assert got["totals"][0]["net"] == 840
    by_creator = funnel(api, merchant.secret, "creator")
    mine = row(by_creator, creator["id"])
    assert mine["checkouts"] == 1 and mine["paid_orders"] == 1
    assert mine["revenue"] == {"amount": 9800, "currency": "EUR"}
    assert mine["refunds"] == {"amount": 1400, "currency": "EUR"}
