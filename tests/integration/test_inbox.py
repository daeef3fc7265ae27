"""Engagement: comments and mentions land in the inbox, count on their post, and a comment
asking to buy is answered with the checkout link through the platform's API."""

import pytest

from devstack.platform_standin import SAMPLE_COMMENTER, SAMPLE_X_USER

from .platform_helpers import IG_ACCOUNT, comment, connect, meta_signed, token_of, x_signed
from .sales_helpers import drain


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


@pytest.fixture
def post(api, rt, merchant, product):
    body = {
        "media": {"url": "https://cdn.example.com/look.jpg", "width": 1080, "height": 1350},
        "caption": "Summer linen",
        "tags": [{"product_id": product["id"], "x": 0.4, "y": 0.6}],
    }
    created = api.post("/v1/posts", body, key=merchant.secret).json
    rt.post_store.link_media("instagram", "1799", created["id"])
    rt.post_store.link_media("x", "1460323737035677698", created["id"])
    return created


def test_a_comment_asking_the_price_gets_the_checkout_link(api, rt, merchant, post, platforms):
    connect(api, platforms, merchant, "instagram")
    platforms.add_meta_object("c9", text="Price??", **{"from": SAMPLE_COMMENTER})
    raw, headers = meta_signed({"object": "instagram", "entry": [comment("c9", "Price??")]})
    api.post("/v1/webhooks/meta", raw=raw, headers=headers)
    api.post("/v1/webhooks/meta", raw=raw, headers=headers)  # Meta retries
    drain(api, rt)

    (reply,) = platforms.calls("meta", "POST", f"/{IG_ACCOUNT}/messages")
    link = f"https://shop.test/posts/{post['id']}?product={post['tags'][0]['product_id']}"
    assert reply.body == {
        "recipient": {"comment_id": "c9"},
        "message": {"text": f"Thanks for asking! Linen shirt is here: {link}"},
    }
    assert reply.headers["authorization"] == f"Bearer {token_of(platforms, 'instagram', '')}"
    (item,) = api.get("/v1/inbox", key=merchant.secret).json["data"]
    assert (item["kind"], item["post_id"], item["text"], item["reply"]) == (
        "comment",
        post["id"],
        "Price??",
        "sent",
    )
    assert item["author"]["token"].startswith("cus_")
    assert SAMPLE_COMMENTER["username"] not in str(item)
    got = api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json
    assert got["engagement"] == {"comments": 1, "mentions": 0, "messages": 0}


def test_a_comment_without_a_keyword_is_only_filed(api, rt, merchant, post, platforms):
    connect(api, platforms, merchant, "instagram")
    raw, headers = meta_signed({"object": "instagram", "entry": [comment("c10", "priceless")]})
    api.post("/v1/webhooks/meta", raw=raw, headers=headers)
    drain(api, rt)
    assert platforms.calls("meta", "POST") == []
    assert api.get("/v1/inbox", key=merchant.secret).json["data"][0]["reply"] == "none"


def test_a_refused_reply_shows_on_the_inbox_item(api, rt, merchant, post, platforms):
    connect(api, platforms, merchant, "instagram")
    platforms.fail("meta", "/messages$", status=400, message="(#10) outside allowed window")
    raw, headers = meta_signed({"object": "instagram", "entry": [comment("c11", "buy")]})
    api.post("/v1/webhooks/meta", raw=raw, headers=headers)
    drain(api, rt)
    item = api.get("/v1/inbox", key=merchant.secret).json["data"][0]
    assert (item["reply"], item["reply_error"]) == ("failed", "(#10) outside allowed window")


