"""Catalog use cases against the in-memory fakes: patches guarded by version and reservations."""

import pytest

from chalicelib.domain.catalog import ProductCreate, ProductPatch
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.services import catalog
from chalicelib.services.catalog import Catalog
from tests.fakes import FakeClock, FakeProducts

MERCHANT = "mer_1"


@pytest.fixture
def shop():
    products = FakeProducts()
    cat = Catalog(products, FakeClock())
    view = catalog.create_product(
        cat,
        MERCHANT,
        ProductCreate.model_validate(
            {
                "title": "Linen shirt",
                "variants": [
                    {"sku": "S", "price": {"amount": 4900, "currency": "EUR"},
                     "inventory": {"on_hand": 5}},
                    {"sku": "M", "price": {"amount": 4900, "currency": "EUR"}},
                ],
            }
        ),
    )  # fmt: skip
    return cat, view


def patch(**body) -> ProductPatch:
    return ProductPatch.model_validate(body)


def test_stock_cannot_go_below_what_open_orders_hold(shop):
    cat, view = shop
    small = view.variants[0].id
    held = cat.products.variants_by_id[small]
    cat.products.variants_by_id[small] = held.model_copy(update={"reserved": 3, "available": 2})
    with pytest.raises(Conflict) as refused:
        catalog.patch_product(
            cat, MERCHANT, view.id, patch(variants=[{"id": small, "inventory": {"on_hand": 2}}])
        )
    assert refused.value.code == "inventory_below_reserved"
    assert refused.value.param == "variants[0].inventory.on_hand"
    assert cat.products.variants_by_id[small].on_hand == 5


def test_a_patch_of_a_product_changed_meanwhile_is_a_conflict(shop):
    cat, view = shop
    stale = cat.products.product(view.id)
    catalog.patch_product(cat, MERCHANT, view.id, patch(title="Linen shirt II"))
    cat.products.product = lambda product_id: stale  # another request read it before the patch
    with pytest.raises(Conflict) as refused:
        catalog.patch_product(cat, MERCHANT, view.id, patch(title="Linen shirt III"))
    assert refused.value.code == "concurrent_update"
    assert cat.products.products_by_id[view.id].title == "Linen shirt II"


def test_a_new_stock_level_keeps_the_reservations(shop):
    cat, view = shop
    small = view.variants[0].id
    held = cat.products.variants_by_id[small]
    cat.products.variants_by_id[small] = held.model_copy(update={"reserved": 2, "available": 3})
    patched = catalog.patch_product(
        cat, MERCHANT, view.id, patch(variants=[{"id": small, "inventory": {"on_hand": 8}}])
    )
    inventory = patched.variants[0].inventory
    assert (inventory.on_hand, inventory.reserved, inventory.available) == (8, 2, 6)


def test_variants_of_one_product_keep_one_currency(shop):
    cat, view = shop
    with pytest.raises(ValidationFailed) as refused:
        catalog.patch_product(
            cat,
            MERCHANT,
            view.id,
            patch(variants=[{"sku": "L", "price": {"amount": 5000, "currency": "USD"}}]),
        )
    assert refused.value.param == "variants"


def test_another_merchants_product_does_not_exist(shop):
    cat, view = shop
    with pytest.raises(Exception) as missing:
        catalog.get_product(cat, "mer_other", view.id)
    assert missing.value.status == 404
