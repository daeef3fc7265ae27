"""The demo shop `make run` starts with: a merchant and its API key, a shirt with stock in two
of its three sizes and a hat, and an active post tagging both (the demo page shows it), created
through the services as the API would create them, and the Pinterest board its Pins go to.
(Its social accounts are connected once the API runs, through the OAuth redirect flow: see
`__main__`.)"""

from dataclasses import dataclass

from chalicelib.domain.catalog import ProductCreate
from chalicelib.domain.posts import PostCreate
from chalicelib.domain.settings import SettingsUpdate
from chalicelib.services.catalog import create_product
from chalicelib.services.merchant_settings import update_settings
from chalicelib.services.merchants import create_merchant
from chalicelib.services.posts import create_post

DEMO_MERCHANT = "Demo Shop"

DEMO_PRODUCT = {
    "title": "Linen shirt",
    "description": "Breathable linen, relaxed fit.",
    "images": ["https://cdn.example.com/demo/linen-shirt.jpg"],
    "variants": [
        {
            "sku": "LINEN-S",
            "price": {"amount": 4900, "currency": "EUR"},
            "options": {"size": "S"},
            "inventory": {"on_hand": 12},
        },
        {
            "sku": "LINEN-M",
            "price": {"amount": 4900, "currency": "EUR"},
            "options": {"size": "M"},
            "inventory": {"on_hand": 8},
        },
        {
            "sku": "LINEN-L",
            "price": {"amount": 5400, "currency": "EUR"},
            "options": {"size": "L"},
            "inventory": {"on_hand": 0},
        },
    ],
}

DEMO_BOARD = "549755885175001"  # the demo shop's Pinterest board, for its Pins
DEMO_CATALOG = "881234567890123"  # the demo shop's Meta catalog, its Instagram shop's

DEMO_ACCESSORY = {
    "title": "Straw hat",
    "description": "Hand-woven, wide brim.",
    "images": ["https://cdn.example.com/demo/straw-hat.jpg"],
    "variants": [
        {
            "sku": "HAT-ONE",
            "price": {"amount": 2500, "currency": "EUR"},
            "inventory": {"on_hand": 20},
        },
    ],
}

DEMO_MEDIA = {
    "url": "https://cdn.example.com/demo/summer-look.jpg",
    "width": 1080,
    "height": 1350,
}


@dataclass(frozen=True)
class DemoShop:
    merchant_id: str
    api_key: str
    product_id: str
    post_id: str


def seed_demo_shop(rt) -> DemoShop:
    created = create_merchant(rt.merchants, DEMO_MERCHANT)
    merchant_id = created.merchant.id
    product, accessory = (
        create_product(rt.catalog, merchant_id, ProductCreate.model_validate(body))
        for body in (DEMO_PRODUCT, DEMO_ACCESSORY)
    )
    post = create_post(
        rt.posts,
        merchant_id,
        PostCreate.model_validate(
            {
                "media": DEMO_MEDIA,
                "caption": "Summer linen, tap to shop.",
                "tags": [
                    {"product_id": product.id, "x": 0.48, "y": 0.56},
                    {"product_id": accessory.id, "x": 0.55, "y": 0.16},
                ],
                "status": "active",
            }
        ),
    )
    update_settings(
        rt.social,
        merchant_id,
        SettingsUpdate(pinterest_board_id=DEMO_BOARD, meta_catalog_id=DEMO_CATALOG),
    )
    return DemoShop(merchant_id, created.secret, product.id, post.id)
