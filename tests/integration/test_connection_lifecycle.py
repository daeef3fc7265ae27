"""A connection's life after the callback, through HTTP, queues and schedules: tokens renewed
before they expire, a refused renewal marking the connection `needs_reauth` (and nothing used
with it any more), disconnecting, Meta's signed callbacks, TikTok's deauthorization webhook,
and a merchant acting only through its own connections."""

import json

import pytest

from chalicelib.adapters.platforms.meta import sign_request
from devstack.platform_standin import meta_order

from .outbound_helpers import Outbox
from .platform_helpers import (
    META_SECRET,
    PINTEREST_APP_ID,
    PINTEREST_APP_SECRET,
    PUBLIC_API,
    TIKTOK_KEY,
    TIKTOK_SECRET,
    X_CLIENT_ID,
    X_CLIENT_SECRET,
    approve,
    comment,
    connect,
    main_table_text,
    meta_signed,
    run_schedule,
    tiktok_signed,
    token_keys,
    x_signed,
)
from .sales_helpers import drain

META_USER = "10158000000000001"  # the stand-in's Facebook user


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


def basic(user, password):
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def listed(api, merchant):
    return api.get("/v1/connections", key=merchant.secret).json["data"]


def publish(api, rt, merchant, post, platform):
    api.post(f"/v1/posts/{post['id']}/publish", {"platforms": [platform]}, key=merchant.secret)
    drain(api, rt)
    return api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json["publications"][platform]


# Renewal: (platform connected, its token lifetime, the renewal request it gets)
RENEWALS = {
    "instagram": ("meta_long", "meta", "GET", "/oauth/access_token"),
    "tiktok": ("tiktok_access", "tiktok-auth", "GET", "/api/v2/token/refresh"),
    "x": ("x_access", "x", "POST", "/2/oauth2/token"),
    "pinterest": ("pinterest_access", "pinterest", "POST", "/v5/oauth/token"),
}


def _renewal_inputs(platforms, platform):
    """What the renewal must send: the credential issued at connection time."""
    if platform == "instagram":
        (accounts,) = platforms.calls("meta", "GET", "/me/accounts")
        return accounts.headers["authorization"].removeprefix("Bearer ")  # the long-lived one
    source = {"tiktok": "tiktok", "x": "x", "pinterest": "pinterest"}[platform]
    (refresh,) = platforms.oauth.tokens(source, "refresh")
    return refresh


@pytest.mark.parametrize("platform", list(RENEWALS))
def test_tokens_are_renewed_before_they_expire(api, rt, merchant, post, platforms, platform):
    lifetime, prefix, method, path = RENEWALS[platform]
    platforms.oauth.lifetimes[lifetime] = 20 * 60  # inside the 30-minute margin: due now
    connect(api, platforms, merchant, platform)
    credential = _renewal_inputs(platforms, platform)
    platforms.oauth.lifetimes[lifetime] = 30 * 86400
    before = len(platforms.calls(prefix, method, path))

    counts = run_schedule(api, "renew_platform_tokens")

    assert counts == {"renewed": 1, "needs_reauth": 0, "retry_later": 0}
    renewal = platforms.calls(prefix, method, path)[before:]
    assert len(renewal) == 1
    (sent,) = renewal
    if platform == "instagram":
        assert sent.query == {
            "grant_type": "fb_exchange_token",
            "client_id": "1234567890123",
            "client_secret": META_SECRET,
            "fb_exchange_token": credential,
        }
    elif platform == "tiktok":
        assert sent.query == {
            "app_key": TIKTOK_KEY,
            "app_secret": TIKTOK_SECRET,
            "refresh_token": credential,
            "grant_type": "refresh_token",
        }
    else:
        client = {"x": (X_CLIENT_ID, X_CLIENT_SECRET),
                  "pinterest": (PINTEREST_APP_ID, PINTEREST_APP_SECRET)}[platform]  # fmt: skip
        assert sent.headers["authorization"] == basic(*client)
        assert sent.body == {"grant_type": "refresh_token", "refresh_token": credential}
    assert run_schedule(api, "renew_platform_tokens") == {
        "renewed": 0, "needs_reauth": 0, "retry_later": 0
    }  # fmt: skip
    assert credential not in main_table_text(rt)


