"""Creators through HTTP: their personal data in the vault, links and codes, attribution at
checkout, and the commission ledger fed by the outbox's events."""

import json

from .creators_helpers import (
    funnel,
    new_code,
    new_creator,
    new_post,
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
    assert creator["masked"] == {
        "name": "J***",
        "email": "j***@example.com",
        "handles": ["instagram", "tiktok"],
        "payout_method": "bank_transfer",
    }
    stored = json.dumps(rt.table.get({"pk": f"CR#{creator['id']}", "sk": "CREATOR"}))
    for secret in ("jane.creates", "Jane Creator", "DE89", "3704", "jane.creator@"):
        assert secret not in stored
    # The payout details come back only for the payout purpose, audited.
    read = api.get(f"/v1/customers/{creator['customer_token']}?purpose=payout", key=merchant.secret)
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
    assert got["totals"] == [
        {
            "currency": "EUR",
            "earned": 980,
            "clawed_back": 0,
            "net": 980,
            "available": 0,
            "pending": 980,
        }
    ]
    # A refund of 1/7 of the order claws back 1/7 of the commission: 140.
    refunded = api.post(
        f"/v1/orders/{placed['order_id']}/refund", {"amount": 1400}, key=merchant.secret
    )
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


def raw_get(api, path, key):
    return api.client.http.request("GET", path, headers={"Authorization": f"Bearer {key}"})


def test_commissions_mature_after_the_hold_and_export_as_csv(
    api, rt, merchant, product, stripe_api_base
):
    held = new_creator(
        api, merchant.secret, commission={"rate_bps": 1000, "products": {product["id"]: 1550}}
    )
    free = new_creator(api, merchant.secret, email="sam@example.com", name="Sam", hold_days=0)
    new_code(api, merchant.secret, held["id"], "HELD")
    new_code(api, merchant.secret, free["id"], "FREE")
    outbox = Outbox(api, rt)
    paid_checkout(api, rt, stripe_api_base, product, quantities=(1,), referral_code="HELD")
    paid_checkout(api, rt, stripe_api_base, product, quantities=(1,), referral_code="FREE")
    outbox.drain()
    # 15.5 % of 4900 (the product's own rate) = 759.5 -> 760, rounded half up.
    got = statement(api, merchant.secret, held["id"])
    assert got["totals"][0] | {} == {
        "currency": "EUR",
        "earned": 760,
        "clawed_back": 0,
        "net": 760,
        "available": 0,
        "pending": 760,
    }
    entry = got["entries"][0]
    assert entry["matures_at"] > entry["at"]
    got = statement(api, merchant.secret, free["id"])
    assert got["totals"][0]["available"] == 490 and got["totals"][0]["pending"] == 0
    csv = raw_get(api, f"/v1/creators/{free['id']}/statement.csv", merchant.secret)
    assert csv.status_code == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    lines = csv.body.decode().splitlines()
    assert lines[0] == "at,kind,order_id,event_id,currency,amount,matures_at,status"
    assert ",earned,ord_" in lines[1] and lines[1].endswith("available")
    assert ",EUR,4.90," in lines[1]
    # Days before the sale hold nothing.
    empty = statement(
        api, merchant.secret, free["id"], **{"from": "2020-01-01", "to": "2020-01-31"}
    )
    assert empty["entries"] == [] and empty["totals"] == []


def test_a_chargeback_claws_back_and_a_won_dispute_reinstates(
    api, rt, merchant, product, stripe_api_base
):
    from .sales_helpers import deliver, drain
    from .stripe_helpers import event

    creator = new_creator(api, merchant.secret)
    new_code(api, merchant.secret, creator["id"], "JANE10")
    outbox = Outbox(api, rt)
    placed = paid_checkout(api, rt, stripe_api_base, product, referral_code="JANE10")
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 4900,
        "currency": "eur",
        "payment_intent": placed["payment_intent_id"],
        "charge": "ch_1",
        "status": "needs_response",
        "reason": "fraudulent",
        "created": 1764500000,
    }
    deliver(api, event("charge.dispute.created", dispute, "evt_dispute_opened"))
    drain(api, rt)
    outbox.drain()
    got = statement(api, merchant.secret, creator["id"])
    assert [(e["kind"], e["amount"]) for e in got["entries"]] == [
        ("earned", 980),
        ("clawback", -490),
    ]
    deliver(api, event("charge.dispute.closed", dispute | {"status": "won"}, "evt_dispute_won"))
    drain(api, rt)
    outbox.drain()
    assert order_of(api, merchant, placed["order_id"])["status"] == "paid"
    got = statement(api, merchant.secret, creator["id"])
    assert [e["kind"] for e in got["entries"]] == ["earned", "clawback", "reinstated"]
    assert got["totals"][0]["net"] == 980
    # The whole stream read again: not a cent moves.
    outbox.reader.restart()
    outbox.drain()
    assert statement(api, merchant.secret, creator["id"])["entries"] == got["entries"]


