"""Channels: a product created is listed on each connected channel (TikTok Shop, the Meta
catalog, Pinterest) through the main table's stream; every change of its available stock is
pushed to each, coalesced and in order, as the merchant's own connection."""

import pytest

from tests.fixtures.app import product_body

from .channel_helpers import CATALOG, channels_of, connect_channels, settle
from .outbound_helpers import Outbox
from .platform_helpers import token_of
from .sales_helpers import checkout_body, expire


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


@pytest.fixture
def outbox(api, rt):
    return Outbox(api, rt)


def listed_product(api, rt, outbox, merchant, platforms):
    connect_channels(api, platforms, merchant)
    created = api.post("/v1/products", product_body(), key=merchant.secret)
    assert created.status_code == 201, created.body
    settle(api, rt, outbox)
    return created.json


def test_a_new_product_is_listed_on_every_connected_channel(api, rt, outbox, merchant, platforms):
    product = listed_product(api, rt, outbox, merchant, platforms)
    small, medium = (v["id"] for v in product["variants"])

    channels = channels_of(api, merchant, product["id"])
    assert set(channels) == {"tiktok", "meta", "pinterest"}
    assert {c["status"] for c in channels.values()} == {"live"}
    tiktok = channels["tiktok"]
    assert tiktok["account_id"] == "7494726673780148744" and tiktok["external_product_id"]
    assert [v["variant_id"] for v in tiktok["variants"]] == [small, medium]
    assert all(v["external_id"] for v in tiktok["variants"])
    meta = channels["meta"]
    assert meta["account_id"] == CATALOG
    assert [v["external_id"] for v in meta["variants"]] == ["SHIRT-S", "SHIRT-M"]
    assert all(v["catalog_product_id"] for v in meta["variants"])
    assert [v["available"] for v in meta["variants"]] == [5, 0]

    # what each platform holds, as its own API shows it
    assert platforms.tiktok_stock("SHIRT-S") == 5 and platforms.tiktok_stock("SHIRT-M") == 0
    item = platforms.meta_item(CATALOG, "SHIRT-S")
    assert (item["price"], item["availability"], item["inventory"]) == ("49.00 EUR", "in stock", 5)
    assert platforms.meta_item(CATALOG, "SHIRT-M")["availability"] == "out of stock"
    assert platforms.pinterest_item("SHIRT-S")["availability"] == "in stock"
    assert platforms.pinterest_item("SHIRT-M")["price"] == "54.00 EUR"

    # each acting as the merchant's own connection
    (create,) = platforms.calls("tiktok", "POST", "/product/202309/products")
    assert create.headers["x-tts-access-token"] == token_of(platforms, "tiktok", "")
    (batch,) = platforms.calls("meta", "POST", f"/{CATALOG}/items_batch")
    page_token = token_of(platforms, "instagram", "17841400000000000")
    assert batch.headers["authorization"] == f"Bearer {page_token}"
    assert batch.body["item_type"] == "PRODUCT_ITEM"
    assert batch.body["requests"][0]["method"] == "UPDATE"
    assert platforms.calls("meta", "GET", f"/{CATALOG}/check_batch_request_status")


def test_selling_the_last_unit_shows_it_out_of_stock_everywhere(
    api, rt, outbox, merchant, platforms
):
    product = listed_product(api, rt, outbox, merchant, platforms)
    small = product["variants"][0]["id"]
    before = len(platforms.requests)

    placed = api.post("/v1/checkouts", checkout_body(product, quantities=(5,)))
    assert placed.status_code == 201, placed.body
    settle(api, rt, outbox)

    assert platforms.tiktok_stock("SHIRT-S") == 0
    assert platforms.meta_item(CATALOG, "SHIRT-S")["availability"] == "out of stock"
    assert platforms.meta_item(CATALOG, "SHIRT-S")["inventory"] == 0
    assert platforms.pinterest_item("SHIRT-S")["availability"] == "out of stock"
    pushed = platforms.requests[before:]
    assert len(pushed) == 3  # one request per channel for one stock change
    (update,) = [r for r in pushed if r.platform == "tiktok"]
    assert (
        update.path
        == f"/product/202309/products/{_tiktok_product(api, merchant, product)}/inventory/update"
    )
    assert update.body == {"skus": [{"id": _sku_id(api, merchant, product, small),
                                     "inventory": [{"quantity": 0}]}]}  # fmt: skip
    (pin,) = [r for r in pushed if r.platform == "pinterest"]
    assert pin.body["operation"] == "UPDATE"
    assert pin.body["items"] == [{"item_id": "SHIRT-S", "update_mask": ["availability"],
                                  "attributes": {"availability": "out of stock"}}]  # fmt: skip
    (meta,) = [r for r in pushed if r.platform == "meta"]
    assert meta.body["requests"] == [{"method": "UPDATE", "data": {
        "id": "SHIRT-S", "availability": "out of stock", "inventory": 0}}]  # fmt: skip

    # the reservation expires: back in stock everywhere
    _expire_all(api, rt)
    settle(api, rt, outbox)
    assert platforms.tiktok_stock("SHIRT-S") == 5
    assert platforms.pinterest_item("SHIRT-S")["availability"] == "in stock"
    channel = channels_of(api, merchant, product["id"])["meta"]["variants"][0]
    assert channel["available"] == 5


