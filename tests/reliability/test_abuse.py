"""Abuse: oversized bodies, deeply nested JSON, huge tag lists, a 10,000-line checkout and
unicode edge cases in every text field. Each gets a clear 4xx in the contract's error format,
and nothing of it is stored (the main and vault tables hold the same items before and after).
Unicode that is valid text may instead be accepted: then it must come back exactly as sent,
read back where the field is kept (the product, the post, the connection, or the vault's
export of the buyer). How fast a refusal is lives in `make bench`, not here."""

import json

import pytest

from tests.fixtures.app import product_body

from .harness import leaks

BUYER = {
    "customer": {"email": "abuse@example.com", "name": "A Buser"},
    "shipping_address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
                         "country": "US"},
}  # fmt: skip


def _items(rt) -> int:
    tables = (rt.settings.main_table, rt.settings.vault_table)
    return sum(rt.dynamodb.scan(TableName=t, Select="COUNT")["Count"] for t in tables)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _post_body(product_id: str, tags: int) -> dict:
    return {
        "media": {"url": "https://cdn.example.com/a.jpg", "width": 10, "height": 10},
        "tags": [{"product_id": product_id, "x": 0.5, "y": 0.5}] * tags,
    }


def _cases(product, variant_id):
    def checkout(lines):
        return {"lines": [{"variant_id": variant_id, "quantity": 1}] * lines, **BUYER}

    return {
        "oversized_body": ("/v1/products", json.dumps(product_body(description="x" * 70_000))),
        "nested_json_in_a_field": (
            "/v1/products", json.dumps(product_body())[:-1] + ', "description": '
            + _nested(5000) + "}"),
        "nested_json_as_the_body": ("/v1/checkouts", _nested(100_000)),
        "nested_objects": ("/v1/checkouts", '{"a":' * 3000 + "1" + "}" * 3000),
        "huge_tag_list": ("/v1/posts", json.dumps(_post_body(product["id"], 10_000))),
        "many_tags_under_the_size_limit": ("/v1/posts", json.dumps(_post_body(product["id"], 600))),
        "ten_thousand_line_checkout": ("/v1/checkouts", json.dumps(checkout(10_000))),
        "thousand_line_checkout": ("/v1/checkouts", json.dumps(
            {"lines": [{"variant_id": "var_x", "quantity": 1}] * 1000, **BUYER})),
        "not_json": ("/v1/checkouts", "lines=1&customer=me"),
        "json_with_nul_bytes": ("/v1/checkouts", json.dumps(checkout(1))[:-1] + ', "\\u0000": 1}'),
        "invalid_utf8": ("/v1/checkouts", b'{"lines": "\xff\xfe\xfd"}'),
        "huge_number": ("/v1/checkouts", json.dumps(checkout(1)).replace(
            '"quantity": 1', '"quantity": 1' + "0" * 5000, 1)),
    }  # fmt: skip


def test_abusive_requests_get_a_quick_clear_4xx_and_store_nothing(
    api, rt, merchant, product, figures
):
    variant_id = product["variants"][0]["id"]
    for name, (path, raw) in _cases(product, variant_id).items():
        before = _items(rt)
        response = api.post(path, raw=raw, key=merchant.secret)
        figures["abuse_inputs"] += 1
        stored = _items(rt) - before
        figures["abuse_stored"] += stored
        assert 400 <= response.status_code < 500, (name, response.status_code, response.body)
        assert response.json["error"]["type"] in ("invalid_request",), (name, response.json)
        assert response.json["error"]["message"], (name, response.json)
        assert not leaks(response.body), name
        assert stored == 0, name


EDGE_TEXT = {
    "nul": "a\u0000b",
    "lone_surrogate": "\ud800",
    "reversed_surrogates": "\udc00\ud800",
    "rtl_override": "\u202egnp.exe",
    "zero_width": "\u200b\u200c\u200d\ufeff",
    "combining_pileup": "e" + "\u0301" * 500,
    "emoji_zwj": "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "noncharacter": "\uffff\ufffe",
    "private_use": "\U0010fffd",
    "astral": "\U0001d54a\U0001d566\U0001d56b",
    "long_line": "\u00e9" * 20_000,
    "control_chars": "\x07\x08\x1b[31m",
    "newlines": "a\r\nb\u2028c\u2029d",
}