def test_the_renewed_token_is_the_one_used(api, rt, merchant, post, platforms):
    platforms.oauth.lifetimes["x_access"] = 60
    connect(api, platforms, merchant, "x")
    (first,) = platforms.oauth.tokens("x", "access")
    platforms.oauth.lifetimes["x_access"] = 7200
    run_schedule(api, "renew_platform_tokens")
    (renewed,) = [t for t in platforms.oauth.tokens("x", "access") if t != first]
    assert publish(api, rt, merchant, post, "x")["status"] == "published"
    (tweet,) = platforms.calls("x", "POST", "/2/tweets")
    assert tweet.headers["authorization"] == f"Bearer {renewed}"


REFUSALS = {
    "instagram": ("meta", "Error validating access token."),
    "tiktok": ("tiktok", "invalid refresh_token"),
    "x": ("x", "Value passed for the token was invalid."),
    "pinterest": ("pinterest", "Invalid refresh token."),
}


@pytest.mark.parametrize("platform", list(REFUSALS))
def test_a_refused_renewal_needs_reauth_and_stops_using_the_connection(
    api, rt, merchant, post, platforms, platform
):
    source, reason = REFUSALS[platform]
    platforms.oauth.lifetimes[RENEWALS[platform][0]] = 20 * 60
    api.patch("/v1/settings", {"pinterest_board_id": "board1"}, key=merchant.secret)
    outbox = Outbox(api, rt)
    connect(api, platforms, merchant, platform)
    platforms.oauth.revoke_user(source)  # the user took our access away at the platform

    assert run_schedule(api, "renew_platform_tokens")["needs_reauth"] == 1

    connections = listed(api, merchant)
    assert {(c["status"], c["reason"]) for c in connections} == {("needs_reauth", reason)}
    outbox.drain()
    events = api.get("/v1/events?type=connection.needs_reauth", key=merchant.secret).json["data"]
    assert sorted(e["data"]["connection_id"] for e in events) == sorted(
        c["id"] for c in connections
    )
    assert {e["object_id"] for e in events} == {c["id"] for c in connections}
    assert {(e["data"]["platform"], e["data"]["account_id"]) for e in events} == {
        (c["platform"], c["account_id"]) for c in connections
    }
    assert {e["data"]["reason"] for e in events} == {reason}
    assert run_schedule(api, "renew_platform_tokens")["needs_reauth"] == 0  # not tried again
    outbox.drain()
    again = api.get("/v1/events?type=connection.needs_reauth", key=merchant.secret).json["data"]
    assert len(again) == len(events)  # told once

    calls_before = len(platforms.requests)
    failed = publish(api, rt, merchant, post, platform)
    assert failed["status"] == "failed"
    assert "needs to be authorized again" in failed["error"] and reason in failed["error"]
    assert len(platforms.requests) == calls_before  # nothing was sent with the old tokens

    again = approve(api, merchant, platform)  # the merchant authorizes anew
    assert again.status_code == 200, again.body
    assert {c["status"] for c in listed(api, merchant)} == {"active"}


def test_a_comment_for_a_connection_waiting_for_reauth_is_filed_without_calling_out(
    api, rt, merchant, post, platforms
):
    platforms.oauth.lifetimes["meta_long"] = 20 * 60
    connect(api, platforms, merchant, "instagram")
    platforms.oauth.revoke_user("meta")
    run_schedule(api, "renew_platform_tokens")
    calls_before = len(platforms.requests)
    raw, headers = meta_signed({"object": "instagram", "entry": [comment("c40", "price?")]})
    assert api.post("/v1/webhooks/meta", raw=raw, headers=headers).status_code == 200
    drain(api, rt)
    (item,) = api.get("/v1/inbox", key=merchant.secret).json["data"]
    assert (item["text"], item["author"], item["reply"]) == ("price?", None, "failed")
    assert "needs to be authorized again" in item["reply_error"]
    assert len(platforms.requests) == calls_before


# Disconnect


