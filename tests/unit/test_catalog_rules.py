from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.domain.catalog import (
    Product,
    ProductCreate,
    Variant,
    VariantPatch,
    check_variants,
    product_view,
)
from chalicelib.domain.money import Money

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def variant(vid="var_1", on_hand=5, reserved=0, amount=1000):
    return Variant(
        id=vid,
        product_id="prod_1",
        merchant_id="mer_1",
        sku=f"SKU-{vid}",
        price=Money(amount=amount, currency="EUR"),
        on_hand=on_hand,
        reserved=reserved,
    )


def test_a_new_variant_starts_with_available_as_on_hand_less_reserved():
    assert variant(on_hand=5, reserved=2).available == 3
    assert variant(on_hand=2, reserved=5).available == 0
    assert variant(on_hand=5).model_copy().available == 5


def test_a_product_has_unique_skus_in_one_currency():
    check_variants([("A", "EUR"), ("B", "EUR")])
    with pytest.raises(ValueError, match="own sku"):
        check_variants([("A", "EUR"), ("A", "EUR")])
    with pytest.raises(ValueError, match="one currency"):
        check_variants([("A", "EUR"), ("B", "USD")])


def test_product_create_applies_the_variant_rules():
    with pytest.raises(ValidationError):
        ProductCreate.model_validate(
            {
                "title": "T",
                "variants": [
                    {"sku": "A", "price": {"amount": 1, "currency": "EUR"}},
                    {"sku": "A", "price": {"amount": 2, "currency": "EUR"}},
                ],
            }
        )


def test_a_new_variant_in_a_patch_needs_sku_and_price():
    assert VariantPatch(id="var_1").id == "var_1"
    with pytest.raises(ValidationError, match="needs sku and price"):
        VariantPatch(sku="A")


def test_product_view_keeps_the_product_variant_order_and_shows_inventory():
    product = Product(
        id="prod_1",
        merchant_id="mer_1",
        title="T",
        variant_ids=["var_2", "var_1"],
        created_at=NOW,
        updated_at=NOW,
    )
    view = product_view(product, [variant("var_1", 5, 1), variant("var_2", 0)])
    assert [v.id for v in view.variants] == ["var_2", "var_1"]
    assert view.variants[1].inventory.model_dump() == {"on_hand": 5, "reserved": 1, "available": 4}
