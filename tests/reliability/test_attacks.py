"""Attacks on trust (issue #11), tried as an attacker would: over HTTP against the `make run`
stack, except the vault's own function, which only other functions can invoke and is tried
through its Lambda entry point. Each test counts its attempts, the refusals and what got
through (which must be 0) into RELIABILITY.md.

- guest input: anonymous checkouts with a known buyer's email in any case or spacing, some
  accepted, some rejected, never change the customer, their paid order's details or their
  consent, and a rejected one leaves the vault as it was;
- keys: a revoked, a rolled-away, an expired and a wrong-mode key are refused; a narrow key
  cannot create, roll or revoke keys beyond its scopes, nor touch another merchant's;
- the vault: commands without an assertion, forged, expired, replayed for another command or
  beyond a worker's role are refused and audited;
- idempotency: a storefront key claimed by someone else does not block or answer a buyer;
- hoarding: with the caps on, one client or one email cannot hold more than allowed, and no
  answer tells the stock count;
- small leaks: health names no SDK, a zero price needs its flag;
- erasure: after a full run (checkout, payment, fulfilment, an idempotent replay, a comment),
  no table, queue or log line of the stack holds any value of an erased person.
"""

import re
import time
import uuid

import pytest

from chalicelib.domain.merchants import hash_secret
from chalicelib.vault.assertions import Issuer, mint
from devstack.platform_standin import SAMPLE_COMMENTER
from tests.integration.vault_helpers import JANE

from .attack_helpers import (
    Http,
    aws,
    checkout,
    meta_signed,
    open_shop,
    pay,
    queues_text,
    tables_text,
    vault_items,
    wait_for,
)

ADDRESS = {"line1": "221B Baker Street", "city": "London", "postal_code": "NW1 6XE",
           "country": "GB"}  # fmt: skip
MALLORY = {"line1": "1 Drop Street", "city": "Elsewhere", "postal_code": "99999",
           "country": "US"}  # fmt: skip


def at(details: dict, address: dict) -> bool:
    """Whether the details read ship to `address` (fields not given read as null)."""
    return all(details["shipping_address"][k] == v for k, v in address.items())


def count(figures, item: str, attempts: int, refused: int, through: int) -> None:
    figures[f"trust_{item}_attempts"] += attempts
    figures[f"trust_{item}_refused"] += refused
    figures[f"trust_{item}_through"] += through


@pytest.fixture(scope="module")
def http(devstack) -> Http:
    return Http(devstack.api)


@pytest.fixture
def shop(devstack):
    return open_shop(devstack.info)


def test_guest_input_never_rewrites_a_customer(devstack, http, shop, figures):
    email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    victim = {"email": email, "name": "Victoria Inn", "phone": "+442079460958",
              "shipping_address": ADDRESS}  # fmt: skip
    token = http.post("/v1/customers", victim, key=shop.key).json()["token"]
    own = http.post("/v1/checkouts", checkout(shop, {"email": email, "name": "Victoria Inn"},
                                              ADDRESS)).json()  # fmt: skip
    pay(devstack.info["stripe_api_base"], own["payment_intent_id"])
    wait_for(
        lambda: http.get(f"/v1/orders/{own['order_id']}", key=shop.key).json()["status"] == "paid",
        "the victim's order to be paid",
    )
    # A free item alone makes a checkout whose payment Stripe refuses (no amount): the vault
    # has been given the buyer by then, and must take it back.
    free = http.post("/v1/products", {"title": "Sticker", "variants": [
        {"sku": "STICKER", "price": {"amount": 0, "currency": "EUR"}, "free": True,
         "inventory": {"on_hand": 100}}]}, key=shop.key).json()["variants"][0]["id"]  # fmt: skip
    spellings = [email.upper(), f"  {email} ", email.title(), f"\t{email.capitalize()}"]
    attempts = refused = 0
    rejected_orders, accepted_orders = [], []
    cases = [  # (lines, post_id, accepted)
        ([{"variant_id": shop.variant_id, "quantity": 1}], None, True),
        ([{"variant_id": shop.variant_id, "quantity": 999}], None, False),
        ([{"variant_id": shop.variant_id, "quantity": 1}], "post_nothere", False),
        ([{"variant_id": free, "quantity": 1}], None, False),
    ]
    for spelling in [*spellings, f"first-time-{uuid.uuid4().hex[:6]}@example.com"]:
        attacker = {"email": spelling, "name": "Mallory", "phone": "+15555550100",
                    "marketing_consent": True}  # fmt: skip
        for lines, post_id, accepted in cases:
            if spelling not in spellings and accepted:
                continue  # the first-time buyer only fails: nothing of them may stay
            before = vault_items(devstack.info)
            body = {"lines": lines, "customer": attacker, "shipping_address": MALLORY}
            if post_id:
                body["post_id"] = post_id
            response = http.post("/v1/checkouts", body)
            attempts += 1
            if response.status_code >= 400:
                refused += 1
                assert not accepted, response.text
                rejected_orders.append(response.json()["error"]["code"])
                assert vault_items(devstack.info) == before, "a rejected checkout wrote"
            else:
                assert accepted and response.json()["customer"]["token"] == token
                accepted_orders.append(response.json()["order_id"])

    profile = http.get(f"/v1/customers/{token}?purpose=fulfillment", key=shop.key).json()
    paid = http.get(
        f"/v1/customers/{token}?purpose=fulfillment&order_id={own['order_id']}", key=shop.key
    ).json()
    support = http.get(f"/v1/customers/{token}?purpose=support", key=shop.key).json()
    consents = http.get(f"/v1/customers/{token}/export", key=shop.key).json()["consents"]
    changed = {
        "profile name": profile["name"] != "Victoria Inn",
        "profile phone": profile["phone"] != "+442079460958",
        "profile address": not at(profile, ADDRESS),
        "paid order's details": not at(paid, ADDRESS) or paid["name"] != "Victoria Inn",
        "email": support["email"] != email,
        # consent only as records of the accepted checkouts, each its own
        "consent": sorted(c["order_id"] for c in consents) != sorted(accepted_orders),
    }
    through = sum(changed.values())
    count(figures, "guest_input", attempts, refused, through)
    assert through == 0, [what for what, yes in changed.items() if yes]
    assert set(rejected_orders) == {"out_of_stock", "resource_missing", "payment_invalid_request"}


