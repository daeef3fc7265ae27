"""The funnel through HTTP: the public beacon (anonymous, capped, nothing personal), and the
merchant's reports by post, platform and creator, as JSON, CSV and SVG, rolled up from the
outbox's order events (a replayed stream counts nothing twice)."""

import json

from .creators_helpers import funnel, new_creator, new_link, new_post, paid_checkout, row
from .outbound_helpers import Outbox


def raw_get(api, path, key):
    """A GET whose answer is not JSON (CSV, SVG)."""
    return api.client.http.request("GET", path, headers={"Authorization": f"Bearer {key}"})


def beacon(api, body, **headers):
    return api.post("/v1/storefront/beacon", body, headers=headers)


def test_the_beacon_is_public_takes_no_cookie_and_keeps_nothing_personal(
    api, rt, merchant, product
):
    post = new_post(api, merchant.secret, product)
    answer = beacon(
        api,
        {"post_id": post["id"], "kind": "view", "platform": "tiktok"},
        Origin="https://shop.example.com",
        Cookie="session=sid-7f3e-cookie",
    )
    assert answer.status_code == 202, answer.body
    assert answer.json == {"object": "beacon", "received": True}
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    preflight = api.client.http.request(
        "OPTIONS", "/v1/storefront/beacon", headers={"Origin": "https://shop.example.com"}
    )
    assert preflight.status_code == 204
    items = rt.dynamodb.scan(TableName=rt.settings.main_table)["Items"]
    cells = [i for i in items if i["pk"]["S"].startswith("FUNNEL#")]
    assert len(cells) == 1
    assert set(cells[0]) == {"pk", "sk", "views"}  # a counter, no caller detail at all
    assert "sid-7f3e-cookie" not in json.dumps(items)


