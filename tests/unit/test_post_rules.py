from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.domain.catalog import Product, Variant
from chalicelib.domain.money import Money
from chalicelib.domain.posts import (
    Availability,
    Post,
    PostCreate,
    Tag,
    is_visible_in_storefront,
    resolve_tag,
    storefront_post,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PRODUCT = Product(
    id="prod_1",
    merchant_id="mer_1",
    title="Tee",
    images=["https://i/1.jpg"],
    variant_ids=["var_a", "var_b"],
    created_at=NOW,
    updated_at=NOW,
)


def variant(vid, amount, on_hand, reserved=0):
    return Variant(
        id=vid,
        product_id="prod_1",
        merchant_id="mer_1",
        sku=vid,
        price=Money(amount=amount, currency="EUR"),
        on_hand=on_hand,
        reserved=reserved,
    )


def test_a_product_tag_shows_the_lowest_price_in_stock():
    variants = [variant("var_a", 1000, 0), variant("var_b", 1500, 3)]
    resolved = resolve_tag(Tag(product_id="prod_1", x=0.5, y=0.5), PRODUCT, variants)
    assert resolved.price.amount == 1500
    assert resolved.availability == Availability.IN_STOCK
    assert resolved.title == "Tee"
    assert resolved.image == "https://i/1.jpg"


def test_a_sold_out_product_shows_its_lowest_price_and_out_of_stock():
    variants = [variant("var_a", 1000, 2, reserved=2), variant("var_b", 1500, 0)]
    resolved = resolve_tag(Tag(product_id="prod_1", x=0, y=0), PRODUCT, variants)
    assert resolved.price.amount == 1000
    assert resolved.availability == Availability.OUT_OF_STOCK


def test_a_variant_tag_shows_that_variant_only():
    variants = [variant("var_a", 1000, 2), variant("var_b", 1500, 0)]
    resolved = resolve_tag(
        Tag(product_id="prod_1", variant_id="var_b", x=0, y=0), PRODUCT, variants
    )
    assert [v.id for v in resolved.variants] == ["var_b"]
    assert resolved.availability == Availability.OUT_OF_STOCK


def test_tags_whose_product_is_gone_are_left_out_of_the_storefront():
    post = Post(
        id="post_1",
        merchant_id="mer_1",
        caption="",
        status="active",
        created_at=NOW,
        media={"url": "https://i/p.jpg", "width": 1, "height": 1},
        tags=[Tag(product_id="prod_1", x=0, y=0), Tag(product_id="prod_gone", x=1, y=1)],
    )
    shown = storefront_post(post, {"prod_1": PRODUCT}, [variant("var_a", 1000, 1)])
    assert [t.product_id for t in shown.tags] == ["prod_1"]


@pytest.mark.parametrize("x", [-0.01, 1.01, float("nan"), float("inf")])
def test_tag_coordinates_are_fractions_of_the_image(x):
    with pytest.raises(ValidationError):
        Tag(product_id="prod_1", x=x, y=0.5)


def test_an_item_is_tagged_once_per_post():
    with pytest.raises(ValidationError, match="at most once"):
        PostCreate(
            media={"url": "https://i/p.jpg", "width": 1, "height": 1},
            tags=[Tag(product_id="prod_1", x=0, y=0), Tag(product_id="prod_1", x=1, y=1)],
        )


def test_only_active_posts_are_visible():
    base = {
        "id": "post_1",
        "merchant_id": "m",
        "caption": "",
        "created_at": NOW,
        "tags": [],
        "media": {"url": "https://i/p.jpg", "width": 1, "height": 1},
    }
    assert is_visible_in_storefront(Post(**base, status="active"))
    assert not is_visible_in_storefront(Post(**base, status="draft"))
    assert not is_visible_in_storefront(Post(**base, status="archived"))
