"""Platform orders: TikTok's ORDER_STATUS_CHANGE and Meta's pulled orders become Shoppable
orders through the checkout's reservation and the vault."""

import pytest

from chalicelib.adapters.platforms.tiktok import request_sign
from chalicelib.services.platform_orders import order_id_for
from devstack.platform_standin import meta_order, tiktok_order

from .platform_helpers import TIKTOK_SECRET, connect, run_schedule, tiktok_signed, token_of
from .sales_helpers import drain, inventory

SHOP = "7494726673780148744"


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


def status_change(order_id, status, notification):
    return {
        "type": 1,
        "tts_notification_id": notification,
        "shop_id": SHOP,
        "timestamp": 1664095733,
        "data": {"order_id": order_id, "order_status": status, "update_time": 1664095610},
    }


def deliver(api, body):
    raw, headers = tiktok_signed(body)
    assert api.post("/v1/webhooks/tiktok", raw=raw, headers=headers).status_code == 200


def test_a_tiktok_order_is_imported_paid_with_its_stock_committed(
    api,
    rt,
    merchant,
    product,
    platforms,
):
    connect(api, platforms, merchant, "tiktok")
    platforms.tiktok_orders["5766"] = tiktok_order("5766", sku="SHIRT-S", quantity=2)
    deliver(api, status_change("5766", "AWAITING_SHIPMENT", "n1"))
    drain(api, rt)

    order = api.get(f"/v1/orders/{order_id_for('tiktok', '5766')}", key=merchant.secret).json
    assert order["status"] == "paid"
    assert order["source"] == "tiktok"
    assert order["lines"][0]["sku"] == "SHIRT-S" and order["lines"][0]["quantity"] == 2
    assert order["amounts"] == {"currency": "EUR", "subtotal": 9800, "total": 9800, "refunded": 0}
    assert order["customer"]["token"].startswith("cus_")
    assert order["customer"]["name"] != "Ada Buyer"  # masked; the name is in the vault only
    assert inventory(api, merchant, product) == {"on_hand": 3, "reserved": 0, "available": 3}

    (call,) = platforms.calls("tiktok", "GET", "/order/202309/orders")
    assert call.query["ids"] == "5766" and call.query["app_key"] == "ttkeytests"
    assert call.query["shop_cipher"] == "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3"
    assert call.headers["x-tts-access-token"] == token_of(platforms, "tiktok", SHOP)
    unsigned = {k: v for k, v in call.query.items() if k != "sign"}
    assert call.query["sign"] == request_sign(TIKTOK_SECRET, call.path, unsigned, b"")


def test_later_statuses_move_the_order_and_repeats_change_nothing(
    api,
    rt,
    merchant,
    product,
    platforms,
):
    connect(api, platforms, merchant, "tiktok")
    platforms.tiktok_orders["77"] = tiktok_order("77", sku="SHIRT-S")
    deliver(api, status_change("77", "AWAITING_SHIPMENT", "a"))
    deliver(api, status_change("77", "AWAITING_SHIPMENT", "a"))  # the same notification again
    drain(api, rt)
    platforms.tiktok_orders["77"] = tiktok_order("77", status="DELIVERED", sku="SHIRT-S")
    deliver(api, status_change("77", "DELIVERED", "b"))
    drain(api, rt)
    order = api.get(f"/v1/orders/{order_id_for('tiktok', '77')}", key=merchant.secret).json
    assert [h["status"] for h in order["history"]] == [
        "pending_payment",
        "paid",
        "fulfilled",
        "delivered",
    ]
    assert inventory(api, merchant, product)["on_hand"] == 4


def test_a_cancelled_tiktok_order_puts_its_stock_back(api, rt, merchant, product, platforms):
    connect(api, platforms, merchant, "tiktok")
    platforms.tiktok_orders["88"] = tiktok_order("88", sku="SHIRT-S")
    deliver(api, status_change("88", "AWAITING_SHIPMENT", "c1"))
    drain(api, rt)
    platforms.tiktok_orders["88"] = tiktok_order("88", status="CANCELLED", sku="SHIRT-S")
    deliver(api, status_change("88", "CANCELLED", "c2"))
    drain(api, rt)
    order = api.get(f"/v1/orders/{order_id_for('tiktok', '88')}", key=merchant.secret).json
    assert order["status"] == "cancelled"
    assert inventory(api, merchant, product) == {"on_hand": 5, "reserved": 0, "available": 5}


def test_meta_orders_are_pulled_imported_and_acknowledged(
    api,
    rt,
    merchant,
    product,
    platforms,
):
    connect(api, platforms, merchant, "instagram")  # and its Page, 106000000000001
    platforms.oauth.commerce_accounts["cms1"] = "106000000000001"
    named = api.patch("/v1/settings", {"meta_commerce_account_id": "cms1"}, key=merchant.secret)
    assert named.status_code == 200, named.body
    platforms.meta_orders.append(meta_order("m100", sku="SHIRT-S", currency="EUR"))

    assert run_schedule(api, "pull_meta_orders") == {"imported": 1}
    assert run_schedule(api, "pull_meta_orders") == {"imported": 0}

    our_id = order_id_for("facebook", "m100")
    order = api.get(f"/v1/orders/{our_id}", key=merchant.secret).json
    assert (order["status"], order["source"]) == ("paid", "facebook")
    listed = platforms.calls("meta", "GET", "/cms1/commerce_orders")[0]
    assert listed.query["state"] == "CREATED"
    page_token = token_of(platforms, "facebook", "106000000000001")
    assert listed.headers["authorization"] == f"Bearer {page_token}"
    (ack,) = platforms.calls("meta", "POST", "/m100/acknowledge_order")
    assert ack.body == {"merchant_order_reference": our_id, "idempotency_key": "ack-m100"}
