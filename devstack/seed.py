"""The demo shop `make run` starts with: a merchant and its API key, a shirt with stock in two
of its three sizes and a hat, an active post tagging both (the demo page shows it), the
Pinterest board its Pins go to, and a creator with a link, a code and a week of views, clicks
and sales, created through the services as the API and its consumers would create them. (Its
social accounts are connected once the API runs, through the OAuth redirect flow: see
`__main__`.)"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

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
    api_key_id: str


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
        rt.shop_settings,
        merchant_id,
        SettingsUpdate(pinterest_board_id=DEMO_BOARD, meta_catalog_id=DEMO_CATALOG),
    )
    return DemoShop(merchant_id, created.secret, product.id, post.id, created.api_key.id)


# The demo creator: a link and a code, views and clicks over the past week, and sales made
# through them (paid at localstripe, so the merchant can refund them), so that the creators'
# and the funnel's routes answer something on the first start.

DEMO_CREATOR = {
    "name": "Jane Creator",
    "email": "jane.creator@example.com",
    "handles": {"instagram": "jane.creates", "tiktok": "janecreates"},
    "payout": {"method": "paypal", "email": "jane.creator@example.com"},
    "commission": {"rate_bps": 1000},
    "hold_days": 14,
}
DEMO_CODE = "JANE"
# Per day (days ago): views and clicks by the creator's link, views by anyone, and sales
# (quantities of the shirt, with the link or the code) of that day.
DEMO_WEEK = [
    (6, 14, 3, 9, []),
    (5, 22, 5, 11, ["link"]),
    (4, 9, 2, 14, []),
    (3, 27, 7, 8, ["code", "link"]),
    (2, 18, 4, 12, []),
    (1, 31, 8, 10, ["link"]),
    (0, 12, 3, 6, []),
]


@dataclass(frozen=True)
class DemoCreator:
    creator_id: str
    code: str
    link_ref: str
    link_url: str
    order_ids: list[str]


class _DaysAgo:
    """The system clock, `days` earlier: the demo's past week, made through the services."""

    def __init__(self, clock, days: int):
        self._clock, self._shift = clock, timedelta(days=days)

    def now(self) -> datetime:
        return self._clock.now() - self._shift

    def new_id(self, prefix):
        return self._clock.new_id(prefix)

    def random_token(self, length: int) -> str:
        return self._clock.random_token(length)


def seed_demo_creator(rt, demo: DemoShop, stripe_api_base: str | None) -> DemoCreator:
    """The creator, then (with localstripe only: no charge on a real account) the week."""
    from chalicelib.domain.creators import CodeCreate, CreatorCreate, LinkCreate
    from chalicelib.services.creators import create_code, create_creator, create_link

    mid = demo.merchant_id
    creator = create_creator(
        rt.creators, mid, CreatorCreate.model_validate(DEMO_CREATOR), by_key=demo.api_key_id
    )
    code = create_code(rt.creators, mid, creator.id, CodeCreate(code=DEMO_CODE))
    link = create_link(
        rt.creators, mid, creator.id, LinkCreate(post_id=demo.post_id, platform="instagram")
    )
    orders: list[str] = []
    if stripe_api_base is not None:
        for days, linked_views, clicks, other_views, sales in DEMO_WEEK:
            _visits(rt, demo.post_id, link.code, days, linked_views, clicks, other_views)
            for via in sales:
                orders.append(
                    _sale(
                        rt,
                        demo,
                        link.code if via == "link" else None,
                        code.code if via == "code" else None,
                        days,
                        stripe_api_base,
                    )
                )
    return DemoCreator(creator.id, code.code, link.code, link.url or "", orders)


def _visits(rt, post_id: str, ref: str, days: int, linked: int, clicks: int, other: int) -> None:
    from chalicelib.domain.funnel import BeaconRequest
    from chalicelib.services.analytics import record_beacon

    analytics = replace(rt.analytics, clock=_DaysAgo(rt.clock, days))
    for kind, count, with_ref in (
        ("view", linked, ref),
        ("click", clicks, ref),
        ("view", other, None),
    ):
        for _ in range(count):
            record_beacon(analytics, BeaconRequest(post_id=post_id, kind=kind, ref=with_ref))


def _sale(
    rt, demo: DemoShop, ref: str | None, code: str | None, days: int, stripe_api_base: str
) -> str:
    """A checkout of the shirt `days` ago, paid at localstripe with a test card, and its
    payment applied as the ingest consumer applies Stripe's event."""
    from chalicelib.domain.events import Message
    from chalicelib.domain.orders import CheckoutRequest
    from chalicelib.services.checkout import checkout
    from chalicelib.services.payments import payment_succeeded

    sales = replace(rt.sales, clock=_DaysAgo(rt.clock, days))
    product = rt.product_store.product(demo.product_id)
    variant = next(v for v in rt.product_store.variants(product.variant_ids) if v.available)
    body = {
        "post_id": demo.post_id,
        "lines": [{"variant_id": variant.id, "quantity": 1}],
        "customer": {"email": f"shopper{days}@example.com", "name": "Demo Shopper"},
        "shipping_address": {
            "line1": "1 Demo Street",
            "city": "Paris",
            "postal_code": "75001",
            "country": "FR",
        },
        **({"referral_code": code} if code else {}),
        **(
            {"attribution": {"ref": ref, "clicked_at": sales.clock.now().isoformat()}}
            if ref
            else {}
        ),
    }
    placed = checkout(sales, CheckoutRequest.model_validate(body))
    _pay_at_localstripe(stripe_api_base, placed.payment_intent_id)
    payment_succeeded(
        sales,
        Message(
            id=f"evt_demo_{placed.order_id}",
            type="stripe.payment_intent.succeeded",
            merchant_id=demo.merchant_id,
            occurred_at=sales.clock.now(),
            data={
                "id": placed.payment_intent_id,
                "object": "payment_intent",
                "amount": placed.amounts.total,
                "amount_received": placed.amounts.total,
                "currency": placed.amounts.currency.lower(),
                "metadata": {"order_id": placed.order_id},
            },
        ),
    )
    return placed.order_id


def _pay_at_localstripe(api_base: str, intent_id: str) -> None:
    """As the walkthrough does with curl: a test card attached, then the intent confirmed."""
    import json
    import urllib.parse
    import urllib.request

    def call(path: str, form: dict[str, str]) -> dict:
        request = urllib.request.Request(  # noqa: S310 (localstripe, on this machine)
            api_base + path,
            data=urllib.parse.urlencode(form).encode(),
            method="POST",
            headers={"Authorization": "Bearer sk_test_dev"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return json.loads(answer.read())

    card = call(
        "/v1/payment_methods",
        {
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
    )
    call(f"/v1/payment_intents/{intent_id}", {"payment_method": card["id"]})
    call(f"/v1/payment_intents/{intent_id}/confirm", {})
