"""Cross-channel oversell: a TikTok order for stock already sold elsewhere follows the
merchant's `platform_oversell` setting. `cancel` (the default): cancelled on TikTok with its
out-of-stock reason; `backorder`: accepted with its stock owed. Either way the merchant hears
of it once (an inbox notice and a `platform_order.oversold` event), never a dead letter."""

import pytest

from chalicelib.services.platform_orders import order_id_for
from devstack.platform_standin import tiktok_order

from .outbound_helpers import Outbox
from .platform_helpers import connect, tiktok_signed
from .sales_helpers import checkout_body, drain, inventory

SHOP = "7494726673780148744"


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


def paid_on_tiktok(api, order_id, notification):
    body = {"type": 1, "tts_notification_id": notification, "shop_id": SHOP,
            "timestamp": 1664095733,
            "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT",
                     "update_time": 1664095610}}  # fmt: skip
    raw, headers = tiktok_signed(body)
    assert api.post("/v1/webhooks/tiktok", raw=raw, headers=headers).status_code == 200


def sold_out_on_the_storefront(api, product):
    placed = api.post("/v1/checkouts", checkout_body(product, quantities=(5,)))
    assert placed.status_code == 201, placed.body


def oversold_events(api, rt, merchant):
    Outbox(api, rt).drain()
    events = api.get("/v1/events?type=platform_order.oversold", key=merchant.secret).json
    return events["data"]


def notices(api, merchant):
    return [i for i in api.get("/v1/inbox", key=merchant.secret).json["data"]
            if i["kind"] == "notice"]  # fmt: skip


def test_a_tiktok_order_for_sold_out_stock_is_cancelled_on_tiktok_and_reported(
    api, rt, merchant, product, platforms
):
    connect(api, platforms, merchant, "tiktok")
    sold_out_on_the_storefront(api, product)
    platforms.tiktok_orders["9001"] = tiktok_order("9001", sku="SHIRT-S", quantity=1)
    paid_on_tiktok(api, "9001", "n1")
    drain(api, rt)  # handled: no retry, no dead letter
    paid_on_tiktok(api, "9001", "n2")  # TikTok says it again
    drain(api, rt)

    cancels = platforms.calls("tiktok", "POST", "/return_refund/202309/cancellations")
    assert cancels[0].body == {"order_id": "9001",
                               "cancel_reason": "seller_cancel_reason_out_of_stock"}  # fmt: skip
    assert platforms.tiktok_orders["9001"]["status"] == "CANCELLED"
    assert api.get(f"/v1/orders/{order_id_for('tiktok', '9001')}",
                   key=merchant.secret).status_code == 404  # fmt: skip
    assert inventory(api, merchant, product) == {"on_hand": 5, "reserved": 5, "available": 0}

    (event,) = oversold_events(api, rt, merchant)  # once, though TikTok said it twice
    assert event["data"]["action"] == "cancelled"
    assert event["data"]["skus"] == ["SHIRT-S"] and event["data"]["external_order_id"] == "9001"
    (notice,) = notices(api, merchant)
    assert notice["id"] == event["data"]["inbox_item_id"]
    assert "9001" in notice["text"] and "SHIRT-S" in notice["text"]


def test_with_backorder_the_order_is_accepted_and_its_stock_owed(
    api, rt, merchant, product, platforms
):
    connect(api, platforms, merchant, "tiktok")
    done = api.patch("/v1/settings", {"platform_oversell": "backorder"}, key=merchant.secret)
    assert done.status_code == 200
    sold_out_on_the_storefront(api, product)
    platforms.tiktok_orders["9002"] = tiktok_order("9002", sku="SHIRT-S", quantity=2)
    paid_on_tiktok(api, "9002", "n1")
    drain(api, rt)

    order = api.get(f"/v1/orders/{order_id_for('tiktok', '9002')}", key=merchant.secret).json
    assert order["status"] == "paid"
    assert not platforms.calls("tiktok", "POST", "/return_refund/202309/cancellations")
    # 5 held by the storefront's checkout, 2 owed to TikTok's buyer: none to sell
    assert inventory(api, merchant, product)["available"] == 0
    assert inventory(api, merchant, product)["on_hand"] == 3
    (event,) = oversold_events(api, rt, merchant)
    assert event["data"]["action"] == "backordered"
    assert event["data"]["order_id"] == order["id"]
    # the storefront cannot sell what is owed
    again = api.post("/v1/checkouts", checkout_body(product, quantities=(1,)))
    assert again.status_code == 409 and again.json["error"]["code"] == "out_of_stock"


def test_a_cancel_tiktok_refuses_is_reported_not_dead_lettered(
    api, rt, merchant, product, platforms
):
    connect(api, platforms, merchant, "tiktok")
    sold_out_on_the_storefront(api, product)
    platforms.tiktok_orders["9003"] = tiktok_order("9003", sku="SHIRT-S")
    message = "No permission to operate on this order."
    platforms.fail("tiktok", "/return_refund/202309/cancellations", status=403, message=message)
    paid_on_tiktok(api, "9003", "n1")
    drain(api, rt)  # asserts no message failed
    (event,) = oversold_events(api, rt, merchant)
    assert event["data"]["action"] == "cancel_refused"
    assert event["data"]["reason"] == message
    (notice,) = notices(api, merchant)
    assert "cancel it in the seller center" in notice["text"]