def test_disconnecting_x_revokes_shreds_and_stops_the_webhooks(
    api, rt, merchant, other_merchant, post, platforms
):
    connection = connect(api, platforms, merchant, "x")
    refresh, access = platforms.oauth.tokens("x", "refresh")[0], platforms.oauth.tokens("x")[0]
    assert api.delete(f"/v1/connections/{connection['id']}", key=other_merchant.secret
                      ).status_code == 404  # fmt: skip

    gone = api.delete(f"/v1/connections/{connection['id']}", key=merchant.secret)

    assert gone.status_code == 200, gone.body
    assert gone.json == {"object": "connection", "id": connection["id"], "deleted": True,
                         "revoked": True}  # fmt: skip
    revokes = platforms.calls("x", "POST", "/2/oauth2/revoke")
    assert [r.body for r in revokes] == [
        {"token": refresh, "token_type_hint": "refresh_token"},
        {"token": access, "token_type_hint": "access_token"},
    ]
    assert all(r.headers["authorization"] == basic(X_CLIENT_ID, X_CLIENT_SECRET) for r in revokes)
    assert listed(api, merchant) == []
    assert "sealed_tokens" not in main_table_text(rt)
    assert token_keys(rt) == []  # shredded: no backup of this table keeps it
    assert api.delete(f"/v1/connections/{connection['id']}", key=merchant.secret).status_code == 404

    delivery = {
        "for_user_id": "2244994945000",
        "tweet_create_events": [{
            "id_str": "1460323737035677699", "text": "@shop how much?",
            "in_reply_to_status_id_str": "1460323737035677698", "timestamp_ms": "1637068000000",
            "user": {"id_str": "2244994945", "screen_name": "buyer_on_x"},
        }],
    }  # fmt: skip
    raw, headers = x_signed(delivery)
    assert api.post("/v1/webhooks/x", raw=raw, headers=headers).status_code == 200
    drain(api, rt)
    assert api.get("/v1/inbox", key=merchant.secret).json["data"] == []
    assert platforms.calls("x", "GET", r"/2/tweets/\d+") == []


def test_disconnecting_one_of_a_grants_accounts_keeps_the_others(api, rt, merchant, platforms):
    connect(api, platforms, merchant, "instagram")
    by_platform = {c["platform"]: c["id"] for c in listed(api, merchant)}
    first = api.delete(f"/v1/connections/{by_platform['instagram']}", key=merchant.secret)
    assert first.json["revoked"] is False
    assert [c["platform"] for c in listed(api, merchant)] == ["facebook"]
    assert "sealed_tokens" in main_table_text(rt)  # the Page still acts with them
    api.delete(f"/v1/connections/{by_platform['facebook']}", key=merchant.secret)
    assert "sealed_tokens" not in main_table_text(rt)
    assert platforms.calls("meta", "DELETE") == []  # Meta: no revoke call in our facts


# Meta's signed callbacks


def _form(signed_request):
    return {"Content-Type": "application/x-www-form-urlencoded"}, f"signed_request={signed_request}"