def test_an_x_reply_to_a_post_asking_to_buy_gets_a_reply(api, rt, merchant, post, platforms):
    connect(api, platforms, merchant, "x")
    platforms.add_x_user(SAMPLE_X_USER["id"], SAMPLE_X_USER["username"])
    platforms.add_x_tweet("1460323737035677699", "@shop how much?", SAMPLE_X_USER["id"])
    delivery = {
        "for_user_id": "2244994945000",
        "tweet_create_events": [
            {
                "id_str": "1460323737035677699",
                "text": "@shop how much?",
                "in_reply_to_status_id_str": "1460323737035677698",
                "timestamp_ms": "1637068000000",
                "user": {"id_str": "2244994945", "screen_name": "buyer_on_x"},
            }
        ],
    }
    raw, headers = x_signed(delivery)
    assert api.post("/v1/webhooks/x", raw=raw, headers=headers).status_code == 200
    drain(api, rt)
    (sent,) = platforms.calls("x", "POST", "/2/tweets")
    assert sent.body["reply"] == {"in_reply_to_tweet_id": "1460323737035677699"}
    assert sent.headers["authorization"] == f"Bearer {token_of(platforms, 'x', '')}"
    got = api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json
    assert got["engagement"]["mentions"] == 1


def test_each_merchant_answers_its_own_keywords_with_its_own_reply(
    api, rt, merchant, post, platforms
):
    connect(api, platforms, merchant, "instagram")
    changed = api.patch(
        "/v1/settings",
        {"comment_keywords": ["combien", "dispo"], "reply_template": "Par ici : {link} ({title})"},
        key=merchant.secret,
    )
    assert changed.status_code == 200, changed.body
    raw, headers = meta_signed(
        {"object": "instagram", "entry": [comment("c20", "price?"), comment("c21", "Combien ?")]}
    )
    api.post("/v1/webhooks/meta", raw=raw, headers=headers)
    drain(api, rt)
    (reply,) = platforms.calls("meta", "POST", f"/{IG_ACCOUNT}/messages")
    link = f"https://shop.test/posts/{post['id']}?product={post['tags'][0]['product_id']}"
    assert reply.body["recipient"] == {"comment_id": "c21"}
    assert reply.body["message"]["text"] == f"Par ici : {link} (Linen shirt)"
    inbox = {
        i["external_id"]: i["reply"] for i in api.get("/v1/inbox", key=merchant.secret).json["data"]
    }
    assert inbox == {"c20": "none", "c21": "sent"}


def test_a_post_can_have_its_own_comment_to_buy(api, rt, merchant, post, platforms):
    connect(api, platforms, merchant, "instagram")
    override = {"posts": {post["id"]: {"comment_keywords": ["mine"]}}}
    assert api.patch("/v1/settings", override, key=merchant.secret).status_code == 200
    raw, headers = meta_signed(
        {"object": "instagram", "entry": [comment("c30", "price?"), comment("c31", "MINE!")]}
    )
    api.post("/v1/webhooks/meta", raw=raw, headers=headers)
    drain(api, rt)
    (reply,) = platforms.calls("meta", "POST", f"/{IG_ACCOUNT}/messages")
    assert reply.body["recipient"] == {"comment_id": "c31"}
    assert reply.body["message"]["text"].startswith("Thanks for asking! Linen shirt is here: ")


def test_a_new_comment_is_announced_once_with_its_authors_token(api, rt, merchant, post, platforms):
    from .outbound_helpers import Outbox

    outbox = Outbox(api, rt)
    connect(api, platforms, merchant, "instagram")
    platforms.add_meta_object("c11", text="Lovely", **{"from": SAMPLE_COMMENTER})
    raw, headers = meta_signed({"object": "instagram", "entry": [comment("c11", "Lovely")]})
    api.post("/v1/webhooks/meta", raw=raw, headers=headers)
    api.post("/v1/webhooks/meta", raw=raw, headers=headers)  # Meta retries
    drain(api, rt)
    outbox.drain()
    (created,) = api.get("/v1/events?type=inbox.message.created", key=merchant.secret).json["data"]
    assert created["data"]["post_id"] == post["id"]
    assert created["data"]["author_token"].startswith("cus_")
    assert "Lovely" not in str(created) and SAMPLE_COMMENTER["username"] not in str(created)
