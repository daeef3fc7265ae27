"""Signing deliveries as each platform does, the sample deliveries of events/, and a shop
that matches them."""

import base64
import hashlib
import hmac
import json
from pathlib import Path

from chalicelib.domain.connections import ConnectionCreate
from chalicelib.services.connections import connect_account
from tests.fixtures.app import WEBHOOK_SECRET, product_body

META_SECRET = "meta-app-secret-tests"
META_VERIFY = "meta-verify-tests"
TIKTOK_KEY = "ttkeytests"
TIKTOK_SECRET = "tiktok-secret-tests"
X_SECRET = "x-consumer-secret-tests"

SECRETS = {
    "SHOPPABLE_META_APP_SECRET": META_SECRET,
    "SHOPPABLE_META_VERIFY_TOKEN": META_VERIFY,
    "SHOPPABLE_TIKTOK_APP_KEY": TIKTOK_KEY,
    "SHOPPABLE_TIKTOK_APP_SECRET": TIKTOK_SECRET,
    "SHOPPABLE_X_CONSUMER_SECRET": X_SECRET,
    "SHOPPABLE_META_ACCESS_TOKEN": "meta-token",
    "SHOPPABLE_TIKTOK_ACCESS_TOKEN": "tiktok-token",
    "SHOPPABLE_PINTEREST_ACCESS_TOKEN": "pinterest-token",
    "SHOPPABLE_X_ACCESS_TOKEN": "x-token",
    "SHOPPABLE_PINTEREST_BOARD_ID": "board1",
    "SHOPPABLE_STOREFRONT_URL": "https://shop.test",
}


def meta_signed(body: dict | bytes, secret: str = META_SECRET) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={digest}"}


def tiktok_signed(body: dict | bytes, secret: str = TIKTOK_SECRET) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    digest = hmac.new(secret.encode(), TIKTOK_KEY.encode() + raw, hashlib.sha256).hexdigest()
    return raw, {"Authorization": digest}


def x_signed(body: dict | bytes, secret: str = X_SECRET) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return raw, {"x-twitter-webhooks-signature": f"sha256={digest}"}


def queued(rt) -> list[dict]:
    """The messages on the ingest queue, left there."""
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    attributes = rt.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def seed_sample_shop(api, rt, standin):
    """A merchant whose catalog and published post match what events/ samples refer to, and
    the platforms' objects they name, in the stand-in."""
    from chalicelib.services.merchants import create_merchant
    from devstack.platform_standin import seed_sample_accounts

    merchant = create_merchant(rt.merchants, "Demo")
    body = product_body()
    body["variants"][0]["sku"] = "LINEN-S"  # what the stand-in's TikTok order holds
    product = api.post("/v1/products", body, key=merchant.secret).json
    post = api.post(
        "/v1/posts",
        {
            "media": {"url": "https://cdn.example.com/a.jpg", "width": 10, "height": 10},
            "tags": [{"product_id": product["id"], "x": 0.5, "y": 0.5}],
        },
        key=merchant.secret,
    ).json
    seed_sample_accounts(rt, merchant.merchant.id, post["id"])
    standin.seed_samples()
    return merchant


# The sample deliveries of events/, and the secrets they are signed with.
SAMPLES = sorted((Path(__file__).resolve().parents[2] / "events").glob("*.json"))
SAMPLE_SECRETS = {
    "meta_app_secret": META_SECRET,
    "tiktok_app_key": TIKTOK_KEY,
    "tiktok_app_secret": TIKTOK_SECRET,
    "x_consumer_secret": X_SECRET,
    "stripe_webhook_secret": WEBHOOK_SECRET,
}

IG_ACCOUNT = "17841400000000000"


def comment(comment_id="17890000000000001", text="price?", account=IG_ACCOUNT, media="1799"):
    return {
        "id": account,
        "time": 1717000000,
        "changes": [
            {
                "field": "comments",
                "value": {
                    "id": comment_id,
                    "from": {"id": "6950000000000000", "username": "buyer1"},
                    "text": text,
                    "media": {"id": media, "media_product_type": "FEED"},
                },
            }
        ],
    }


def connect(rt, merchant, platform, account_id):
    request = ConnectionCreate(platform=platform, account_id=account_id)
    return connect_account(rt.social, merchant.merchant.id, request)
