"""Forgery: for every webhook route, a delivery with the wrong secret, a truncated signature,
no signature header, one byte of the body changed, or the JSON re-serialised (same data,
other bytes), and for Stripe a genuine signature replayed past its 300 s tolerance: each one is
rejected with 401 (or 400) and nothing reaches the ingest queue."""

import json

import pytest

from tests.integration.platform_helpers import meta_signed, queued, tiktok_signed, x_signed
from tests.integration.stripe_helpers import event

from .harness import leaks

STRIPE_EVENT = event(
    "payment_intent.succeeded",
    {"id": "pi_forged", "object": "payment_intent", "metadata": {"order_id": "ord_x"}},
    "evt_forged",
)
BODIES = {
    "meta": {
        "object": "instagram",
        "entry": [
            {
                "id": "178414",
                "time": 1717000000,
                "changes": [
                    {
                        "field": "comments",
                        "value": {"id": "1789", "text": "prix? é", "media": {"id": "1799"}},
                    }
                ],
            }
        ],
    },
    "tiktok": {
        "type": 1,
        "tts_notification_id": "70123",
        "shop_id": "7494",
        "timestamp": 1664095733,
        "data": {"order_id": "5766", "order_status": "UNPAID"},
    },
    "x": {"for_user_id": "2244994945", "tweet_create_events": [{"id_str": "1", "text": "hé"}]},
}


def _sign(platform: str, raw: bytes, secret: str | None = None, at: int | None = None):
    if platform == "stripe":
        kwargs = {"at": at} if at is not None else {}
        _, headers = signed_raw(raw, secret, **kwargs)
        return headers
    signer = {"meta": meta_signed, "tiktok": tiktok_signed, "x": x_signed}[platform]
    return signer(raw, secret)[1] if secret else signer(raw)[1]


def signed_raw(raw: bytes, secret: str | None, at: int | None = None):
    """Stripe's signature over exact bytes (stripe_helpers.signed serialises a dict)."""
    import hashlib
    import hmac
    import time

    from tests.fixtures.app import WEBHOOK_SECRET

    timestamp = at if at is not None else int(time.time())
    digest = hmac.new(
        (secret or WEBHOOK_SECRET).encode(), f"{timestamp}.".encode() + raw, hashlib.sha256
    )
    return raw, {"Stripe-Signature": f"t={timestamp},v1={digest.hexdigest()}"}


def _raw(platform: str) -> bytes:
    body = STRIPE_EVENT if platform == "stripe" else BODIES[platform]
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _truncate(headers: dict) -> dict:
    name, value = next(iter(headers.items()))
    return {name: value[: len(value) - 8]}


def _flip_one_byte(raw: bytes) -> bytes:
    index = raw.index(b'"') + 1  # inside the first key: still valid JSON, different bytes
    return raw[:index] + bytes([raw[index] ^ 0x20]) + raw[index + 1 :]


FORGERIES = {
    "wrong_secret": lambda p, raw: (raw, _sign(p, raw, "not-the-secret")),
    "truncated_signature": lambda p, raw: (raw, _truncate(_sign(p, raw))),
    "missing_header": lambda p, raw: (raw, {}),
    "one_byte_changed": lambda p, raw: (_flip_one_byte(raw), _sign(p, raw)),
    "json_reserialised": lambda p, raw: (
        json.dumps(json.loads(raw), indent=1).encode(),
        _sign(p, raw),
    ),
}
PLATFORMS = ("stripe", "meta", "tiktok", "x")


@pytest.fixture
def hooks(platforms, api, rt):
    return api, rt


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_forged_deliveries_are_rejected_and_nothing_is_queued(hooks, platform, forgery, figures):
    api, rt = hooks
    raw, headers = FORGERIES[forgery](platform, _raw(platform))
    response = api.post(f"/v1/webhooks/{platform}", raw=raw, headers=headers)
    figures["forgeries_queued"] += queued(rt)
    figures["forgeries_rejected"] += response.status_code in (400, 401)
    assert response.status_code in (400, 401), (response.status_code, response.body)
    assert not leaks(response.body)
    assert queued(rt) == 0


def test_a_stripe_event_replayed_past_its_tolerance_is_rejected(hooks, figures):
    import time

    api, rt = hooks
    raw = _raw("stripe")
    for age in (301, 3600, 86400 * 3):
        _, headers = signed_raw(raw, None, at=int(time.time()) - age)
        response = api.post("/v1/webhooks/stripe", raw=raw, headers=headers)
        figures["forgeries_queued"] += queued(rt)
        figures["forgeries_rejected"] += response.status_code == 401
        assert response.status_code == 401, response.body
        assert queued(rt) == 0


def test_the_genuine_deliveries_are_accepted(hooks):
    """The control: the same bodies, correctly signed, are taken (so the rejections above are
    about the forgery, not the body)."""
    api, rt = hooks
    for platform in PLATFORMS:
        raw = _raw(platform)
        response = api.post(f"/v1/webhooks/{platform}", raw=raw, headers=_sign(platform, raw))
        assert response.status_code == 200, (platform, response.body)
    assert queued(rt) >= 1
