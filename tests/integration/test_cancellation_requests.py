"""A TikTok buyer's request to cancel a paid order: kept on the order when TikTok notifies it
(CANCELLATION_STATUS_CHANGE), shown in the order view, and answered by the merchant through
TikTok's approve and reject calls; TikTok's own follow-up notifications then cancel the order
(and put its stock back) or not."""

import pytest

from chalicelib.services.platform_orders import order_id_for
from devstack.platform_standin import tiktok_order

from .platform_helpers import connect, tiktok_signed, token_of
from .sales_helpers import drain, inventory

SHOP = "7494049642642441621"
ORDER = "576486316948490001"
CANCEL = "4035318504086604100"


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


def notify(api, data, kind=11, notification="n1"):
    body = {
        "type": kind,
        "tts_notification_id": notification,
        "shop_id": SHOP,
        "timestamp": 1644412885,
        "data": data,
    }
    raw, headers = tiktok_signed(body)
    assert api.post("/v1/webhooks/tiktok", raw=raw, headers=headers).status_code == 200


def requested(status="CANCELLATION_REQUEST_PENDING", role="BUYER"):
    return {
        "order_id": ORDER,
        "cancellations_role": role,
        "cancel_status": status,
        "cancel_id": CANCEL,
        "create_time": 1627587600,
    }


@pytest.fixture
def pending(api, rt, merchant, product, platforms):
    """A paid TikTok order whose buyer asked to cancel it."""
    connect(api, platforms, merchant, "tiktok", SHOP)
    platforms.tiktok_orders[ORDER] = tiktok_order(ORDER, sku="SHIRT-S", quantity=2)
    platforms.tiktok_cancellations[CANCEL] = {
        "cancel_id": CANCEL,
        "order_id": ORDER,
        "role": "BUYER",
        "cancel_status": "CANCELLATION_REQUEST_PENDING",
    }
    notify(api, requested())
    drain(api, rt)
    return order_id_for("tiktok", ORDER)


def test_a_buyers_request_is_kept_on_the_order_it_imports(api, merchant, product, pending):
    order = api.get(f"/v1/orders/{pending}", key=merchant.secret).json
    assert (order["status"], order["source"]) == ("paid", "tiktok")
    assert order["cancellation"] == {
        "id": CANCEL,
        "requested_by": "buyer",
        "status": "pending",
        "requested_at": "2021-07-29T19:40:00Z",
        "updated_at": order["cancellation"]["updated_at"],
        "reject_reason": None,
    }
    assert inventory(api, merchant, product)["on_hand"] == 3


def test_approving_goes_through_tiktok_once_and_its_notification_cancels_the_order(
    api, rt, merchant, product, pending, platforms
):
    path = f"/v1/orders/{pending}/cancellation/approve"
    first = api.post(path, key=merchant.secret, headers={"Idempotency-Key": "approve-1"})
    again = api.post(path, key=merchant.secret, headers={"Idempotency-Key": "approve-1"})
    assert first.status_code == again.status_code == 200, first.body
    assert first.json["cancellation"]["status"] == "approved"
    assert first.json["status"] == "paid"  # until TikTok says the order is cancelled
    (call,) = platforms.calls(
        "tiktok", "POST", f"/return_refund/202309/cancellations/{CANCEL}/approve"
    )
    assert call.query["idempotency_key"] == f"approve-{CANCEL}" and call.body == {}
    # as the shop's own connection: its seller's token and the shop's cipher
    assert call.headers["x-tts-access-token"] == token_of(platforms, "tiktok", SHOP)
    assert call.query["shop_cipher"] == f"GCP_{SHOP}"

    notify(api, requested("CANCELLATION_REQUEST_SUCCESS"), notification="n2")
    notify(
        api,
        {"order_id": ORDER, "order_status": "CANCEL", "update_time": 1644412999},
        kind=1,
        notification="n3",
    )
    drain(api, rt)
    order = api.get(f"/v1/orders/{pending}", key=merchant.secret).json
    assert (order["status"], order["cancellation"]["status"]) == ("cancelled", "approved")
    assert inventory(api, merchant, product)["on_hand"] == 5


def test_rejecting_sends_tiktoks_reason_and_comment(api, merchant, pending, platforms):
    body = {
        "reason": "seller_reject_apply_product_has_been_packed",
        "comment": "I have packed the products before cancellation request",
    }
    response = api.post(f"/v1/orders/{pending}/cancellation/reject", body, key=merchant.secret)
    assert response.status_code == 200, response.body
    assert response.json["cancellation"]["status"] == "rejected"
    assert response.json["cancellation"]["reject_reason"] == body["reason"]
    (call,) = platforms.calls("tiktok", "POST", f".*/{CANCEL}/reject")
    published = {"reject_reason", "comment", "images"}  # tiktok/reject_cancellation__request.json
    assert set(call.body) <= published and call.body["reject_reason"] == body["reason"]