def test_many_changes_before_a_push_make_one_push_of_the_newest_stock(
    api, rt, outbox, merchant, platforms
):
    product = listed_product(api, rt, outbox, merchant, platforms)
    before = len(platforms.calls("tiktok", "POST", r".*/inventory/update"))
    for _ in range(3):
        assert api.post("/v1/checkouts", checkout_body(product, quantities=(1,))).status_code == 201
    outbox.drain()  # three stock changes, three jobs queued
    settle(api, rt, outbox)
    updates = platforms.calls("tiktok", "POST", r".*/inventory/update")[before:]
    assert [u.body["skus"][0]["inventory"][0]["quantity"] for u in updates] == [2]
    assert platforms.tiktok_stock("SHIRT-S") == 2


def test_a_merchants_patch_of_stock_reaches_the_channels(api, rt, outbox, merchant, platforms):
    product = listed_product(api, rt, outbox, merchant, platforms)
    medium = product["variants"][1]["id"]
    patch = {"variants": [{"id": medium, "inventory": {"on_hand": 7}}]}
    assert api.patch(f"/v1/products/{product['id']}", patch, key=merchant.secret).status_code == 200
    settle(api, rt, outbox)
    assert platforms.tiktok_stock("SHIRT-M") == 7
    assert platforms.meta_item(CATALOG, "SHIRT-M")["availability"] == "in stock"
    assert platforms.pinterest_item("SHIRT-M")["availability"] == "in stock"


def test_an_item_the_platform_refuses_shows_rejected_with_its_reason(
    api, rt, outbox, merchant, platforms
):
    platforms.refuse_item("meta", "SHIRT-M", "The image link is not accessible.")
    platforms.refuse_item("pinterest", "SHIRT-M", "Invalid price")
    product = listed_product(api, rt, outbox, merchant, platforms)
    channels = channels_of(api, merchant, product["id"])
    assert channels["meta"]["status"] == "rejected"
    assert channels["meta"]["reason"] == "SHIRT-M: The image link is not accessible."
    assert [v["status"] for v in channels["meta"]["variants"]] == ["live", "rejected"]
    assert channels["pinterest"]["variants"][1]["reason"] == "Invalid price"
    assert channels["tiktok"]["status"] == "live"


def test_an_older_push_is_never_recorded_over_a_newer_one(api, rt, outbox, merchant, platforms):
    product = listed_product(api, rt, outbox, merchant, platforms)
    listing = next(x for x in rt.listing_store.of_product(product["id"]) if x.channel == "tiktok")
    small = product["variants"][0]["id"]
    current = listing.variants[small].synced_version
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    assert rt.listing_store.record_push(listing, small, current + 2, 1, now)
    assert not rt.listing_store.record_push(listing, small, current + 1, 3, now)  # stale
    again = next(x for x in rt.listing_store.of_product(product["id"]) if x.channel == "tiktok")
    assert again.variants[small].synced_available == 1


