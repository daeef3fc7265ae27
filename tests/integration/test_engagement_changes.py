"""Engagement as the platforms really deliver it: edits keep the item and replace its text,
removals mark it removed whichever arrives first, long posts are read whole, authors are
looked up where the platform offers them and left unknown where it refuses, the same object
seen by two merchants' accounts reaches both, and nothing personal is ever queued."""

import json

import pytest

from chalicelib.domain.engagement import inbox_item_id
from devstack import corpus

from .platform_helpers import connect, meta_signed, tiktok_signed, token_of, x_signed
from .queue_helpers import run_ingest_batch
from .sales_helpers import drain

PAGE = "682498302938465"
IG = "17841405726653026"


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


@pytest.fixture
def fb_post(api, rt, merchant, product, platforms):
    """A shoppable post published on the Page as post PAGE_42."""
    body = {
        "media": {"url": "https://cdn.example.com/look.jpg", "width": 1080, "height": 1350},
        "tags": [{"product_id": product["id"], "x": 0.4, "y": 0.6}],
    }
    created = api.post("/v1/posts", body, key=merchant.secret).json
    rt.post_store.link_media("facebook", f"{PAGE}_42", created["id"])
    connect(api, platforms, merchant, "facebook", PAGE)
    return created


def feed(verb, comment_id="c1", message=None, at=1700000000, author="10001"):
    value = {
        "item": "comment",
        "verb": verb,
        "comment_id": comment_id,
        "post_id": f"{PAGE}_42",
        "parent_id": f"{PAGE}_42",
        "from": {"id": author, "name": "Vera Visitor"},
    }
    if message is not None:
        value["message"] = message
    return {
        "object": "page",
        "entry": [{"id": PAGE, "time": at, "changes": [{"field": "feed", "value": value}]}],
    }


def send(api, body, signer=meta_signed, route="/v1/webhooks/meta"):
    raw, headers = signer(body)
    response = api.post(route, raw=raw, headers=headers)
    assert response.status_code == 200, response.body
    return response.json


def inbox(api, merchant):
    return api.get("/v1/inbox", key=merchant.secret).json["data"]


def engagement(api, merchant, post):
    return api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json["engagement"]


def test_an_edit_replaces_the_text_and_keeps_the_item(api, rt, merchant, fb_post, platforms):
    platforms.add_meta_object("c1", **{"from": {"id": "10001", "name": "Vera Visitor"}})
    send(api, feed("add", message="nice shirt", at=1700000000))
    drain(api, rt)
    (before,) = inbox(api, merchant)
    send(api, feed("edited", message="nice shirt, what is the price?", at=1700000100))
    drain(api, rt)
    (after,) = inbox(api, merchant)
    assert after["id"] == before["id"] == inbox_item_id("facebook", PAGE, "c1")
    assert after["text"] == "nice shirt, what is the price?"
    assert after["edited_at"] is not None and after["author"] == before["author"]
    assert after["reply"] == "none"  # an edit is never answered with a second link
    assert engagement(api, merchant, fb_post)["comments"] == 1


def test_edits_out_of_order_keep_the_latest_text(api, rt, merchant, fb_post):
    send(api, feed("add", message="first", at=1700000000))
    drain(api, rt)
    send(api, feed("edited", message="third", at=1700000300))
    send(api, feed("edited", message="second", at=1700000200))
    drain(api, rt)
    (item,) = inbox(api, merchant)
    assert item["text"] == "third"


def test_a_removal_marks_the_item_removed_and_uncounts_it(api, rt, merchant, fb_post):
    send(api, feed("add", message="hello", at=1700000000))
    drain(api, rt)
    assert engagement(api, merchant, fb_post)["comments"] == 1
    send(api, feed("remove", at=1700000500))
    send(api, feed("remove", at=1700000500))  # Meta retries
    drain(api, rt)
    (item,) = inbox(api, merchant)
    assert (item["state"], item["text"], item["attachments"]) == ("removed", "", [])
    assert item["removed_at"] is not None
    assert engagement(api, merchant, fb_post)["comments"] == 0


def test_a_removal_that_arrives_first_keeps_its_comment_from_showing(
    api, rt, merchant, fb_post, platforms
):
    send(api, feed("remove", at=1700000500))
    drain(api, rt)
    send(api, feed("add", message="buy?", at=1700000000))
    drain(api, rt)
    (item,) = inbox(api, merchant)
    assert (item["state"], item["text"], item["reply"]) == ("removed", "", "none")
    assert engagement(api, merchant, fb_post)["comments"] == 0
    assert platforms.calls("meta", "POST") == []  # no checkout link for a removed comment


def test_the_pages_own_comments_are_not_filed(api, rt, merchant, fb_post):
    assert send(api, feed("add", message="Thanks!", author=PAGE))["events"] == 0