def test_keys_are_revoked_at_once_and_never_escalate(devstack, http, shop, figures):
    attempts = refused = through = 0

    def refused_with(status, method, path, body=None, key=None):
        nonlocal attempts, refused, through
        response = http.request(method, path, body, key=key)
        attempts += 1
        if response.status_code == status:
            refused += 1
        else:
            through += 1
        return response

    reader = http.post("/v1/keys", {"scopes": ["catalog:read"]}, key=shop.key).json()
    assert http.get("/v1/products", key=reader["secret"]).status_code == 200
    http.delete(f"/v1/keys/{reader['id']}", key=shop.key)
    refused_with(401, "GET", "/v1/products", key=reader["secret"])

    rolled = http.post("/v1/keys", {"scopes": ["catalog:read"]}, key=shop.key).json()
    http.post(f"/v1/keys/{rolled['id']}/roll", {"grace_seconds": 0}, key=shop.key)
    refused_with(401, "GET", "/v1/products", key=rolled["secret"])

    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    expiring = http.post(
        "/v1/keys", {"scopes": ["catalog:read"], "expires_at": soon}, key=shop.key
    ).json()
    aws(devstack.info, "dynamodb").update_item(  # an hour passes
        TableName="shoppable-main",
        Key={"pk": {"S": f"KEY#{hash_secret(expiring['secret'])}"}, "sk": {"S": "KEY"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"S": "2000-01-01T00:00:00+00:00"}},
    )
    refused_with(401, "GET", "/v1/products", key=expiring["secret"])
    refused_with(401, "GET", "/v1/products", key="sk_live_" + "a" * 40)

    narrow = http.post("/v1/keys", {"scopes": ["keys:read", "keys:write"]}, key=shop.key).json()
    owner_id = next(
        k["id"] for k in http.get("/v1/keys", key=shop.key).json()["data"]
        if "orders:write" in k["scopes"]
    )  # fmt: skip
    refused_with(403, "POST", "/v1/keys", {"scopes": ["orders:read"]}, key=narrow["secret"])
    refused_with(403, "POST", f"/v1/keys/{owner_id}/roll", {}, key=narrow["secret"])
    refused_with(403, "DELETE", f"/v1/keys/{owner_id}", key=narrow["secret"])
    stranger = open_shop(devstack.info)
    refused_with(404, "DELETE", f"/v1/keys/{owner_id}", key=stranger.key)
    refused_with(404, "POST", f"/v1/keys/{owner_id}/roll", {}, key=stranger.key)
    through += http.get("/v1/orders", key=shop.key).status_code != 200  # the owner still works
    count(figures, "keys", attempts, refused, through)
    assert through == 0


