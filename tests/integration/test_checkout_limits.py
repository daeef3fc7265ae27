"""A merchant's limits on anonymous checkouts (`/v1/settings`, `checkout`): units per line and
per order, unpaid checkouts per client and per email, the hold time; and what a refused
checkout tells the public (never the stock count)."""

from datetime import datetime

from chalicelib.domain.merchants import Scope
from chalicelib.errors import ServiceUnavailable

from .sales_helpers import checkout_body, deliver, drain, expire, inventory, stripe_intent
from .stripe_helpers import event, pay
from .vault_helpers import add_key


def limit(api, merchant, **checkout):
    response = api.patch("/v1/settings", {"checkout": checkout}, key=merchant.secret)
    assert response.status_code == 200, response.body
    return response.json["checkout"]


def buyer(email: str, quantity: int = 1, product=None):
    body = checkout_body(product, quantities=(quantity,))
    body["customer"] = {"email": email, "name": "Buy Er"}
    return body


def test_settings_start_unset_and_change_field_by_field(api, rt, merchant):
    shown = api.get("/v1/settings", key=merchant.secret).json
    assert shown["object"] == "settings"
    assert {"checkout": shown["checkout"]} == {
        "checkout": {
            "max_quantity_per_line": None,
            "max_units_per_order": None,
            "max_open_checkouts_per_client": None,
            "max_open_checkouts_per_email": None,
            "hold_minutes": None,
        },
    }
    assert limit(api, merchant, max_quantity_per_line=3)["max_quantity_per_line"] == 3
    changed = limit(api, merchant, hold_minutes=10)
    assert changed["max_quantity_per_line"] == 3 and changed["hold_minutes"] == 10
    assert limit(api, merchant, max_quantity_per_line=None)["max_quantity_per_line"] is None

    bad = api.patch("/v1/settings", {"checkout": {"hold_minutes": 0}}, key=merchant.secret)
    assert bad.status_code == 422 and bad.json["error"]["param"] == "checkout.hold_minutes"
    unknown = api.patch("/v1/settings", {"checkout": {"max_everything": 1}}, key=merchant.secret)
    assert unknown.status_code == 422
    reader = add_key(rt, merchant.merchant.id, Scope.SETTINGS_READ)
    assert api.get("/v1/settings", key=reader).status_code == 200
    assert api.patch("/v1/settings", {"checkout": {}}, key=reader).status_code == 403


def test_quantity_caps_refuse_before_anything_is_held(api, merchant, product):
    limit(api, merchant, max_quantity_per_line=2, max_units_per_order=3)
    two_variants = api.patch(
        f"/v1/products/{product['id']}",
        {"variants": [{"id": product["variants"][1]["id"], "inventory": {"on_hand": 5}}]},
        key=merchant.secret,
    )
    assert two_variants.status_code == 200
    too_many = api.post("/v1/checkouts", checkout_body(product, quantities=(3,)))
    assert too_many.status_code == 422
    assert too_many.json["error"]["code"] == "quantity_limit"
    assert too_many.json["error"]["param"] == "lines[0].quantity"
    in_all = api.post("/v1/checkouts", checkout_body(product, quantities=(2, 2)))
    assert in_all.status_code == 422 and in_all.json["error"]["param"] == "lines"
    assert inventory(api, merchant, product)["reserved"] == 0
    assert api.post("/v1/checkouts", checkout_body(product, quantities=(2, 1))).status_code == 201


def test_out_of_stock_does_not_tell_the_stock_count(api, product):
    response = api.post("/v1/checkouts", checkout_body(product, quantities=(6,)))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "out_of_stock"
    assert "5" not in response.json["error"]["message"]