def test_the_beacon_refuses_what_is_not_a_visible_post_and_ignores_foreign_refs(
    api, merchant, other_merchant, product
):
    assert beacon(api, {"post_id": "post_nope", "kind": "view"}).status_code == 404
    draft = new_post(api, merchant.secret, product, status="draft")
    assert beacon(api, {"post_id": draft["id"], "kind": "view"}).status_code == 404
    bad = beacon(api, {"post_id": "post_x", "kind": "purchase"})
    assert bad.status_code == 422 and bad.json["error"]["param"] == "kind"
    bad = beacon(api, {"post_id": "post_x", "kind": "view", "email": "a@b.c"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "parameter_unknown"
    # A ref of another merchant's creator does not make this merchant's views theirs.
    theirs = new_creator(api, other_merchant.secret)
    their_post = new_post(api, other_merchant.secret, product_of(api, other_merchant))
    link = new_link(api, other_merchant.secret, theirs["id"], their_post["id"])
    post = new_post(api, merchant.secret, product)
    assert (
        beacon(api, {"post_id": post["id"], "kind": "view", "ref": link["code"]}).status_code == 202
    )
    by_creator = funnel(api, merchant.secret, "creator")
    assert [(r["key"], r["views"]) for r in by_creator["rows"]] == [(None, 1)]
    assert funnel(api, other_merchant.secret, "creator")["rows"] == []


def product_of(api, merchant):
    from tests.fixtures.app import product_body

    return api.post("/v1/products", product_body(), key=merchant.secret).json


def test_a_cell_counts_up_to_its_daily_cap(api, rt, merchant, product):
    rt.settings.funnel_daily_cap = 3
    rt.__dict__.pop("analytics", None)
    post = new_post(api, merchant.secret, product)
    for _ in range(5):
        assert beacon(api, {"post_id": post["id"], "kind": "click"}).status_code == 202
    assert funnel(api, merchant.secret, "post")["totals"]["clicks"] == 3


def test_the_funnel_by_post_platform_and_creator_from_link_to_refund(
    api, rt, merchant, product, stripe_api_base
):
    creator = new_creator(api, merchant.secret)
    post = new_post(api, merchant.secret, product)
    link = new_link(api, merchant.secret, creator["id"], post["id"], platform="instagram")
    outbox = Outbox(api, rt)
    for kind in ("view", "view", "click"):
        beacon(api, {"post_id": post["id"], "kind": kind, "ref": link["code"]})
    beacon(api, {"post_id": post["id"], "kind": "view"})  # someone without the link
    placed = paid_checkout(
        api, rt, stripe_api_base, product, post_id=post["id"], attribution={"ref": link["code"]}
    )
    refund = api.post(
        f"/v1/orders/{placed['order_id']}/refund", {"amount": 1000}, key=merchant.secret
    )
    assert refund.status_code == 200, refund.body
    outbox.drain()
    by_creator = funnel(api, merchant.secret, "creator")
    mine = row(by_creator, creator["id"])
    assert (mine["views"], mine["clicks"], mine["checkouts"], mine["paid_orders"]) == (2, 1, 1, 1)
    assert (mine["revenue"]["amount"], mine["refunds"]["amount"]) == (9800, 1000)
    assert row(by_creator, None)["views"] == 1
    by_platform = funnel(api, merchant.secret, "platform")
    assert row(by_platform, "instagram")["paid_orders"] == 1
    assert row(by_platform, "web")["views"] == 1
    by_post = funnel(api, merchant.secret, "post")
    assert row(by_post, post["id"])["views"] == 3
    assert by_post["totals"]["revenue"] == {"amount": 9800, "currency": "EUR"}
    assert sum(day["paid_orders"] for day in by_post["days"]) == 1
    # The stream read again from its start (Lambda retrying a batch): nothing counts twice.
    outbox.reader.restart()
    outbox.drain()
    assert funnel(api, merchant.secret, "creator") == by_creator
    # The CSV: one line per day and group; the picture: an SVG, escaped.
    csv = raw_get(api, "/v1/analytics/funnel.csv?group_by=creator", merchant.secret)
    assert csv.status_code == 200
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    lines = csv.body.decode().splitlines()
    assert lines[0].startswith("day,creator,views,clicks,checkouts,paid_orders")
    assert any(f",{creator['id']},2,1,1,1,EUR,98.00,10.00" in line for line in lines)
    svg = raw_get(api, "/v1/analytics/funnel.svg", merchant.secret)
    assert svg.status_code == 200
    assert svg.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert svg.body.decode().startswith("<svg") and "98.00 EUR" in svg.body.decode()


def test_the_funnel_needs_its_scope_and_a_valid_range(api, rt, merchant):
    from chalicelib.domain.scopes import Scope
    from chalicelib.services.merchants import issue_key

    narrow = issue_key(rt.merchants, merchant.merchant.id, {Scope.ORDERS_READ}).secret
    assert api.get("/v1/analytics/funnel", key=narrow).status_code == 403
    assert raw_get(api, "/v1/analytics/funnel.svg", narrow).status_code == 403
    assert api.get("/v1/analytics/funnel").status_code == 401
    bad = api.get("/v1/analytics/funnel?from=2026-12-01&to=2026-11-01", key=merchant.secret)
    assert bad.status_code == 400 and "from" in bad.json["error"]["message"]
    bad = api.get("/v1/analytics/funnel?group_by=colour", key=merchant.secret)
    assert bad.status_code == 400 and bad.json["error"]["param"] == "group_by"
    ok = api.get(
        "/v1/analytics/funnel?from=2026-11-01&to=2026-11-30&currency=USD", key=merchant.secret
    )
    assert ok.status_code == 200 and len(ok.json["days"]) == 30
    assert ok.json["totals"]["revenue"] == {"amount": 0, "currency": "USD"}


def test_the_beacon_sample_runs_through_its_route(api, rt, merchant, product):
    from pathlib import Path

    from devstack.sample_events import DEMO_POST, load, signed

    post = new_post(api, merchant.secret, product)
    creator = new_creator(api, merchant.secret)
    from .creators_helpers import new_code

    new_code(api, merchant.secret, creator["id"], "JANE")
    route, raw = load(Path("events/storefront-beacon.json"))
    assert signed(route, raw, {}) == {}
    raw = raw.replace(DEMO_POST.encode(), post["id"].encode())
    assert api.post(route, raw=raw).status_code == 202
    by_platform = funnel(api, merchant.secret, "platform")
    assert [(r["key"], r["clicks"]) for r in by_platform["rows"]] == [("instagram", 1)]
    assert row(funnel(api, merchant.secret, "creator"), creator["id"])["clicks"] == 1


def test_the_outbox_sample_is_what_on_outbox_reads(api, rt, merchant):
    """The stream record of an attributed order's `order.paid`, as Lambda hands it over: it
    is published and counted once, however often it comes."""
    from pathlib import Path

    sample = json.loads(Path("events/outbox-order-paid.json").read_text())
    assert sample["function"] == "on_outbox"
    text = json.dumps(sample["event"]).replace("mer_sample", merchant.merchant.id)
    for _ in range(2):
        answer = api.client.lambda_.invoke("on_outbox", json.loads(text)).payload
        assert answer == {"batchItemFailures": []}
    events = api.get("/v1/events", key=merchant.secret).json["data"]
    assert [(e["type"], e["data"]["attribution"]["creator_id"]) for e in events] == [
        ("order.paid", "cr_sample")
    ]
    report = funnel(api, merchant.secret, "creator", **{"from": "2026-11-30", "to": "2026-11-30"})
    assert [
        (r["key"], r["paid_orders"], r["checkouts"], r["revenue"]["amount"]) for r in report["rows"]
    ] == [("cr_sample", 1, 1, 4900)]


def test_the_readme_picture_is_what_the_code_draws():
    from devstack import picture

    assert picture.PICTURE.read_text() == picture.picture(), (
        "docs/funnel.svg is stale: run `.venv/bin/python -m devstack.picture`"
    )
