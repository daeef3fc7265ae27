"""The platforms' webhooks through the app: handshakes, signatures on the raw bytes, one
queued event per entry, and the consumer's routing and de-duplication."""

import json

import pytest

from .platform_helpers import (
    META_VERIFY,
    X_SECRET,
    comment,
    connect,
    meta_signed,
    queued,
    tiktok_signed,
    x_signed,
)
from .sales_helpers import drain


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


def test_meta_subscription_check_answers_the_bare_challenge(api):
    query = f"hub.mode=subscribe&hub.verify_token={META_VERIFY}&hub.challenge=1158201444"
    response = api.get(f"/v1/webhooks/meta?{query}")
    assert response.status_code == 200
    assert response.body == b"1158201444"
    assert response.headers["Content-Type"] == "text/plain"
    wrong = api.get("/v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1")
    assert wrong.status_code == 403


def test_x_crc_answers_the_response_token(api):
    import base64
    import hashlib
    import hmac

    response = api.get("/v1/webhooks/x?crc_token=abc123")
    digest = hmac.new(X_SECRET.encode(), b"abc123", hashlib.sha256).digest()
    assert response.status_code == 200
    assert response.json == {"response_token": "sha256=" + base64.b64encode(digest).decode()}


@pytest.mark.parametrize(
    ("path", "sign"),
    [
        ("/v1/webhooks/meta", meta_signed),
        ("/v1/webhooks/tiktok", tiktok_signed),
        ("/v1/webhooks/x", x_signed),
    ],
)
def test_a_forged_or_missing_signature_is_401_and_nothing_is_queued(api, rt, path, sign):
    body = {"object": "instagram", "entry": [comment()], "shop_id": "1", "for_user_id": "1"}
    raw, headers = sign(body, secret="not-the-secret")
    assert api.post(path, raw=raw, headers=headers).status_code == 401
    assert api.post(path, raw=raw).status_code == 401
    raw, headers = sign(body)
    tampered = raw.replace(b"price?", b"price!")
    response = api.post(path, raw=tampered, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_signature"
    assert queued(rt) == 0


def test_the_signature_is_checked_on_the_raw_bytes(api, rt):
    """Meta escapes non-ASCII as \\uXXXX; re-serialising would change the bytes signed."""
    raw = b'{"object":"instagram","entry":[]}'.replace(
        b"[]", json.dumps([comment(text="pr\\u00efce")]).encode()
    )
    raw, headers = meta_signed(raw)
    assert api.post("/v1/webhooks/meta", raw=raw, headers=headers).status_code == 200


def test_one_delivery_becomes_one_event_per_entry_and_repeats_are_dropped(
    api, rt, merchant, product, platforms
):
    connect(api, platforms, merchant, "instagram")
    body = {
        "object": "instagram",
        "entry": [comment("c1", "nice"), comment("c2", "love it"), comment("c3", "wow")],
    }
    raw, headers = meta_signed(body)
    response = api.post("/v1/webhooks/meta", raw=raw, headers=headers)
    assert response.status_code == 200
    assert response.json == {"received": True, "events": 3}
    assert api.post("/v1/webhooks/meta", raw=raw, headers=headers).status_code == 200  # a retry
    assert queued(rt) == 6
    drain(api, rt)
    inbox = api.get("/v1/inbox", key=merchant.secret).json
    assert sorted(i["external_id"] for i in inbox["data"]) == ["c1", "c2", "c3"]


def test_an_unknown_account_is_accepted_and_dropped(api, rt, merchant):
    raw, headers = meta_signed({"object": "instagram", "entry": [comment(account="999")]})
    assert api.post("/v1/webhooks/meta", raw=raw, headers=headers).status_code == 200
    drain(api, rt)
    assert api.get("/v1/inbox", key=merchant.secret).json["data"] == []


def test_a_signed_body_that_is_not_a_delivery_is_400(api):
    raw, headers = tiktok_signed(b"[1, 2]")
    response = api.post("/v1/webhooks/tiktok", raw=raw, headers=headers)
    assert response.status_code == 400


def test_the_webhook_routes_are_in_the_openapi_document(api):
    paths = api.get("/v1/openapi.json").json["paths"]
    for platform in ("meta", "tiktok", "x"):
        assert set(paths[f"/v1/webhooks/{platform}"]) == {"get", "post"}