def test_a_keyword_at_the_end_of_a_long_post_is_seen(api, rt, merchant, post, platforms):
    connect(api, platforms, merchant, "x")
    long_text = "Love the summer linen look " + "really " * 30 + "how much?"
    tweet = {
        "id_str": "1460323737035677700",
        "created_at": "Tue Nov 16 13:06:40 +0000 2021",
        "text": long_text[:137] + "…",
        "truncated": True,
        "extended_tweet": {"full_text": long_text},
        "in_reply_to_status_id_str": "1460323737035677698",
        "user": {"id_str": "2244994945"},
    }
    send(
        api,
        {"for_user_id": "2244994945000", "tweet_create_events": [tweet]},
        x_signed,
        "/v1/webhooks/x",
    )
    drain(api, rt)
    (item,) = inbox(api, merchant)
    assert item["text"] == long_text
    assert item["occurred_at"].startswith("2021-11-16T13:06:40")
    assert item["reply"] == "sent"


def test_the_same_post_seen_by_two_merchants_accounts_reaches_both(
    api, rt, merchant, other_merchant, platforms
):
    connect(api, platforms, merchant, "x", "111")
    connect(api, platforms, other_merchant, "x", "222")
    platforms.add_x_user("333", "shared_fan")
    platforms.add_x_tweet("900", "@a @b love both", "333")
    tweet = {
        "id_str": "900",
        "text": "@a @b love both",
        "timestamp_ms": "1700000000000",
        "user": {"id_str": "333"},
    }
    for account in ("111", "222"):
        send(
            api,
            {"for_user_id": account, "tweet_create_events": [tweet]},
            x_signed,
            "/v1/webhooks/x",
        )
    drain(api, rt)
    (mine,) = inbox(api, merchant)
    (theirs,) = inbox(api, other_merchant)
    assert mine["external_id"] == theirs["external_id"] == "900"
    assert mine["id"] != theirs["id"]
    assert mine["author"]["token"] != theirs["author"]["token"]  # each merchant's own vault entry