def test_unpaid_checkouts_per_email_are_capped_and_freed_when_one_ends(api, merchant, product):
    limit(api, merchant, max_open_checkouts_per_email=2)
    first = api.post("/v1/checkouts", buyer("hoarder@example.com", product=product))
    second = api.post("/v1/checkouts", buyer(" HOARDER@example.com", product=product))
    assert first.status_code == second.status_code == 201
    third = api.post("/v1/checkouts", buyer("hoarder@example.com", product=product))
    assert third.status_code == 429
    assert third.json["error"]["code"] == "too_many_open_checkouts"
    assert api.post("/v1/checkouts", buyer("other@example.com", product=product)).status_code == 201

    cancelled = api.post(f"/v1/orders/{first.json['order_id']}/cancel", {}, key=merchant.secret)
    assert cancelled.status_code == 200
    assert (
        api.post("/v1/checkouts", buyer("hoarder@example.com", product=product)).status_code == 201
    )
    assert (
        api.post("/v1/checkouts", buyer("hoarder@example.com", product=product)).status_code == 429
    )


def test_a_paid_checkout_frees_its_place(api, rt, merchant, product, stripe_api_base):
    limit(api, merchant, max_open_checkouts_per_email=1)
    placed = api.post("/v1/checkouts", buyer("payer@example.com", product=product)).json
    assert api.post("/v1/checkouts", buyer("payer@example.com", product=product)).status_code == 429
    pay(stripe_api_base, placed["payment_intent_id"])
    intent = stripe_intent(stripe_api_base, placed["payment_intent_id"])
    assert deliver(api, event("payment_intent.succeeded", intent)).status_code == 200
    drain(api, rt)
    assert api.get(f"/v1/orders/{placed['order_id']}", key=merchant.secret).json["status"] == "paid"
    assert api.post("/v1/checkouts", buyer("payer@example.com", product=product)).status_code == 201


def test_unpaid_checkouts_per_client_count_its_device(api, merchant, product):
    limit(api, merchant, max_open_checkouts_per_client=1)
    device = {"X-Device-Id": "device-1"}
    first = api.post("/v1/checkouts", buyer("a@example.com", product=product), headers=device)
    assert first.status_code == 201
    # Same address (the test client's is fixed), so every further checkout is that client's.
    again = api.post("/v1/checkouts", buyer("b@example.com", product=product), headers=device)
    assert again.status_code == 429
    bad = api.post("/v1/checkouts", buyer("c@example.com", product=product),
                   headers={"X-Device-Id": "x" * 200})  # fmt: skip
    assert bad.status_code == 400 and bad.json["error"]["param"] == "X-Device-Id"


def test_an_expired_checkout_frees_its_place_and_the_hold_time_is_the_merchants(
    api, rt, merchant, product
):
    limit(api, merchant, max_open_checkouts_per_email=1, hold_minutes=7)
    placed = api.post("/v1/checkouts", buyer("slow@example.com", product=product)).json
    created = datetime.fromisoformat(
        api.get(f"/v1/orders/{placed['order_id']}", key=merchant.secret).json["created_at"]
    )
    held = datetime.fromisoformat(placed["expires_at"]) - created
    assert round(held.total_seconds() / 60) == 7
    rt.dynamodb.update_item(  # time passes: the reservation ends
        TableName=rt.settings.main_table,
        Key={"pk": {"S": f"ORD#{placed['order_id']}"}, "sk": {"S": "ORDER"}},
        UpdateExpression="SET gsi2sk = :past",
        ExpressionAttributeValues={
            ":past": {"S": f"2000-01-01T00:00:00+00:00#{placed['order_id']}"}
        },
    )
    expire(api)
    order = api.get(f"/v1/orders/{placed['order_id']}", key=merchant.secret).json
    assert order["status"] == "expired"
    assert api.post("/v1/checkouts", buyer("slow@example.com", product=product)).status_code == 201


def test_a_checkout_that_fails_after_holding_gives_its_place_back(api, rt, merchant, product):
    limit(api, merchant, max_open_checkouts_per_email=1)

    class Refusing:
        def __getattr__(self, name):
            return getattr(rt.stripe, name)

        def create_payment_intent(self, *args, **kwargs):
            raise ServiceUnavailable("the payment provider is down")

    real = rt.sales
    rt.__dict__["sales"] = type(real)(**{**real.__dict__, "payments": Refusing()})
    failed = api.post("/v1/checkouts", buyer("unlucky@example.com", product=product))
    assert failed.status_code == 503
    rt.__dict__["sales"] = real
    assert (
        api.post("/v1/checkouts", buyer("unlucky@example.com", product=product)).status_code == 201
    )