def test_a_request_answered_or_absent_is_a_409(api, rt, merchant, pending):
    approve = f"/v1/orders/{pending}/cancellation/approve"
    assert api.post(approve, key=merchant.secret).status_code == 200
    again = api.post(approve, key=merchant.secret)  # no Idempotency-Key: a second answer
    assert again.status_code == 409
    assert again.json["error"]["code"] == "invalid_transition"
    reject = api.post(
        f"/v1/orders/{pending}/cancellation/reject",
        {"reason": "seller_reject_apply_unable_to_change_address"},
        key=merchant.secret,
    )
    assert reject.status_code == 409


def test_only_the_buyers_pending_request_can_be_answered(api, rt, merchant, pending):
    notify(api, requested("CANCELLATION_REQUEST_CANCELLED"), notification="n4")  # withdrawn
    drain(api, rt)
    response = api.post(f"/v1/orders/{pending}/cancellation/approve", key=merchant.secret)
    assert response.status_code == 409


def test_a_late_pending_notification_never_reopens_an_answered_request(api, rt, merchant, pending):
    assert (
        api.post(f"/v1/orders/{pending}/cancellation/approve", key=merchant.secret).status_code
        == 200
    )
    notify(api, requested(), notification="n5")  # the first notification, delivered again late
    drain(api, rt)
    order = api.get(f"/v1/orders/{pending}", key=merchant.secret).json
    assert order["cancellation"]["status"] == "approved"


def test_tiktoks_refusal_is_a_409_naming_it(api, merchant, pending, platforms):
    platforms.tiktok_cancellations[CANCEL]["cancel_status"] = "CANCELLATION_REQUEST_SUCCESS"
    response = api.post(f"/v1/orders/{pending}/cancellation/approve", key=merchant.secret)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "platform_refused"
    assert "25011012" in response.json["error"]["message"]


def test_tiktok_unavailable_is_a_503_and_nothing_is_recorded(api, merchant, pending, platforms):
    platforms.fail("tiktok", "/approve$", status=503)
    response = api.post(f"/v1/orders/{pending}/cancellation/approve", key=merchant.secret)
    assert response.status_code == 503
    order = api.get(f"/v1/orders/{pending}", key=merchant.secret).json
    assert order["cancellation"]["status"] == "pending"


def test_a_shop_no_longer_connected_cannot_answer_and_nothing_reaches_tiktok(
    api, merchant, pending, platforms
):
    (shop,) = api.get("/v1/connections", key=merchant.secret).json["data"]
    assert api.delete(f"/v1/connections/{shop['id']}", key=merchant.secret).status_code == 200
    calls_before = len(platforms.calls("tiktok", "POST"))
    response = api.post(f"/v1/orders/{pending}/cancellation/approve", key=merchant.secret)
    assert (response.status_code, response.json["error"]["code"]) == (
        409,
        "account_not_connected",
    )
    assert len(platforms.calls("tiktok", "POST")) == calls_before
    order = api.get(f"/v1/orders/{pending}", key=merchant.secret).json
    assert order["cancellation"]["status"] == "pending"


def test_answers_need_the_orders_write_scope_and_the_merchants_own_order(
    api, rt, merchant, other_merchant, pending
):
    from chalicelib.domain.scopes import Scope
    from chalicelib.services.merchants import issue_key

    reader = issue_key(rt.merchants, merchant.merchant.id, frozenset({Scope.ORDERS_READ}))
    path = f"/v1/orders/{pending}/cancellation/approve"
    assert api.post(path).status_code == 401
    assert api.post(path, key=reader.secret).status_code == 403
    assert api.post(path, key=other_merchant.secret).status_code == 404
    bad = api.post(
        f"/v1/orders/{pending}/cancellation/reject", {"reason": "Drop table"}, key=merchant.secret
    )
    assert (bad.status_code, bad.json["error"]["param"]) == (422, "reason")
    order = api.get(f"/v1/orders/{pending}", key=merchant.secret).json
    assert order["cancellation"]["status"] == "pending"


def test_a_request_for_an_unpaid_order_is_acknowledged_without_an_order(
    api, rt, merchant, product, platforms
):
    connect(api, platforms, merchant, "tiktok", SHOP)
    platforms.tiktok_orders[ORDER] = tiktok_order(ORDER, status="UNPAID", sku="SHIRT-S")
    notify(api, requested())
    drain(api, rt)
    assert (
        api.get(f"/v1/orders/{order_id_for('tiktok', ORDER)}", key=merchant.secret).status_code
        == 404
    )