def test_the_vault_refuses_callers_it_cannot_verify(api, rt, merchant, figures):
    """In-process: the vault function's Lambda entry, invoked as a compromised function
    would invoke it."""
    token = api.post("/v1/customers", JANE, key=merchant.secret).json["token"]
    edge, worker = rt._secret_key("edge_caller_key"), rt._secret_key("worker_caller_key")

    def command(kind="detokenize", merchant_id=merchant.merchant.id, **more):
        body = {"type": kind, "token": token, "purpose": "support", **more}
        if kind == "export":
            body.pop("purpose")
        body["caller"] = {"merchant_id": merchant_id, "actor": "key_x",
                          "scopes": ["customers:read:support", "customers:export"]}  # fmt: skip
        return body

    def signed(body, key=edge, issuer=Issuer.EDGE, at=None, over=None):
        return {**body, "assertion": mint(key, issuer, over or body, at or time.time())}

    forgeries = [
        command(),  # no assertion: the payload's word only
        signed(command(), key=b"guessed-key-0123456789abcdef0123"),
        signed(command(), at=time.time() - 61),
        signed(command("export"), over=command()),  # a genuine one, for another command
        signed(command(merchant_id="mer_other"), over=command()),
        signed(command("export"), key=worker, issuer=Issuer.WORKER),
        signed(command(), key=worker, issuer=Issuer.WORKER),
    ]
    before = len([i for i in rt.dynamodb.scan(TableName=rt.settings.vault_table)["Items"]
                  if i["pk"]["S"].startswith("REFUSED#")])  # fmt: skip
    through = refused = 0
    for forged in forgeries:
        reply = api.client.lambda_.invoke("vault", forged).payload
        if reply.get("ok"):
            through += 1
        elif reply["error"]["code"] == "caller_unverified":
            refused += 1
    audited = len([i for i in rt.dynamodb.scan(TableName=rt.settings.vault_table)["Items"]
                   if i["pk"]["S"].startswith("REFUSED#")]) - before  # fmt: skip
    count(figures, "vault_callers", len(forgeries), refused, through)
    figures["trust_vault_callers_audited"] += audited
    assert through == 0 and refused == len(forgeries) == audited
    assert api.client.lambda_.invoke("vault", signed(command())).payload["ok"] is True


def test_storefront_idempotency_keys_cannot_be_claimed_by_others(http, shop, figures):
    attempts = through = 0
    for n in range(5):
        key = {"Idempotency-Key": f"cart-{n}"}
        squat = checkout(shop, {"email": f"squatter{n}@example.com", "name": "Squat"}, MALLORY)
        http.post("/v1/checkouts", squat, headers=key)
        mine = http.post(
            "/v1/checkouts",
            checkout(shop, {"email": f"buyer{n}@example.com", "name": "Buy Er"}, ADDRESS),
            headers=key,
        )
        attempts += 1
        through += mine.status_code != 201 or mine.json()["customer"]["email"] != "b***@example.com"
    count(figures, "idempotency", attempts, attempts - through, through)
    assert through == 0


def test_stock_cannot_be_hoarded_once_the_caps_are_on(devstack, http, figures):
    shop = open_shop(devstack.info, stock=40)
    caps = {"max_quantity_per_line": 5, "max_units_per_order": 5,
            "max_open_checkouts_per_client": 4, "max_open_checkouts_per_email": 2,
            "hold_minutes": 5}  # fmt: skip
    assert http.patch("/v1/settings", {"checkout": caps}, key=shop.key).status_code == 200
    attempts = refused = 0
    statuses = []

    def attempt(email, quantity=1, device=None):
        nonlocal attempts, refused
        headers = {"X-Device-Id": device} if device else {}
        customer = {"email": email, "name": "Hoard Er"}
        response = http.post(
            "/v1/checkouts", checkout(shop, customer, MALLORY, quantity), headers=headers
        )
        attempts += 1
        refused += response.status_code >= 400
        statuses.append(response.status_code)
        return response

    assert attempt("h1@example.com", 1000).status_code == 422  # beyond the API's own too
    assert attempt("h1@example.com", 6).status_code == 422
    for n in range(6):  # one email, several devices
        attempt("h2@example.com", 5, device=f"dev-{n}")
    for n in range(10):  # one client (one address), many emails
        attempt(f"h3-{n}@example.com", 5)
    product = http.get(f"/v1/products/{shop.product_id}", key=shop.key).json()
    reserved = product["variants"][0]["inventory"]["reserved"]
    allowed = caps["max_open_checkouts_per_client"] * caps["max_units_per_order"]
    through = max(0, reserved - allowed)
    count(figures, "hoarding", attempts, refused, through)
    assert through == 0 and statuses.count(429) >= 1
    out_of_stock = http.post(
        "/v1/checkouts", checkout(shop, {"email": "z@example.com", "name": "Z"}, MALLORY, 5)
    )
    leaked = re.search(r"\d", out_of_stock.json()["error"]["message"]) is not None
    figures["trust_hoarding_stock_counts_told"] += leaked
    assert not leaked