@pytest.mark.parametrize(
    "signed_request",
    [
        sign_request("not-our-app-secret", {"algorithm": "HMAC-SHA256", "user_id": META_USER}),
        sign_request(META_SECRET, {"algorithm": "HMAC-SHA256", "user_id": META_USER})[1:],
        sign_request(META_SECRET, {"algorithm": "HMAC-SHA1", "user_id": META_USER}),
        "no-dot",
        "",
    ],
    ids=["other-secret", "altered", "other-algorithm", "malformed", "empty"],
)
@pytest.mark.parametrize("path", ["deauthorize", "data_deletion"])
def test_a_forged_meta_signed_request_is_401_and_changes_nothing(
    api, rt, merchant, platforms, path, signed_request
):
    connect(api, platforms, merchant, "instagram")
    headers, body = _form(signed_request)
    response = api.post(f"/v1/connections/meta/{path}", raw=body, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_signature"
    assert len(listed(api, merchant)) == 2


def test_meta_deauthorize_removes_what_the_person_connected(api, rt, merchant, platforms):
    connect(api, platforms, merchant, "instagram")
    signed = sign_request(META_SECRET, {"algorithm": "HMAC-SHA256", "issued_at": 1717000000,
                                        "user_id": META_USER})  # fmt: skip
    headers, body = _form(signed)
    response = api.post("/v1/connections/meta/deauthorize", raw=body, headers=headers)
    assert response.status_code == 200, response.body
    assert listed(api, merchant) == []
    assert "sealed_tokens" not in main_table_text(rt)
    again = api.post("/v1/connections/meta/deauthorize", raw=body, headers=headers)
    assert again.status_code == 200  # Meta may call twice


def test_meta_data_deletion_erases_and_answers_a_status_url(api, rt, merchant, platforms):
    connect(api, platforms, merchant, "instagram")
    signed = sign_request(META_SECRET, {"algorithm": "HMAC-SHA256", "issued_at": 1717000000,
                                        "user_id": META_USER})  # fmt: skip
    headers, body = _form(signed)
    response = api.post("/v1/connections/meta/data_deletion", raw=body, headers=headers)
    assert response.status_code == 200, response.body
    code = response.json["confirmation_code"]
    assert response.json == {
        "url": f"{PUBLIC_API}/v1/connections/meta/data_deletion/{code}",
        "confirmation_code": code,
    }
    assert listed(api, merchant) == []
    assert META_USER not in main_table_text(rt)  # who asked is not kept either
    status = api.get(f"/v1/connections/meta/data_deletion/{code}")  # public
    assert status.status_code == 200
    assert (status.json["status"], status.json["connections_removed"]) == ("completed", 2)
    assert api.get("/v1/connections/meta/data_deletion/unknown1").status_code == 404


def test_tiktoks_seller_deauthorization_removes_the_shop(api, rt, merchant, platforms):
    connect(api, platforms, merchant, "tiktok")
    delivery = {"type": 6, "tts_notification_id": "7300000000000000001",
                "shop_id": "7494726673780148744", "timestamp": 1717000000,
                "data": {"reason": "Seller deauthorized the app"}}  # fmt: skip
    raw, headers = tiktok_signed(delivery)
    response = api.post("/v1/webhooks/tiktok", raw=raw, headers=headers)
    assert response.json == {"received": True, "events": 1}
    drain(api, rt)
    assert listed(api, merchant) == []
    assert "sealed_tokens" not in main_table_text(rt)


def test_xs_revocation_event_removes_the_account(api, rt, merchant, platforms):
    connect(api, platforms, merchant, "x")
    delivery = {
        "for_user_id": "2244994945000",
        "user_event": {"revoke": {"date_time": "2026-11-30T10:00:00+0000",
                                  "target": {"app_id": "13090192"},
                                  "source": {"user_id": "2244994945000"}}},
    }  # fmt: skip
    raw, headers = x_signed(delivery)
    assert api.post("/v1/webhooks/x", raw=raw, headers=headers).json == {
        "received": True, "events": 1
    }  # fmt: skip
    drain(api, rt)
    assert listed(api, merchant) == []
    assert token_keys(rt) == []


# Acting only through one's own connections


def test_another_merchant_cannot_publish_through_an_account_it_does_not_own(
    api, rt, merchant, other_merchant, product, platforms
):
    connect(api, platforms, merchant, "instagram")
    assert approve(api, other_merchant, "instagram").status_code == 409
    their_post = api.post(
        "/v1/posts",
        {"media": {"url": "https://cdn.example.com/b.jpg", "width": 10, "height": 10}},
        key=other_merchant.secret,
    ).json
    failed = publish(api, rt, other_merchant, their_post, "instagram")
    assert failed["status"] == "failed"
    assert failed["error"].startswith("no instagram account is connected")
    assert platforms.calls("meta", "POST") == []


def test_another_merchant_cannot_pull_orders_it_does_not_own(
    api, rt, merchant, other_merchant, product, platforms
):
    connect(api, platforms, merchant, "instagram")  # Page 106000000000001
    connect(api, platforms, other_merchant, "facebook", account_id="555000000000001")
    platforms.oauth.commerce_accounts["cms1"] = "106000000000001"
    platforms.meta_orders.append(meta_order("m200", sku="SHIRT-S", currency="EUR"))
    for shop in (merchant, other_merchant):  # both name the same commerce account
        response = api.patch("/v1/settings", {"meta_commerce_account_id": "cms1"}, key=shop.secret)
        assert response.status_code == 200, response.body

    assert run_schedule(api, "pull_meta_orders") == {"imported": 1}

    assert [o["source"] for o in api.get("/v1/orders", key=merchant.secret).json["data"]] == [
        "facebook"
    ]
    assert api.get("/v1/orders", key=other_merchant.secret).json["data"] == []
    pulls = platforms.calls("meta", "GET", "/cms1/commerce_orders")
    tokens = {p.headers["authorization"] for p in pulls}
    assert len(tokens) == 2  # each merchant pulled with its own Page token; one was refused
    assert json.dumps([p.query for p in pulls]).count('"state": "CREATED"') == 2
