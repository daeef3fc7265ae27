"""`events/*.json`: sample deliveries, signed as each platform signs them.

A sample is `{"route": "/v1/webhooks/<platform>", "body": {...}}`, or one of the platforms' own
published samples in tests/platform_samples that the corpus delivers (see devstack/corpus.py).
`signed` turns it into the
exact bytes and headers the platform would send, with the dev secrets from `dev.json`
(`meta_app_secret`, `tiktok_app_key` and `tiktok_app_secret`, `x_consumer_secret`,
`stripe_webhook_secret`); `send` posts it to the running API.
"""

import hashlib
import hmac
import json
import time
import urllib.request
from pathlib import Path

from chalicelib.adapters.platforms import meta, tiktok, x


def load(path: Path) -> tuple[str, bytes]:
    sample = json.loads(Path(path).read_text())
    if isinstance(sample, dict) and "route" in sample and "body" in sample:
        return sample["route"], json.dumps(sample["body"], separators=(",", ":")).encode()
    from .corpus import delivery_for

    delivery = delivery_for(path)
    if delivery is None:
        raise ValueError(f"{path} is not a sample delivery (events/ or tests/platform_samples)")
    return delivery.route, delivery.raw


def signed(route: str, raw: bytes, secrets: dict) -> dict[str, str]:
    platform = route.rstrip("/").rsplit("/", 1)[-1]
    if platform == "meta":
        return {"X-Hub-Signature-256": meta.signature(secrets["meta_app_secret"], raw)}
    if platform == "tiktok":
        key, secret = secrets["tiktok_app_key"], secrets["tiktok_app_secret"]
        return {"Authorization": tiktok.signature(key, secret, raw)}
    if platform == "x":
        return {"x-twitter-webhooks-signature": x.signature(secrets["x_consumer_secret"], raw)}
    if platform == "stripe":
        at = int(time.time())
        digest = hmac.new(secrets["stripe_webhook_secret"].encode(), f"{at}.".encode() + raw,
                          hashlib.sha256).hexdigest()  # fmt: skip
        return {"Stripe-Signature": f"t={at},v1={digest}"}
    raise ValueError(f"no signing rule for {route}")


def send(path: Path, dev: dict) -> tuple[int, str]:
    return post(*load(path), dev)


def post(route: str, raw: bytes, dev: dict) -> tuple[int, str]:
    """Sign `raw` as the route's platform does and post it to the running API."""
    headers = {"Content-Type": "application/json", **signed(route, raw, dev)}
    request = urllib.request.Request(  # noqa: S310 (the dev API's own URL, from dev.json)
        dev["api_base"] + route, data=raw, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
