"""Publishing a post: one queued job per platform; each platform gets the exact request its
API expects, with the merchant's own token; failures are retried, then the post shows
`failed` with the platform's error."""

import json

import pytest

from .platform_helpers import IG_ACCOUNT, connect, token_of
from .sales_helpers import drain


@pytest.fixture(autouse=True)
def _platforms(platforms, monkeypatch):
    monkeypatch.setenv("SHOPPABLE_PUBLISH_RETRY_SECONDS", "0")
    monkeypatch.setenv("SHOPPABLE_PUBLISH_MAX_ATTEMPTS", "3")
    return platforms


def test_publish_queues_one_job_per_platform_and_each_gets_its_request(
    api,
    rt,
    merchant,
    product,
    post,
    platforms,
):
    for platform in ("instagram", "pinterest", "tiktok"):
        connect(api, platforms, merchant, platform)
    settings = api.patch(
        "/v1/settings",
        {"pinterest_board_id": "board1", "meta_catalog_id": "cat1"},
        key=merchant.secret,
    )
    assert settings.status_code == 200, settings.body
    body = {"platforms": ["instagram", "pinterest", "tiktok"]}
    response = api.post(f"/v1/posts/{post['id']}/publish", body, key=merchant.secret)
    assert response.status_code == 202, response.body
    assert {p: v["status"] for p, v in response.json["publications"].items()} == {
        "instagram": "queued",
        "pinterest": "queued",
        "tiktok": "queued",
    }
    drain(api, rt)

    link = f"https://shop.test/posts/{post['id']}?product={product['id']}"
    # the tagged product, not in the Meta catalog yet, was listed there first: the tag
    # takes its catalog product id (its first variant's)
    meta = api.get(f"/v1/products/{product['id']}", key=merchant.secret).json["channels"]
    (listed,) = [c for c in meta if c["channel"] == "meta"]
    catalog_product = listed["variants"][0]["catalog_product_id"]
    assert catalog_product and catalog_product != product["id"]
    container = platforms.calls("meta", "POST", f"/{IG_ACCOUNT}/media")[0]
    assert container.body == {
        "image_url": "https://cdn.example.com/look.jpg",
        "caption": "Summer linen",
        "product_tags": json.dumps(
            [{"product_id": catalog_product, "x": 0.4, "y": 0.6}], separators=(",", ":")
        ),
    }
    published = platforms.calls("meta", "POST", f"/{IG_ACCOUNT}/media_publish")[0]
    assert published.body == {"creation_id": "container" + published.body["creation_id"][9:]}
    page_token = token_of(platforms, "instagram", IG_ACCOUNT)  # its Page's token
    assert {c.headers["authorization"] for c in (container, published)} == {f"Bearer {page_token}"}

    batch = platforms.calls("pinterest", "POST", "/v5/catalogs/items/batch")[0]
    assert batch.body["operation"] == "UPSERT"
    assert batch.body["items"][0] == {
        "item_id": "SHIRT-S",
        "attributes": {
            "title": "Linen shirt",
            "description": "Breathable, relaxed fit.",
            "link": link,
            "image_link": ["https://cdn.example.com/shirt.jpg"],
            "price": "49.00 EUR",
            "availability": "in stock",
            "item_group_id": product["id"],
        },
    }
    pin = platforms.calls("pinterest", "POST", "/v5/pins")[0]
    assert pin.body == {
        "board_id": "board1",
        "title": "Linen shirt",
        "description": "Summer linen",
        "link": link,
        "media_source": {"source_type": "image_url", "url": "https://cdn.example.com/look.jpg"},
    }
    assert pin.headers["authorization"] == f"Bearer {token_of(platforms, 'pinterest', '')}"

    product_call = platforms.calls("tiktok", "POST", "/product/202309/products")[0]
    assert product_call.headers["x-tts-access-token"] == token_of(platforms, "tiktok", "")
    assert product_call.query["shop_cipher"] == "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3"
    assert product_call.body["skus"][0] == {
        "seller_sku": "SHIRT-S",
        "price": {"amount": "49.00", "currency": "EUR"},
        "inventory": [{"quantity": 5}],
    }

    got = api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json
    assert {p: v["status"] for p, v in got["publications"].items()} == {
        "instagram": "published",
        "pinterest": "published",
        "tiktok": "published",
    }
    assert got["publications"]["instagram"]["external_id"]
    drain(api, rt)  # nothing more to do
    assert len(platforms.calls("pinterest", "POST", "/v5/pins")) == 1


def test_a_failing_platform_is_retried_then_shows_failed_with_its_error(
    api,
    rt,
    merchant,
    post,
    platforms,
):
    connect(api, platforms, merchant, "x")
    platforms.fail("x", "/2/tweets", status=503, message="Service Unavailable")
    api.post(f"/v1/posts/{post['id']}/publish", {"platforms": ["x"]}, key=merchant.secret)
    drain(api, rt)
    assert len(platforms.calls("x", "POST", "/2/tweets")) == 3
    got = api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json["publications"]["x"]
    assert (got["status"], got["attempts"], got["error"]) == ("failed", 3, "Service Unavailable")


def test_a_refusal_fails_at_once(api, rt, merchant, post, platforms):
    api.post(f"/v1/posts/{post['id']}/publish", {"platforms": ["facebook"]}, key=merchant.secret)
    drain(api, rt)  # no facebook page connected
    got = api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json["publications"]
    assert got["facebook"]["status"] == "failed"
    assert got["facebook"]["error"] == (
        "no facebook account is connected: connect one with POST /v1/connections/facebook/authorize"
    )


def test_published_and_finally_failed_publications_are_announced(
    api, rt, merchant, post, platforms
):
    from .outbound_helpers import Outbox

    outbox = Outbox(api, rt)
    connect(api, platforms, merchant, "instagram")
    connect(api, platforms, merchant, "x")
    api.patch("/v1/settings", {"meta_catalog_id": "cat1"}, key=merchant.secret)
    platforms.fail("x", "/2/tweets", status=403)
    body = {"platforms": ["instagram", "x"]}
    assert api.post(f"/v1/posts/{post['id']}/publish", body, key=merchant.secret).status_code == 202
    drain(api, rt)
    outbox.drain()
    events = api.get("/v1/events", key=merchant.secret).json["data"]
    outcomes = {(e["type"], e["data"]["platform"]) for e in events}
    assert outcomes == {("post.published", "instagram"), ("post.publish_failed", "x")}


def test_instagram_tags_need_products_live_in_the_meta_catalog(
    api, rt, merchant, product, post, platforms
):
    connect(api, platforms, merchant, "instagram")
    api.post(f"/v1/posts/{post['id']}/publish", {"platforms": ["instagram"]}, key=merchant.secret)
    drain(api, rt)
    got = api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json["publications"]
    assert got["instagram"]["status"] == "failed"
    assert "set meta_catalog_id" in got["instagram"]["error"]

    api.patch("/v1/settings", {"meta_catalog_id": "cat1"}, key=merchant.secret)
    platforms.refuse_item("meta", "SHIRT-S", "Product image is too small.")
    platforms.refuse_item("meta", "SHIRT-M", "Product image is too small.")
    api.post(f"/v1/posts/{post['id']}/publish", {"platforms": ["instagram"]}, key=merchant.secret)
    drain(api, rt)
    got = api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json["publications"]
    assert got["instagram"]["status"] == "failed"
    assert got["instagram"]["error"] == (
        "'Linen shirt' is not live in your Meta catalog cat1: rejected "
        "(Product image is too small.)"
    )
    assert platforms.calls("meta", "POST", f"/{IG_ACCOUNT}/media") == []  # nothing published
