"""Signing deliveries as each platform does, connecting accounts through the OAuth redirect
flow, the sample deliveries of events/, and a shop that matches them."""

import base64
import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import urlsplit

from devstack.connect import consent
from devstack.platform_standin import SAMPLE_MEDIA
from tests.fixtures.app import WEBHOOK_SECRET, product_body

META_SECRET = "meta-app-secret-tests"
META_VERIFY = "meta-verify-tests"
TIKTOK_KEY = "ttkeytests"
TIKTOK_SECRET = "tiktok-secret-tests"
X_SECRET = "x-consumer-secret-tests"
META_APP_ID = "1234567890123"
TIKTOK_SERVICE_ID = "7123456789012"
X_CLIENT_ID = "x-client-tests"
X_CLIENT_SECRET = "x-client-secret-tests"
PINTEREST_APP_ID = "1499999"
PINTEREST_APP_SECRET = "pinterest-secret-tests"
STATE_SECRET = "state-secret-tests-0123456789abcdef"
PUBLIC_API = "https://api.shop.test"

SECRETS = {
    "SHOPPABLE_META_APP_SECRET": META_SECRET,
    "SHOPPABLE_META_VERIFY_TOKEN": META_VERIFY,
    "SHOPPABLE_TIKTOK_APP_KEY": TIKTOK_KEY,
    "SHOPPABLE_TIKTOK_APP_SECRET": TIKTOK_SECRET,
    "SHOPPABLE_X_CONSUMER_SECRET": X_SECRET,
    # the apps' OAuth clients, and the key that signs the OAuth state
    "SHOPPABLE_META_APP_ID": META_APP_ID,
    "SHOPPABLE_TIKTOK_SERVICE_ID": TIKTOK_SERVICE_ID,
    "SHOPPABLE_X_CLIENT_ID": X_CLIENT_ID,
    "SHOPPABLE_X_CLIENT_SECRET": X_CLIENT_SECRET,
    "SHOPPABLE_PINTEREST_APP_ID": PINTEREST_APP_ID,
    "SHOPPABLE_PINTEREST_APP_SECRET": PINTEREST_APP_SECRET,
    "SHOPPABLE_OAUTH_STATE_SECRET": STATE_SECRET,
    "SHOPPABLE_PUBLIC_API_URL": PUBLIC_API,
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
    """A merchant whose catalog, connected accounts (the stand-in's defaults, through OAuth)
    and published post match what events/ samples refer to, and the platforms' objects they
    name, in the stand-in."""
    from chalicelib.services.merchants import create_merchant

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
    for platform in ("instagram", "tiktok", "x"):
        connect(api, standin, merchant, platform)
    for platform, media_id in SAMPLE_MEDIA.items():
        rt.post_store.link_media(platform, media_id, post["id"])
    standin.seed_samples()
    return merchant


# The sample webhook deliveries of events/, and the secrets they are signed with (the other
# samples there are the storefront's beacon and the outbox stream's record: test_funnel.py).
SAMPLES = sorted(
    path
    for path in (Path(__file__).resolve().parents[2] / "events").glob("*.json")
    if json.loads(path.read_text()).get("route", "").startswith("/v1/webhooks/")
)
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


def authorize(api, merchant, platform):
    """`POST /v1/connections/{platform}/authorize`: the consent URL."""
    started = api.post(f"/v1/connections/{platform}/authorize", key=merchant.secret)
    assert started.status_code == 200, started.body
    return started.json["authorize_url"]


def callback_path(location: str) -> str:
    """The callback the platform redirected to, as a path on the API under test."""
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_API, location
    return f"{parts.path}?{parts.query}"


def approve(api, merchant, platform):
    """The merchant's browser: to the consent screen (which approves) and back to the API's
    callback. Returns the callback's response."""
    return api.get(callback_path(consent(authorize(api, merchant, platform))))


def connect(api, standin, merchant, platform, account_id=None):
    """Connect the account through the OAuth redirect flow (by default the stand-in's
    sample account); returns the connection made for it."""
    if account_id is not None:
        standin.oauth.grant_accounts(platform, account_id)
    done = approve(api, merchant, platform)
    assert done.status_code == 200, done.body
    (connection,) = [c for c in done.json["data"] if c["platform"] == platform]
    return connection


def token_of(standin, platform, account_id):
    """The token the stand-in issued that acts for the account (the newest)."""
    source = {"instagram": "meta", "facebook": "meta"}.get(platform, platform)
    kind = "page" if source == "meta" else "access"
    tokens = standin.oauth.tokens(source, kind)
    assert tokens, f"no {kind} token issued for {platform}"
    return tokens[-1]


def run_schedule(api, name):
    """A scheduled function, run as EventBridge would (`renew_platform_tokens`, …)."""
    event = api.client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=[f"arn:aws:events:us-east-1:123456789012:rule/{name}"],
    )
    return api.client.lambda_.invoke(name, event).payload


def main_table_text(rt):
    """Every item of the main table, as text (to look for what must never be stored)."""
    items = rt.dynamodb.scan(TableName=rt.settings.main_table)["Items"]
    return json.dumps(items, default=str)


def token_keys(rt):
    """The wrapped data keys in the platform token keys table (the one without backups)."""
    return rt.dynamodb.scan(TableName=rt.settings.platform_token_keys_table)["Items"]