def test_a_push_waits_for_the_worker_holding_the_variants_lease(
    api, rt, outbox, merchant, platforms
):
    from datetime import UTC, datetime, timedelta

    product = listed_product(api, rt, outbox, merchant, platforms)
    small = product["variants"][0]["id"]
    now = datetime.now(UTC)
    assert rt.listing_store.claim_push(small, now, now + timedelta(seconds=30))
    assert not rt.listing_store.claim_push(small, now, now + timedelta(seconds=30))
    assert api.post("/v1/checkouts", checkout_body(product, quantities=(1,))).status_code == 201
    outbox.drain()
    from .sales_helpers import drain

    with pytest.raises(Exception, match="another worker"):  # handed back to the queue
        drain(api, rt)
    assert platforms.tiktok_stock("SHIRT-S") == 5  # nothing pushed beside the holder
    rt.listing_store.release_push(small, now + timedelta(seconds=30))
    assert api.post("/v1/checkouts", checkout_body(product, quantities=(1,))).status_code == 201
    settle(api, rt, outbox)
    assert platforms.tiktok_stock("SHIRT-S") == 3  # the newest stock, both changes in one


def test_another_merchant_sees_no_channels_and_no_listing_of_its_own_products(
    api, rt, outbox, merchant, other_merchant, platforms
):
    product = listed_product(api, rt, outbox, merchant, platforms)
    assert api.get(f"/v1/products/{product['id']}", key=other_merchant.secret).status_code == 404
    theirs = api.post("/v1/products", product_body(), key=other_merchant.secret).json
    settle(api, rt, outbox)  # the other merchant has no channels: nothing is listed for it
    assert api.get(f"/v1/products/{theirs['id']}", key=other_merchant.secret).json["channels"] == []
    assert len(platforms.calls("tiktok", "POST", "/product/202309/products")) == 1


def _tiktok_product(api, merchant, product):
    return channels_of(api, merchant, product["id"])["tiktok"]["external_product_id"]


def _sku_id(api, merchant, product, variant_id):
    variants = channels_of(api, merchant, product["id"])["tiktok"]["variants"]
    return next(v["external_id"] for v in variants if v["variant_id"] == variant_id)


def _expire_all(api, rt):
    from datetime import UTC, datetime, timedelta
    from unittest import mock

    later = datetime.now(UTC) + timedelta(hours=2)
    with mock.patch.object(rt.clock, "now", return_value=later):
        expire(api)


def reconcile_at_once(rt):
    """Listings are read back as soon as written or checked (30 minutes in production)."""
    rt.settings.channel_reconcile_minutes = 0
    for area in ("channels", "social", "catalog", "ingest_handlers"):
        rt.__dict__.pop(area, None)


def test_listings_are_read_back_only_once_due(api, rt, outbox, merchant, platforms):
    from .platform_helpers import run_schedule

    listed_product(api, rt, outbox, merchant, platforms)
    before = len(platforms.requests)
    assert run_schedule(api, "reconcile_channels") == {"checked": 0, "drifted": 0}
    assert len(platforms.requests) == before  # due in 30 minutes: nothing read yet


def test_reconciliation_repairs_and_reports_what_drifted_on_the_channels(
    api, rt, outbox, merchant, platforms
):
    from .platform_helpers import run_schedule

    reconcile_at_once(rt)
    product = listed_product(api, rt, outbox, merchant, platforms)
    assert run_schedule(api, "reconcile_channels") == {"checked": 6, "drifted": 0}

    # changed in the platforms' own seller tools
    platforms.drift("tiktok", "SHIRT-S", quantity=9)
    platforms.drift("meta", "SHIRT-M", availability="in stock", inventory=3)
    platforms.drift("pinterest", "SHIRT-S", price="1.00 EUR")
    assert run_schedule(api, "reconcile_channels") == {"checked": 6, "drifted": 3}
    settle(api, rt, outbox)

    assert platforms.tiktok_stock("SHIRT-S") == 5
    assert platforms.meta_item(CATALOG, "SHIRT-M")["availability"] == "out of stock"
    assert platforms.meta_item(CATALOG, "SHIRT-M")["inventory"] == 0
    assert platforms.pinterest_item("SHIRT-S")["price"] == "49.00 EUR"
    assert platforms.pinterest_item("SHIRT-S")["availability"] == "in stock"
    assert run_schedule(api, "reconcile_channels") == {"checked": 6, "drifted": 0}

    events = api.get("/v1/events?type=channel.drift", key=merchant.secret).json["data"]
    (event,) = events
    assert event["object_id"] == product["id"]
    drift = {(d["channel"], d["field"], d["ours"], d["theirs"]) for d in event["data"]["drift"]}
    assert drift == {
        ("tiktok", "quantity", "5", "9"),
        ("meta", "availability", "out of stock", "in stock"),
        ("meta", "quantity", "0", "3"),
        ("pinterest", "price", "49.00 EUR", "1.00 EUR"),
    }


