"""A merchant's own settings through `GET`/`PATCH /v1/settings`: the defaults, partial
changes, validation naming the field, overrides only for the merchant's own posts."""

import pytest


def test_a_new_merchant_has_the_defaults(api, merchant):
    got = api.get("/v1/settings", key=merchant.secret)
    assert got.status_code == 200
    assert got.json == {
        "object": "settings",
        "comment_keywords": ["buy", "price", "how much", "link", "want"],
        "reply_template": "Thanks for asking! {title} is here: {link}",
        "pinterest_board_id": None,
        "meta_commerce_account_id": None,
        "meta_catalog_id": None,
        "platform_oversell": "cancel",
        "posts": {},
        "updated_at": None,
        "checkout": {
            "max_quantity_per_line": None,
            "max_units_per_order": None,
            "max_open_checkouts_per_client": None,
            "max_open_checkouts_per_email": None,
            "hold_minutes": None,
        },
    }


def test_the_oversell_policy_is_one_of_cancel_and_backorder(api, merchant):
    done = api.patch("/v1/settings", {"platform_oversell": "backorder"}, key=merchant.secret)
    assert done.status_code == 200 and done.json["platform_oversell"] == "backorder"
    refused = api.patch("/v1/settings", {"platform_oversell": "ignore"}, key=merchant.secret)
    assert refused.status_code == 422
    assert refused.json["error"]["param"] == "platform_oversell"
    assert api.get("/v1/settings", key=merchant.secret).json["platform_oversell"] == "backorder"


def test_one_patch_changes_comment_to_buy_and_checkout_limits_or_neither(api, merchant, post):
    both = {"comment_keywords": ["dispo"], "checkout": {"max_units_per_order": 5}}
    changed = api.patch("/v1/settings", both, key=merchant.secret)
    assert changed.status_code == 200, changed.body
    assert changed.json["comment_keywords"] == ["dispo"]
    assert changed.json["checkout"]["max_units_per_order"] == 5
    refused = api.patch(
        "/v1/settings",
        {"posts": {"post_missing": {"comment_keywords": ["x"]}}, "checkout": {"hold_minutes": 9}},
        key=merchant.secret,
    )
    assert refused.status_code == 422 and refused.json["error"]["param"] == "posts.post_missing"
    kept = api.get("/v1/settings", key=merchant.secret).json
    assert kept["checkout"]["hold_minutes"] is None and kept["comment_keywords"] == ["dispo"]


def test_only_what_is_sent_changes_and_null_clears(api, merchant, other_merchant):
    first = api.patch("/v1/settings", {"pinterest_board_id": "board9"}, key=merchant.secret)
    assert first.status_code == 200 and first.json["pinterest_board_id"] == "board9"
    second = api.patch("/v1/settings", {"comment_keywords": ["  dispo "]}, key=merchant.secret)
    assert second.json["comment_keywords"] == ["dispo"]
    assert second.json["pinterest_board_id"] == "board9"
    cleared = api.patch("/v1/settings", {"pinterest_board_id": None}, key=merchant.secret)
    assert cleared.json["pinterest_board_id"] is None
    assert api.get("/v1/settings", key=other_merchant.secret).json["comment_keywords"][0] == "buy"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"reply_template": "Here it is"}, "reply_template"),
        ({"reply_template": "{link} {price}"}, "reply_template"),
        ({"reply_template": "{link}" + "x" * 600}, "reply_template"),
        ({"comment_keywords": []}, "comment_keywords"),
        ({"comment_keywords": ["x" * 41]}, "comment_keywords[0]"),
        ({"pinterest_board_id": "a b"}, "pinterest_board_id"),
        ({"caps": 3}, "caps"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(api, merchant, body, param):
    response = api.patch("/v1/settings", body, key=merchant.secret)
    assert response.status_code == 422, response.body
    assert response.json["error"]["param"] == param
    assert api.get("/v1/settings", key=merchant.secret).json["updated_at"] is None


def test_a_post_override_is_only_for_the_merchants_own_posts(api, merchant, other_merchant, post):
    theirs = {"posts": {post["id"]: {"reply_template": "Mine now {link}"}}}
    refused = api.patch("/v1/settings", theirs, key=other_merchant.secret)
    assert refused.status_code == 422
    assert refused.json["error"]["param"] == f"posts.{post['id']}"
    own = api.patch("/v1/settings", theirs, key=merchant.secret)
    assert own.json["posts"] == {
        post["id"]: {"comment_keywords": None, "reply_template": "Mine now {link}"}
    }
    removed = api.patch("/v1/settings", {"posts": {post["id"]: None}}, key=merchant.secret)
    assert removed.json["posts"] == {}


def test_settings_need_their_scope(api, rt, merchant):
    from chalicelib.domain.scopes import Scope
    from chalicelib.services.merchants import issue_key

    narrow = issue_key(rt.merchants, merchant.merchant.id, {Scope.SETTINGS_READ}).secret
    assert api.get("/v1/settings", key=narrow).status_code == 200
    assert api.patch("/v1/settings", {"comment_keywords": ["a"]}, key=narrow).status_code == 403