def test_a_creator_is_changed_paused_and_kept_to_its_merchant(
    api, rt, merchant, other_merchant, product, stripe_api_base
):
    creator = new_creator(api, merchant.secret)
    changed = api.patch(
        f"/v1/creators/{creator['id']}",
        {"commission": {"rate_bps": 2000}, "hold_days": 14},
        key=merchant.secret,
    )
    assert changed.status_code == 200, changed.body
    assert (changed.json["commission"]["rate_bps"], changed.json["hold_days"]) == (2000, 14)
    assert changed.json["customer_token"] == creator["customer_token"]
    half = api.patch(
        f"/v1/creators/{creator['id']}", {"handles": {"x": "jane"}}, key=merchant.secret
    )
    assert half.status_code == 422
    moved = api.patch(
        f"/v1/creators/{creator['id']}",
        {
            "name": "Jane C",
            "email": "jane.c@example.com",
            "handles": {"x": "jane"},
            "payout": {"method": "paypal", "email": "pay@example.com"},
        },
        key=merchant.secret,
    )
    assert moved.status_code == 200, moved.body
    assert moved.json["masked"]["handles"] == ["x"]
    assert moved.json["masked"]["payout_method"] == "paypal"
    listed = api.get("/v1/creators", key=merchant.secret).json
    assert [c["id"] for c in listed["data"]] == [creator["id"]]
    assert api.get("/v1/creators", key=other_merchant.secret).json["data"] == []
    for path in (
        f"/v1/creators/{creator['id']}",
        f"/v1/creators/{creator['id']}/statement",
        f"/v1/creators/{creator['id']}/referrals",
    ):
        assert api.get(path, key=other_merchant.secret).status_code == 404
    assert (
        api.patch(
            f"/v1/creators/{creator['id']}", {"status": "paused"}, key=other_merchant.secret
        ).status_code
        == 404
    )
    # Paused: orders are still attributed, but nothing is earned.
    assert (
        api.patch(f"/v1/creators/{creator['id']}", {"status": "paused"}, key=merchant.secret).json[
            "status"
        ]
        == "paused"
    )
    new_code(api, merchant.secret, creator["id"], "PAUSED")
    outbox = Outbox(api, rt)
    placed = paid_checkout(api, rt, stripe_api_base, product, referral_code="PAUSED")
    outbox.drain()
    assert order_of(api, merchant, placed["order_id"])["attribution"]["creator_id"] == creator["id"]
    assert statement(api, merchant.secret, creator["id"])["entries"] == []


def test_codes_are_unique_in_a_shop_and_links_open_the_shops_own_posts(
    api, merchant, other_merchant, product
):
    jane = new_creator(api, merchant.secret)
    sam = new_creator(api, merchant.secret, email="sam@example.com", name="Sam")
    new_code(api, merchant.secret, jane["id"], "SUMMER")
    taken = api.post(f"/v1/creators/{sam['id']}/codes", {"code": "summer"}, key=merchant.secret)
    assert taken.status_code == 409 and taken.json["error"]["code"] == "code_taken"
    theirs = new_creator(api, other_merchant.secret)
    assert (
        api.post(
            f"/v1/creators/{theirs['id']}/codes", {"code": "SUMMER"}, key=other_merchant.secret
        ).status_code
        == 201
    )
    foreign = new_post(api, merchant.secret, product)
    refused = api.post(
        f"/v1/creators/{theirs['id']}/links", {"post_id": foreign["id"]}, key=other_merchant.secret
    )
    assert refused.status_code == 422 and refused.json["error"]["param"] == "post_id"
    listed = api.get(f"/v1/creators/{jane['id']}/referrals", key=merchant.secret).json
    assert [(r["code"], r["kind"]) for r in listed["data"]] == [("SUMMER", "code")]


def test_creators_need_their_scopes(api, rt, merchant):
    from chalicelib.domain.scopes import Scope
    from chalicelib.services.merchants import issue_key

    reader = issue_key(rt.merchants, merchant.merchant.id, {Scope.CREATORS_READ}).secret
    assert api.get("/v1/creators", key=reader).status_code == 200
    refused = api.post("/v1/creators", {"name": "x"}, key=reader)
    assert refused.status_code == 403
    creator = new_creator(api, merchant.secret)
    # The creators' scope does not read their payout details: the vault's purpose does.
    denied = api.get(f"/v1/customers/{creator['customer_token']}?purpose=payout", key=reader)
    assert denied.status_code == 403