TEXT_FIELDS = {
    "product.title": ("/v1/products", lambda t: product_body(title=t)),
    "product.description": ("/v1/products", lambda t: product_body(description=t)),
    "variant.sku": ("/v1/products", lambda t: _variant(sku=t)),
    "variant.option": ("/v1/products", lambda t: _variant(options={"size": t})),
    "post.caption": ("/v1/posts", None),
    "customer.name": ("/v1/checkouts", None),
    "customer.email": ("/v1/checkouts", None),
    "address.line1": ("/v1/checkouts", None),
    "address.city": ("/v1/checkouts", None),
    "settings.keyword": ("PATCH /v1/settings", lambda t: {"comment_keywords": [t]}),
    "settings.reply_template": ("PATCH /v1/settings", lambda t: {"reply_template": t + "{link}"}),
}


def _variant(**changes):
    body = product_body()
    body["variants"][0].update(changes)
    return body


def _body_for(field: str, text: str, product: dict):
    path, make = TEXT_FIELDS[field]
    if make:
        return path, make(text)
    if field == "post.caption":
        return path, {**_post_body(product["id"], 1), "caption": text}
    body = json.loads(json.dumps(BUYER))
    body["lines"] = [{"variant_id": product["variants"][0]["id"], "quantity": 1}]
    if field.startswith("customer."):
        body["customer"][field.split(".")[1]] = text
    else:
        body["shipping_address"][field.split(".")[1]] = text
    return path, body


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_unicode_edge_cases_in_every_text_field(api, rt, merchant, product, field, figures):
    for name, text in EDGE_TEXT.items():
        path, body = _body_for(field, text, product)
        method, _, path = path.rpartition(" ")
        raw = json.dumps(body, ensure_ascii=True)  # lone surrogates only survive as escapes
        before = _items(rt)
        response = api.request(method or "POST", path, raw=raw, key=merchant.secret)
        figures["abuse_inputs"] += 1
        assert response.status_code < 500, (field, name, response.body)
        assert not leaks(response.body), (field, name)
        if response.status_code >= 400:
            stored = _items(rt) - before
            figures["abuse_stored"] += stored
            assert response.json["error"]["type"] in ("invalid_request", "conflict"), response.json
            assert stored == 0, (field, name)
        else:
            figures["unicode_round_trips"] += 1
            assert _read_back(api, merchant, field, response.json) == text, (field, name)
    figures["unicode_fields"] += 1


def _read_back(api, merchant, field: str, created: dict) -> str:
    """The field as the API gives it back: from what was created, or for the buyer's fields
    from the vault, the order's own snapshot (the checkout's answer shows them masked)."""
    if field.startswith("product."):
        return created[field.split(".")[1]]
    if field == "variant.sku":
        return created["variants"][0]["sku"]
    if field == "variant.option":
        return created["variants"][0]["options"]["size"]
    if field == "post.caption":
        return created["caption"]
    if field == "connection.account_id":
        return created["account_id"]
    if field == "settings.keyword":
        return created["comment_keywords"][0]
    if field == "settings.reply_template":
        return created["reply_template"].removesuffix("{link}")
    # A buyer's details as this order keeps them (an anonymous checkout never rewrites the
    # customer's profile: the first checkout of an email filed it).
    token, part, name = created["customer"]["token"], *field.split(".")
    purpose = "support" if part == "customer" else "fulfillment"
    query = f"purpose={purpose}&order_id={created['order_id']}"
    found = api.get(f"/v1/customers/{token}?{query}", key=merchant.secret)
    assert found.status_code == 200, found.body
    return (found.json if part == "customer" else found.json["shipping_address"])[name]
