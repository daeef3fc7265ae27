"""Channels on the `make run` stack: a product created is listed on the demo shop's TikTok
shop, Meta catalog and Pinterest account; its last unit sold on the storefront shows it out of
stock on all three, through the stream poller and the ingest poller."""

import time

import pytest
import requests

from .test_sales import _checkout, _product

pytestmark = pytest.mark.e2e

DEADLINE_SECONDS = 90  # the stream and ingest pollers, on a shared machine


def _channels(api, key: str, product_id: str) -> dict:
    got = api.get(f"/v1/products/{product_id}", key=key).json()
    return {c["channel"]: c for c in got["channels"]}


def _until(check, what: str):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.3)
    return found


def test_the_last_unit_sold_shows_out_of_stock_on_every_channel(api, devstack):
    key = devstack.info["api_key"]
    product = _product(api, key, on_hand=1)
    sku = product["variants"][0]["sku"]
    listed = _until(
        lambda: (c := _channels(api, key, product["id"])) and len(c) == 3 and c,
        "the product is not listed on the three channels",
    )
    assert {c["status"] for c in listed.values()} == {"live"}
    assert {c["variants"][0]["available"] for c in listed.values()} == {1}

    assert _checkout(api, product["variants"][0]["id"]).status_code == 201
    _until(
        lambda: (
            {c["variants"][0]["available"] for c in _channels(api, key, product["id"]).values()}
            == {0}
        ),
        "a channel was not told the variant sold out",
    )
    seen = requests.get(devstack.info["platform_standin_url"] + "/_requests", timeout=10).json()
    sku_id = listed["tiktok"]["variants"][0]["external_id"]
    tiktok = [r["body"] for r in seen if r["path"].endswith("/inventory/update")]
    assert {"skus": [{"id": sku_id, "inventory": [{"quantity": 0}]}]} in tiktok
    meta = [q["data"] for r in seen if r["path"].endswith("/items_batch")
            for q in r["body"]["requests"]]  # fmt: skip
    assert {"id": sku, "availability": "out of stock", "inventory": 0} in meta
    pins = [i for r in seen if r["path"] == "/v5/catalogs/items/batch"
            for i in r["body"]["items"]]  # fmt: skip
    assert {"item_id": sku, "attributes": {"availability": "out of stock"},
            "update_mask": ["availability"]} in pins  # fmt: skip