def test_an_item_gone_from_a_channel_is_listed_again(api, rt, outbox, merchant, platforms):
    from .platform_helpers import run_schedule

    reconcile_at_once(rt)
    listed_product(api, rt, outbox, merchant, platforms)
    with platforms.state.lock:
        del platforms.state.pinterest_items["SHIRT-M"]
    assert run_schedule(api, "reconcile_channels")["drifted"] == 1
    settle(api, rt, outbox)
    assert platforms.pinterest_item("SHIRT-M")["availability"] == "out of stock"
    assert platforms.pinterest_item("SHIRT-M")["price"] == "54.00 EUR"


def test_products_made_before_a_channel_was_connected_are_listed_there(
    api, rt, outbox, merchant, platforms
):
    from .platform_helpers import connect

    product = api.post("/v1/products", product_body(), key=merchant.secret).json
    settle(api, rt, outbox)  # no channel yet: nothing listed
    assert channels_of(api, merchant, product["id"]) == {}
    connect(api, platforms, merchant, "tiktok")
    connect(api, platforms, merchant, "instagram")
    settle(api, rt, outbox)
    assert set(channels_of(api, merchant, product["id"])) == {"tiktok"}
    api.patch("/v1/settings", {"meta_catalog_id": CATALOG}, key=merchant.secret)
    settle(api, rt, outbox)
    assert set(channels_of(api, merchant, product["id"])) == {"tiktok", "meta"}
    assert len(platforms.calls("tiktok", "POST", "/product/202309/products")) == 1  # once


def test_a_product_edit_reaches_the_catalogs_without_touching_their_stock(
    api, rt, outbox, merchant, platforms
):
    product = listed_product(api, rt, outbox, merchant, platforms)
    small = product["variants"][0]["id"]
    before = len(platforms.requests)
    patch = {"title": "Linen shirt, washed",
             "variants": [{"id": small, "price": {"amount": 4500, "currency": "EUR"}}]}  # fmt: skip
    assert api.patch(f"/v1/products/{product['id']}", patch, key=merchant.secret).status_code == 200
    settle(api, rt, outbox)
    sent = platforms.requests[before:]
    (edit,) = [r for r in sent if r.platform == "tiktok" and r.method == "POST"]
    assert edit.path.endswith("/partial_edit")
    assert edit.body["title"] == "Linen shirt, washed"
    assert edit.body["skus"][0]["price"] == {"amount": "45.00", "currency": "EUR"}
    assert all("inventory" not in sku for sku in edit.body["skus"])
    (meta,) = [r for r in sent if r.platform == "meta" and r.method == "POST"]
    assert meta.body["requests"][0]["data"]["price"] == "45.00 EUR"
    assert "availability" not in meta.body["requests"][0]["data"]
    (pin,) = [r for r in sent if r.platform == "pinterest" and r.method == "POST"]
    assert pin.body["operation"] == "UPDATE"
    assert "availability" not in pin.body["items"][0]["attributes"]
    assert platforms.pinterest_item("SHIRT-S")["price"] == "45.00 EUR"
    assert platforms.pinterest_item("SHIRT-S")["title"] == "Linen shirt, washed"
    assert platforms.pinterest_item("SHIRT-S")["availability"] == "in stock"


def test_prices_are_written_in_each_currencys_minor_units(api, rt, outbox, merchant, platforms):
    connect_channels(api, platforms, merchant)
    body = product_body()
    for variant in body["variants"]:
        variant["price"] = {"amount": 4900, "currency": "JPY"}
    created = api.post("/v1/products", body, key=merchant.secret).json
    settle(api, rt, outbox)
    assert platforms.meta_item(CATALOG, "SHIRT-S")["price"] == "4900 JPY"
    assert platforms.pinterest_item("SHIRT-S")["price"] == "4900 JPY"
    (create,) = platforms.calls("tiktok", "POST", "/product/202309/products")
    assert create.body["skus"][0]["price"] == {"amount": "4900", "currency": "JPY"}
    assert channels_of(api, merchant, created["id"])["meta"]["status"] == "live"