def test_an_x_message_names_its_sender_through_the_api_and_never_on_the_queue(
    api, rt, merchant, platforms
):
    delivery = next(d for d in corpus.deliveries() if d.sample == "x/direct_message_events.json")
    connect(api, platforms, merchant, "x", "4337869213")
    platforms.add_x_user("3001969357", "furiouscamper", "Jordan Brinks")
    send(api, delivery.body, x_signed, "/v1/webhooks/x")
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    queued = json.dumps(rt.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"])
    for personal in ("furiouscamper", "Jordan Brinks", "Harris_0ff", "Boulder"):
        assert personal not in queued
    drain(api, rt)
    (item,) = inbox(api, merchant)
    assert item["author"]["token"].startswith("cus_")
    assert "furiouscamper" not in json.dumps(item)
    (lookup,) = platforms.calls("x", "GET", "/2/users/3001969357")
    # as the merchant's own connection of the account
    assert lookup.headers["authorization"] == f"Bearer {token_of(platforms, 'x', '4337869213')}"


def test_facebook_commenters_never_reach_the_queue(api, rt, merchant, fb_post):
    send(api, feed("add", message="hi"))
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    queued = json.dumps(rt.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"])
    assert "Vera" not in queued
    assert "10001" not in queued  # a commenter is looked up by the comment, not queued at all


def test_a_profile_the_platform_refuses_leaves_the_author_unknown(
    api, rt, merchant, platforms, log_lines
):
    connect(api, platforms, merchant, "instagram", IG)
    platforms.refuse_meta_object(
        "6500000000000009", 230, "User consent is required to access user profile"
    )
    message = {
        "sender": {"id": "6500000000000009"},
        "recipient": {"id": IG},
        "timestamp": 1700000000123,
        "message": {"mid": "m1", "text": "Hi, in stock?"},
    }
    send(
        api,
        {
            "object": "instagram",
            "entry": [{"id": IG, "time": 1700000000124, "messaging": [message]}],
        },
    )
    drain(api, rt)  # no failure: nothing is retried or dead-lettered
    (item,) = inbox(api, merchant)
    assert (item["text"], item["author"]) == ("Hi, in stock?", None)
    assert item["occurred_at"].startswith("2023-11-14T22:13:20")
    refused = [line for line in log_lines() if line.get("lookup") == "profile"]
    assert refused and refused[0]["status"] == 400


def test_a_mention_whose_text_is_refused_is_filed_with_what_is_known(api, rt, merchant, platforms):
    # the stand-in holds no such mention: error 100/33
    connect(api, platforms, merchant, "instagram", IG)
    mention = {"field": "mentions", "value": {"comment_id": "999", "media_id": "888"}}
    send(
        api,
        {"object": "instagram", "entry": [{"id": IG, "time": 1700000000, "changes": [mention]}]},
    )
    drain(api, rt)
    (item,) = inbox(api, merchant)
    assert (item["kind"], item["external_id"], item["text"]) == ("mention", "999", "")


def test_a_look_up_that_fails_for_now_is_tried_again(api, rt, merchant, platforms):
    connect(api, platforms, merchant, "instagram", IG)
    platforms.add_meta_object("6500000000000010", name="Ana", username="ana")
    platforms.fail("meta", "^/6500000000000010$", status=503, times=1)
    message = {
        "sender": {"id": "6500000000000010"},
        "recipient": {"id": IG},
        "timestamp": 1700000000123,
        "message": {"mid": "m2", "text": "hello"},
    }
    send(api, {"object": "instagram", "entry": [{"id": IG, "time": 1, "messaging": [message]}]})
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    got = rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(run_ingest_batch(api, rt, rt.sqs, url, got)) == 1  # delivered again
    drain(api, rt)
    (item,) = inbox(api, merchant)
    assert item["author"]["token"].startswith("cus_")


def test_a_message_deleted_by_its_sender_is_marked_removed(api, rt, merchant, platforms):
    connect(api, platforms, merchant, "instagram", IG)
    sent = {
        "sender": {"id": "65"},
        "recipient": {"id": IG},
        "timestamp": 1700000000000,
        "message": {"mid": "m3", "text": "my address is …"},
    }
    deleted = {
        "sender": {"id": "65"},
        "recipient": {"id": IG},
        "timestamp": 1700000009000,
        "message": {"mid": "m3", "is_deleted": True},
    }
    for item in (sent, deleted):
        send(api, {"object": "instagram", "entry": [{"id": IG, "time": 1, "messaging": [item]}]})
        drain(api, rt)
    (item,) = inbox(api, merchant)
    assert (item["state"], item["text"]) == ("removed", "")


@pytest.mark.parametrize(
    "body",
    [
        b'{"object": "instagram", "entry": ' + b"[" * 3000 + b"]" * 3000 + b"}",
        json.dumps(
            {
                "object": "page",
                "entry": [
                    {
                        "id": PAGE,
                        "changes": [
                            {
                                "field": "feed",
                                "value": {
                                    "item": "comment",
                                    "verb": "add",
                                    "comment_id": "c",
                                    "from": "not an object",
                                    "message": ["x"],
                                },
                            }
                        ],
                    }
                ],
            }
        ).encode(),
        json.dumps(
            {
                "object": "instagram",
                "entry": [
                    {
                        "id": IG,
                        "messaging": [
                            {
                                "sender": "x",
                                "message": {"mid": "m", "attachments": ["x", {"payload": 3}]},
                            }
                        ],
                    }
                ],
            }
        ).encode(),
        json.dumps(
            {
                "for_user_id": "1",
                "tweet_create_events": ["x", {"id_str": "1", "user": 3}],
                "direct_message_events": [{"type": "message_create", "message_create": 2}],
            }
        ).encode(),
        json.dumps(
            {
                "shop_id": "1",
                "type": 11,
                "data": {"order_id": "1", "cancel_id": "2", "cancel_status": ["x"]},
            }
        ).encode(),
    ],
    ids=["nested", "meta-feed-shapes", "meta-messaging-shapes", "x-shapes", "tiktok-shapes"],
)
def test_a_signed_delivery_of_an_unexpected_shape_is_never_a_500(api, rt, body):
    if b"for_user_id" in body:
        route, signer = "/v1/webhooks/x", x_signed
    elif b"shop_id" in body:
        route, signer = "/v1/webhooks/tiktok", tiktok_signed
    else:
        route, signer = "/v1/webhooks/meta", meta_signed
    raw, headers = signer(body)
    response = api.post(route, raw=raw, headers=headers)
    assert response.status_code in (200, 400), response.body


def test_an_edited_message_keeps_its_attachments(api, rt, merchant, platforms):
    connect(api, platforms, merchant, "instagram", IG)
    photo = {"type": "image", "payload": {"url": "https://cdn.test/photo.jpg"}}
    sent = {
        "sender": {"id": "65"},
        "recipient": {"id": IG},
        "timestamp": 1700000000000,
        "message": {"mid": "m4", "text": "this one in M?", "attachments": [photo]},
    }
    edited = {
        "sender": {"id": "65"},
        "recipient": {"id": IG},
        "timestamp": 1700000060000,
        "message_edit": {"mid": "m4", "text": "this one in L?", "num_edit": 1},
    }
    for item in (sent, edited):
        send(api, {"object": "instagram", "entry": [{"id": IG, "time": 1, "messaging": [item]}]})
        drain(api, rt)
    (item,) = inbox(api, merchant)
    assert item["text"] == "this one in L?"
    assert item["attachments"] == [
        {"kind": "image", "url": "https://cdn.test/photo.jpg", "title": None}
    ]
    assert item["edited_at"].startswith("2023-11-14T22:14:20")
