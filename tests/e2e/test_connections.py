"""Connections on the running stack, over real HTTP and the operator CLI, as the issue's "done"
reads: the demo shop's Instagram and TikTok Shop accounts were connected through the redirect
flow at start; publishing uses the shop's own tokens (the platform stand-in's request log
shows them); a second merchant cannot claim the same account; disconnecting stops the
account's webhooks."""

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from .stack import ROOT

pytestmark = pytest.mark.e2e

DEADLINE_SECONDS = 30


def cli(devstack, *args: str) -> subprocess.CompletedProcess:
    info = devstack.info
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHOPPABLE_"))}
    env.update(
        SHOPPABLE_DEV_DIR=str(devstack.dev_dir),
        AWS_ENDPOINT_URL=info["aws_endpoint_url"],
        AWS_REGION=info["aws_region"],
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    )
    return subprocess.run(
        [sys.executable, "-m", "devstack.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def standin_requests(devstack) -> list[dict]:
    return requests.get(devstack.info["platform_standin_url"] + "/_requests", timeout=10).json()


def test_connect_publish_claim_and_disconnect_on_the_running_stack(api, devstack):
    key, post_id = devstack.info["api_key"], devstack.info["post_id"]
    listed = api.get("/v1/connections?limit=100", key=key).json()["data"]
    accounts = {(c["platform"], c["account_id"]): c for c in listed}
    connected = {  # the accounts of events/ (the platform samples' are connected too)
        "instagram": accounts[("instagram", "17841400000000000")],
        "tiktok": accounts[("tiktok", "7494726673780148744")],
    }
    assert {c["status"] for c in listed} == {"active"}
    consented = [r for r in standin_requests(devstack)
                 if r["platform"] in ("facebook", "tiktok-services")]  # fmt: skip
    assert {r["platform"] for r in consented} == {"facebook", "tiktok-services"}  # redirect flow

    # Publishing acts with the shop's own tokens.
    published = api.post(
        f"/v1/posts/{post_id}/publish", {"platforms": ["instagram", "tiktok"]}, key=key
    )
    assert published.status_code == 202, published.text
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        publications = api.get(f"/v1/posts/{post_id}", key=key).json()["publications"]
        if {publications[p]["status"] for p in ("instagram", "tiktok")} == {"published"}:
            break
        assert time.monotonic() < deadline, publications
        time.sleep(0.3)
    seen = standin_requests(devstack)
    # the first consents at start are the demo shop's own (events/); the samples' come after
    pages = next(r for r in seen if r["platform"] == "meta" and r["path"] == "/me/accounts")
    media = [r for r in seen if r["method"] == "POST" and r["path"].endswith("/media")]
    assert media and all(
        r["headers"]["authorization"].startswith("Bearer meta-EAAP-") for r in media
    )
    assert media[-1]["headers"]["authorization"] != pages["headers"]["authorization"]  # the Page's
    token_call = next(r for r in seen if r["platform"] == "tiktok-auth")
    shops = [r for r in seen if r["path"] == "/authorization/202309/shops"]
    product = [r for r in seen if r["path"] == "/product/202309/products"][-1]
    assert product["headers"]["x-tts-access-token"] == shops[0]["headers"]["x-tts-access-token"]
    assert product["query"]["shop_cipher"] == "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3"
    assert token_call["query"]["grant_type"] == "authorized_code"

    # A second merchant cannot claim the same account.
    created = cli(devstack, "merchant", "create", "--name", "Second Shop")
    assert created.returncode == 0, created.stderr
    other_key = json.loads(created.stdout)["api_key"]
    claimed = cli(devstack, "connect", "instagram", "--key", other_key)
    assert claimed.returncode == 1
    assert "409" in claimed.stdout and "account_connected_elsewhere" in claimed.stdout
    assert api.get("/v1/connections", key=other_key).json()["data"] == []

    # Disconnecting stops the account's webhooks.
    gone = api.delete(f"/v1/connections/{connected['instagram']['id']}", key=key)
    assert gone.status_code == 200, gone.text
    inbox_before = api.get("/v1/inbox", key=key).json()["data"]
    sent = cli(devstack, "send-event", "events/meta-instagram-mention.json")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    deadline = time.monotonic() + DEADLINE_SECONDS
    while "no merchant has connected this account; event dropped" not in devstack.output():
        assert time.monotonic() < deadline, devstack.output()[-4000:]
        time.sleep(0.3)
    assert api.get("/v1/inbox", key=key).json()["data"] == inbox_before

    # Connecting it again through the redirect flow routes its webhooks again (and leaves the
    # shared stack as the other tests expect it).
    again = cli(devstack, "connect", "instagram", "--key", key)
    assert again.returncode == 0, again.stdout + again.stderr
    relisted = api.get("/v1/connections?limit=100", key=key).json()["data"]
    assert ("instagram", "17841400000000000") in {
        (c["platform"], c["account_id"]) for c in relisted
    }