def test_small_leaks_are_closed(http, shop, figures):
    health = http.get("/v1/health").json()
    zero = http.post(
        "/v1/products",
        {"title": "Gift", "variants": [{"sku": "GIFT", "price": {"amount": 0, "currency": "EUR"}}]},
        key=shop.key,
    )
    through = (set(health["versions"]) != {"shoppable"}) + (zero.status_code != 422)
    count(figures, "small_leaks", 2, 2 - through, through)
    assert through == 0


def test_after_erasure_no_value_of_the_person_is_left_anywhere(devstack, http, shop, figures):
    """A full run, then erasure, then a scan of every table, queue and log of the stack."""
    info = devstack.info
    tag = uuid.uuid4().hex[:6]
    person = {"email": f"Erin.Erased.{tag}@erased-{tag}.example", "name": f"Erin Erased{tag}",
              "phone": "+33698765432"}  # fmt: skip
    address = {"line1": f"{tag} Rue des Oublis", "city": "Lyon", "postal_code": "69001",
               "country": "FR"}  # fmt: skip
    body = checkout(shop, person, address)
    placed = http.post("/v1/checkouts", body, headers={"Idempotency-Key": f"erin-{tag}"}).json()
    http.post("/v1/checkouts", body, headers={"Idempotency-Key": f"erin-{tag}"})  # a replay
    pay(info["stripe_api_base"], placed["payment_intent_id"])
    order_path = f"/v1/orders/{placed['order_id']}"
    wait_for(lambda: http.get(order_path, key=shop.key).json()["status"] == "paid", "payment")
    fulfilled = http.post(f"{order_path}/fulfill", {"carrier": "Colissimo", "tracking_number": "1"},
                          key=shop.key)  # fmt: skip
    assert fulfilled.status_code == 200
    token = placed["customer"]["token"]
    read = http.get(
        f"/v1/customers/{token}?purpose=fulfillment&order_id={placed['order_id']}", key=shop.key
    )
    assert read.json()["shipping_address"]["line1"] == address["line1"]

    # A direct message from a person the platform stand-in knows (the author is looked up by
    # the sender's id; a comment's author is looked up by the comment, which the stand-in
    # would have to hold).
    comment_text = f"how much is it {tag}?"
    now_ms = int(time.time() * 1000)
    raw, headers = meta_signed(
        {"object": "instagram", "entry": [{"id": "17841400000000000", "time": now_ms,
         "messaging": [{"sender": {"id": SAMPLE_COMMENTER["id"]},
                        "recipient": {"id": "17841400000000000"}, "timestamp": now_ms,
                        "message": {"mid": f"mid.{tag}", "text": comment_text}}]}]},
        info["meta_app_secret"],
    )  # fmt: skip
    assert http.post("/v1/webhooks/meta", raw=raw, headers=headers).status_code == 200
    demo_key = info["api_key"]

    def filed():
        cursor = None
        while True:  # every page: the shared stack's inbox holds other tests' items too
            query = f"limit=100&cursor={cursor}" if cursor else "limit=100"
            page = http.get(f"/v1/inbox?{query}", key=demo_key).json()
            found = next((i for i in page["data"] if i["text"] == comment_text), None)
            if found is not None or not page["has_more"]:
                return found
            cursor = page["next_cursor"]

    item = wait_for(filed, "the comment in the inbox")
    commenter = item["author"]["token"]

    assert http.delete(f"/v1/customers/{token}", key=shop.key).status_code == 200
    assert http.delete(f"/v1/customers/{commenter}", key=demo_key).status_code == 200

    values = [person["email"], person["email"].lower(), person["name"], person["phone"],
              address["line1"], f"{tag} Rue", comment_text, f"e***@erased-{tag}.example",
              "***5432"]  # fmt: skip
    logs = devstack.output() + (devstack.dev_dir / "localstripe.log").read_text(errors="replace")
    places = {"tables": tables_text(info), "queues": queues_text(info), "logs": logs}
    found = {where: [v for v in values if v in text] for where, text in places.items()}
    figures["trust_erasure_values_searched"] += len(values) * len(places)
    figures["trust_erasure_values_found"] += sum(len(v) for v in found.values())
    assert found == {"tables": [], "queues": [], "logs": []}
