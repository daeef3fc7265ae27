"""Attribution through the checkout route: code beats link, the last click within the window,
a collab post as the fallback, one creator per order, and only the merchant's own active
links and codes. The order and its events carry it."""

from datetime import UTC, datetime, timedelta

from .creators_helpers import new_code, new_creator, new_link, new_post
from .outbound_helpers import Outbox, register, types, verified
from .sales_helpers import checkout_body, order_of


def _place(api, product, **extra) -> dict:
    response = api.post("/v1/checkouts", checkout_body(product, quantities=(1,), **extra))
    assert response.status_code == 201, response.body
    return response.json


def _attribution(api, merchant, placed) -> dict | None:
    return order_of(api, merchant, placed["order_id"])["attribution"]


def _ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def test_a_link_clicked_within_the_window_attributes_the_order(api, rt, merchant, product):
    creator = new_creator(api, merchant.secret)
    post = new_post(api, merchant.secret, product)
    link = new_link(api, merchant.secret, creator["id"], post["id"], platform="instagram")
    assert link["url"] == f"https://shop.example.com/posts/{post['id']}?ref={link['code']}"
    assert len(link["code"]) == 10 and link["kind"] == "link"
    placed = _place(
        api,
        product,
        post_id=post["id"],
        attribution={"ref": link["code"].lower(), "clicked_at": _ago(days=6)},
    )
    got = _attribution(api, merchant, placed)
    assert (got["creator_id"], got["via"], got["code"]) == (creator["id"], "link", link["code"])
    assert (got["post_id"], got["platform"]) == (post["id"], "instagram")
    # Clicked eight days ago: outside the 7-day window, nobody's.
    stale = _place(api, product, attribution={"ref": link["code"], "clicked_at": _ago(days=8)})
    assert _attribution(api, merchant, stale) is None
    # Without a time, the click is now.
    now = _place(api, product, attribution={"ref": link["code"]})
    assert _attribution(api, merchant, now)["via"] == "link"


def test_a_code_beats_a_link_and_an_order_has_one_creator(api, merchant, product):
    jane = new_creator(api, merchant.secret)
    sam = new_creator(api, merchant.secret, email="sam@example.com", name="Sam")
    post = new_post(api, merchant.secret, product)
    link = new_link(api, merchant.secret, sam["id"], post["id"])
    new_code(api, merchant.secret, jane["id"], "JANE10")
    placed = _place(api, product, referral_code="jane10", attribution={"ref": link["code"]})
    got = _attribution(api, merchant, placed)
    assert (got["creator_id"], got["via"], got["code"]) == (jane["id"], "code", "JANE10")


def test_a_collab_post_is_its_creators_unless_a_link_or_code_says_otherwise(api, merchant, product):
    jane = new_creator(api, merchant.secret)
    sam = new_creator(api, merchant.secret, email="sam@example.com", name="Sam")
    collab = new_post(api, merchant.secret, product, creator_id=jane["id"])
    assert collab["creator_id"] == jane["id"]
    placed = _place(api, product, post_id=collab["id"])
    assert _attribution(api, merchant, placed) == {
        "creator_id": jane["id"],
        "via": "collab",
        "code": None,
        "post_id": None,
        "platform": None,
        "clicked_at": None,
    }
    code = new_code(api, merchant.secret, sam["id"], "SAMSAYS")
    placed = _place(api, product, post_id=collab["id"], referral_code=code["code"])
    assert _attribution(api, merchant, placed)["creator_id"] == sam["id"]


def test_only_the_merchants_own_active_codes_count_and_none_refuses_a_sale(
    api, merchant, other_merchant, product
):
    theirs = new_creator(api, other_merchant.secret)
    new_code(api, other_merchant.secret, theirs["id"], "THEIRS")
    placed = _place(api, product, referral_code="THEIRS", attribution={"ref": "NOSUCHREF"})
    assert _attribution(api, merchant, placed) is None  # another shop's code: ignored
    mine = new_creator(api, merchant.secret)
    new_code(api, merchant.secret, mine["id"], "MINE")
    off = api.patch(
        f"/v1/creators/{mine['id']}/referrals/mine", {"active": False}, key=merchant.secret
    )
    assert off.status_code == 200 and off.json["active"] is False
    placed = _place(api, product, referral_code="MINE")
    assert _attribution(api, merchant, placed) is None
    # Another merchant's key cannot switch it back on, or see the creator.
    again = api.patch(
        f"/v1/creators/{mine['id']}/referrals/MINE", {"active": True}, key=other_merchant.secret
    )
    assert again.status_code == 404
    assert api.get(f"/v1/creators/{mine['id']}", key=other_merchant.secret).status_code == 404


def test_a_malformed_code_or_click_is_refused_naming_the_field(api, product):
    bad = api.post("/v1/checkouts", checkout_body(product, referral_code="no spaces"))
    assert bad.status_code == 422 and bad.json["error"]["param"] == "referral_code"
    bad = api.post(
        "/v1/checkouts", checkout_body(product, attribution={"ref": "OK123", "clicked_at": "soon"})
    )
    assert bad.status_code == 422 and bad.json["error"]["param"] == "attribution.clicked_at"
    bad = api.post(
        "/v1/checkouts", checkout_body(product, attribution={"ref": "OK123", "cookie": "x"})
    )
    assert bad.status_code == 422 and bad.json["error"]["code"] == "parameter_unknown"


def test_the_attribution_travels_in_the_orders_events(api, rt, merchant, product, receiver):
    endpoint = register(api, merchant.secret, receiver.url, ["order.created"])
    creator = new_creator(api, merchant.secret)
    new_code(api, merchant.secret, creator["id"], "JANE10")
    outbox = Outbox(api, rt)
    _place(api, product, referral_code="JANE10")
    outbox.drain()
    from .outbound_helpers import drain_webhooks

    drain_webhooks(api, rt)
    got = receiver.wait_for(1, timeout=5)
    assert types(got) == ["order.created"]
    body = verified(got[0], endpoint["secret"])
    assert body["data"]["attribution"]["creator_id"] == creator["id"]
    assert body["data"]["attribution"]["via"] == "code"
