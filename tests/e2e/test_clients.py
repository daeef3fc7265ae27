"""The generated clients against the running stack: the merchants' Postman collection run by
newman, request after request, and the storefront client's module run by Node as a shop's
server-side code would (the widget runs it in the browser tests)."""

import json
import subprocess

import pytest

from .stack import ROOT

pytestmark = pytest.mark.e2e

NODE_TOOLS = ROOT / "clients" / "node_modules" / ".bin"
# Refused by the order's state on a fresh checkout, not by the request: it is not paid yet, and
# its buyer has asked no cancellation on the platform that sold it.
NEEDS_A_PAID_ORDER = {
    "Mark a paid order as shipped",
    "Refund in full or in part, through Stripe",
    "Approve the buyer's cancellation request, on the platform that sold the order",
    "Reject the buyer's cancellation request with one of the platform's reasons",
}
# The stack's connections are the demo shop's, made through the platforms' consent, which a
# collection cannot give: the run must not disconnect them. It is handed a connection id of no
# one's (Postman's environment wins over the id the listing keeps), refused as missing.
DISCONNECT = (
    "Disconnect an account: its webhooks stop, its tokens are revoked (where the platform "
    "can) and shredded"
)
NO_ONES_CONNECTION = "conn_ofnoonesaccount000000"


def test_the_collection_runs_against_the_stack_request_after_request(devstack, tmp_path):
    assert (NODE_TOOLS / "newman").exists(), "newman is not installed: run `make test` once"
    report = tmp_path / "newman.json"

    ran = subprocess.run(
        [str(NODE_TOOLS / "newman"), "run", "clients/shoppable.postman_collection.json",
         "--env-var", f"baseUrl={devstack.api}", "--env-var", f"apiKey={devstack.info['api_key']}",
         # make run posts webhooks only on this machine: the discard port, refused at once
         "--env-var", "webhookUrl=http://127.0.0.1:9/hooks",
         "--env-var", f"connection_id={NO_ONES_CONNECTION}",
         "--reporters", "json", "--reporter-json-export", str(report),
         "--timeout-request", "10000"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    executions = json.loads(report.read_text())["run"]["executions"]
    answered = {e["item"]["name"]: e["response"]["code"] for e in executions}
    assert len(answered) == len(executions) > 20
    refused = {name: code for name, code in answered.items() if code >= 400}
    assert refused == {**dict.fromkeys(NEEDS_A_PAID_ORDER, 409), DISCONNECT: 404}
    urls = [json.dumps(e["request"]["url"]) for e in executions]
    assert not [url for url in urls if "{{" in url]  # every id a request needed was kept


NODE_SCRIPT = """
import {ShoppableClient} from './chalicelib/storefront_widget/client.js';
const [base, postId] = process.argv.slice(1);
const shop = new ShoppableClient(base);
const post = await shop.getStorefrontPost(postId);
const variant = post.data.tags[0].variants.find((v) => v.availability === 'in_stock');
const placed = await shop.createCheckout({
  post_id: postId,
  lines: [{variant_id: variant.id, quantity: 1}],
  customer: {email: 'node@example.com', name: 'Node Buyer'},
  shipping_address: {line1: '1 Main St', city: 'Lyon', postal_code: '69001', country: 'FR'},
}, {idempotencyKey: `node-${Date.now()}`});
const status = await shop.getCheckoutStatus(placed.data.order_id,
                                            {client_secret: placed.data.client_secret});
const stranger = await shop.getCheckoutStatus(placed.data.order_id, {client_secret: 'guess'});
const missing = await shop.getStorefrontPost('post_missing');
const offline = await new ShoppableClient('http://127.0.0.1:9/').getStorefrontPost(postId);
console.log(JSON.stringify({post: [post.ok, post.status, post.data.id], placed: placed.status,
  status: status.data, stranger: [stranger.ok, stranger.status, stranger.error.code],
  missing: [missing.status, missing.error.type], offline: [offline.ok, offline.status]}));
"""


def test_the_storefront_client_buys_from_node(devstack):
    post_id = devstack.info["post_id"]

    ran = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_SCRIPT, devstack.api + "/", post_id],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout)
    assert seen["post"] == [True, 200, post_id]
    assert seen["placed"] == 201
    assert seen["status"]["status"] == "pending_payment"
    assert seen["stranger"] == [False, 404, "resource_missing"]
    assert seen["missing"] == [404, "not_found"]
    assert seen["offline"] == [False, 0]
