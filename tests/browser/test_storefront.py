"""Buying from the demo post in a real browser, as a shopper would.

Each scenario drives the demo page `make run` serves (the widget, localstripe's Stripe.js
stand-in) and then checks through the merchant's API what really happened: the order is paid
and its stock committed, a declined card leaves it unpaid, a sold-out checkout stores nothing.
"""

import re
import time

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
BUYER = {
    "Email": "jane@example.com",
    "Full name": "Jane Doe",
    "Address": "12 rue de la Paix",
    "Postal code": "75002",
    "City": "Paris",
}
PAID_DEADLINE_MS = 30_000


class Storefront:
    """The demo page, in the words a shopper would use."""

    def __init__(self, page: Page, url: str, first_product: str = "Linen shirt"):
        self.page = page
        page.goto(url)
        expect(self.hotspot(first_product)).to_be_visible()

    def hotspot(self, title: str):
        return self.page.get_by_role("button", name=re.compile(f"^{re.escape(title)},"))

    def button(self, name: str):
        return self.page.get_by_role("button", name=name, exact=True)

    def add(self, title: str, option: str | None = None) -> None:
        self.hotspot(title).click()
        if option:
            self.page.get_by_role("radio", name=option, exact=True).check()
        self.button("Add to cart").click()
        added = self.page.get_by_role("status").filter(has_text="Added to your cart")
        expect(added).to_be_visible()

    def check_out(self, card: str = GOOD_CARD) -> None:
        self.button("Check out").click()
        for label, value in BUYER.items():
            self.page.get_by_label(label, exact=True).fill(value)
        self.page.get_by_label("Country").select_option("FR")
        self.fill_card(card)

    def fill_card(self, number: str) -> None:
        self.page.get_by_label("Card number").fill(number)
        self.page.get_by_label("Expiry month (MM)").fill("12")
        self.page.get_by_label("Expiry year (YY)").fill("30")
        self.page.get_by_label("Security code (CVC)").fill("123")

    def pay(self) -> dict:
        """Click Pay; returns the checkout the API answered (201) or refused."""
        with self.page.expect_response(re.compile(r"/v1/checkouts$")) as placed:
            self.page.get_by_role("button", name=re.compile("^Pay ")).click()
        return {**placed.value.json(), "http_status": placed.value.status}

    def order_status(self):
        return self.page.locator("[data-order-status]")


def demo(devstack) -> str:
    return devstack.info["demo_url"]


def test_buy_the_shirt_and_the_hat_with_a_test_card(devstack, desktop, demo_merchant, screenshot):
    product_id = devstack.info["product_id"]
    medium_before = demo_merchant.variant(product_id, "LINEN-M")["inventory"]
    shop = Storefront(desktop, demo(devstack))
    screenshot(desktop, "desktop-1-post")

    shop.hotspot("Linen shirt").click()
    expect(desktop.get_by_role("heading", name="Linen shirt")).to_be_focused()
    expect(desktop.get_by_text("€49.00", exact=True)).to_be_visible()  # en-US, euros
    desktop.get_by_role("radio", name="M", exact=True).check()
    shop.button("Add to cart").click()
    screenshot(desktop, "desktop-2-product")
    shop.add("Straw hat")
    expect(desktop.get_by_role("heading", name="Your cart (2)")).to_be_visible()
    expect(desktop.locator(".shp-subtotal")).to_have_text("Subtotal €74.00")
    shop.check_out()
    expect(shop.button("Pay €74.00")).to_be_visible()
    screenshot(desktop, "desktop-3-checkout")

    placed = shop.pay()

    assert placed["http_status"] == 201, placed
    expect(shop.order_status()).to_have_text("paid", timeout=PAID_DEADLINE_MS)
    expect(desktop.get_by_text("your order is paid")).to_be_visible()
    screenshot(desktop, "desktop-4-paid")
    order = demo_merchant.wait_for_status(placed["order_id"], "paid")
    assert sorted(line["sku"] for line in order["lines"]) == ["HAT-ONE", "LINEN-M"]
    assert order["amounts"]["total"] == 7400
    assert order["customer"]["email"] == "j***@example.com"
    medium_after = demo_merchant.variant(product_id, "LINEN-M")["inventory"]
    assert medium_after["on_hand"] == medium_before["on_hand"] - 1  # committed, not just held


def test_a_declined_card_says_so_and_another_card_pays_the_same_order(
    devstack, desktop, demo_merchant, screenshot
):
    shop = Storefront(desktop, demo(devstack))
    checkouts = []
    desktop.on("request", lambda r: checkouts.append(r.url) if r.method == "POST" else None)
    shop.add("Linen shirt", "S")
    shop.check_out(card=DECLINED_CARD)

    placed = shop.pay()

    declined = desktop.get_by_role("alert").filter(has_text="Your card was declined.")
    expect(declined).to_be_visible()
    expect(declined).to_be_focused()
    expect(shop.order_status()).to_have_count(0)
    screenshot(desktop, "desktop-5-declined")
    assert demo_merchant.wait_for_status(placed["order_id"], "payment_failed")["status"] != "paid"

    shop.fill_card(GOOD_CARD)
    desktop.get_by_role("button", name=re.compile("^Pay ")).click()

    expect(shop.order_status()).to_have_text("paid", timeout=PAID_DEADLINE_MS)
    demo_merchant.wait_for_status(placed["order_id"], "paid")
    # The same checkout was paid: one order, and its PaymentIntent confirmed twice.
    assert [url for url in checkouts if url.endswith("/v1/checkouts")] == [
        f"{devstack.api}/v1/checkouts"
    ]
    assert sum(url.endswith(f"/{placed['payment_intent_id']}/confirm") for url in checkouts) == 2


def test_a_sold_out_size_cannot_be_added(devstack, desktop, screenshot):
    shop = Storefront(desktop, demo(devstack))
    shop.hotspot("Linen shirt").click()
    large = desktop.get_by_role("radio", name="L Sold out", exact=True)
    expect(large).to_be_visible()

    large.check()

    expect(desktop.get_by_text("L is sold out. Choose another size.")).to_be_visible()
    add = shop.button("Add to cart")
    expect(add).to_have_attribute("aria-disabled", "true")
    add.click(force=True)  # Playwright waits for aria-disabled buttons; a person need not
    expect(desktop.get_by_text("Sorry, Linen shirt (L) is sold out.")).to_be_visible()
    expect(desktop.get_by_text("Your cart is empty.")).to_be_visible()
    screenshot(desktop, "desktop-6-sold-out")


def test_a_checkout_for_what_just_sold_out_is_refused(devstack, desktop, demo_merchant, screenshot):
    product = demo_merchant.send("POST", "/v1/products", {
        "title": "Last linen scarf",
        "variants": [{"sku": f"SCARF-{time.monotonic_ns()}", "inventory": {"on_hand": 1},
                      "price": {"amount": 1900, "currency": "EUR"}}],
    })  # fmt: skip
    post = demo_merchant.send("POST", "/v1/posts", {
        "media": {"url": "https://cdn.example.com/scarf.jpg", "width": 1000, "height": 1000},
        "caption": "The last one",
        "tags": [{"product_id": product["id"], "x": 0.5, "y": 0.5}],
    })  # fmt: skip
    shop = Storefront(desktop, f"{devstack.api}/demo/posts/{post['id']}", "Last linen scarf")
    shop.add("Last linen scarf")
    variant = product["variants"][0]
    demo_merchant.send("PATCH", f"/v1/products/{product['id']}",
                  {"variants": [{"id": variant["id"], "inventory": {"on_hand": 0}}]})  # fmt: skip
    shop.check_out()

    refused = shop.pay()

    assert (refused["http_status"], refused["error"]["code"]) == (409, "out_of_stock")
    message = desktop.get_by_role("alert").filter(has_text="Sorry, Last linen scarf")
    expect(message).to_be_visible()
    expect(message).to_be_focused()
    # The widget refreshed what it shows: the hotspot now says sold out.
    expect(shop.hotspot("Last linen scarf")).to_have_accessible_name(re.compile("sold out$"))
    screenshot(desktop, "desktop-7-checkout-refused")
    inventory = demo_merchant.variant(product["id"], variant["sku"])["inventory"]
    assert inventory == {"on_hand": 0, "reserved": 0, "available": 0}  # nothing held


def tab_to(page: Page, target, presses: int = 40) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would move to it."""
    for _ in range(presses):
        if target.evaluate("node => node === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} cannot be reached with the Tab key")


def test_keyboard_only_on_a_phone(devstack, phone, demo_merchant, screenshot):
    keys = phone.keyboard
    phone.goto(demo(devstack))
    shirt = phone.get_by_role("button", name=re.compile("^Linen shirt,"))
    expect(shirt).to_be_visible()
    screenshot(phone, "phone-1-post")

    tab_to(phone, shirt)
    keys.press("Enter")
    expect(phone.get_by_role("heading", name="Linen shirt")).to_be_focused()
    expect(phone.get_by_text("49,00 €")).to_be_visible()  # the browser's locale, fr-FR
    keys.press("Escape")  # closes the card, back to where we were
    expect(shirt).to_be_focused()
    keys.press("Enter")
    small = phone.get_by_role("radio", name="S", exact=True)
    tab_to(phone, small)
    keys.press("ArrowRight")  # to M
    expect(phone.get_by_role("radio", name="M", exact=True)).to_be_checked()
    tab_to(phone, phone.get_by_role("button", name="Add to cart", exact=True))
    keys.press("Enter")
    screenshot(phone, "phone-2-product")
    tab_to(phone, phone.get_by_role("button", name="Check out", exact=True))
    keys.press("Enter")
    expect(phone.get_by_role("heading", name="Checkout")).to_be_focused()
    for label, value in BUYER.items():
        tab_to(phone, phone.get_by_label(label, exact=True))
        keys.type(value)
    expect(phone.get_by_label("Country")).to_have_value("FR")  # from the locale
    tab_to(phone, phone.get_by_label("Card number"))
    # The stand-in moves on by itself after each complete part, as Stripe's Card Element does.
    keys.type("4242424242424242")
    keys.type("12")
    keys.type("30")
    keys.type("123")
    expect(phone.get_by_label("Security code (CVC)")).to_have_value("123")
    screenshot(phone, "phone-3-checkout")
    with phone.expect_response(re.compile(r"/v1/checkouts$")) as placed:
        keys.press("Enter")  # submits the form

    expect(phone.locator("[data-order-status]")).to_have_text("paid", timeout=PAID_DEADLINE_MS)
    expect(phone.get_by_role("heading", name="Thank you for your order")).to_be_focused()
    screenshot(phone, "phone-4-paid")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    demo_merchant.wait_for_status(placed.value.json()["order_id"], "paid")


def test_prices_use_the_currencys_minor_units_and_the_locale(devstack, desktop):
    desktop.goto(demo(devstack))
    formatted = desktop.evaluate(
        """async (url) => {
            const {formatMoney} = await import(url);
            return [
                formatMoney({amount: 4900, currency: 'EUR'}, 'en-US'),
                formatMoney({amount: 4900, currency: 'EUR'}, 'fr-FR'),
                formatMoney({amount: 1500, currency: 'JPY'}, 'en-US'),
                formatMoney({amount: 1234, currency: 'KWD'}, 'en-US'),
                formatMoney({amount: 1500, currency: 'IQD'}, 'en-US'),
                formatMoney({amount: 150000, currency: 'HUF'}, 'en-US'),
                formatMoney({amount: 5, currency: 'USD'}, 'en-US'),
                formatMoney({amount: 123456789, currency: 'EUR'}, 'de-DE'),
            ];
        }""",
        f"{devstack.api}/widget/shoppable.js",
    )

    spaces = str.maketrans({"\u00a0": " ", "\u202f": " "})
    assert [text.translate(spaces) for text in formatted] == [
        "€49.00",
        "49,00 €",
        "¥1,500",
        "KWD 1.234",
        "IQD 1.500",  # ISO 4217 has 3 decimals, where Intl (CLDR) would give 0
        "HUF 1,500.00",
        "$0.05",
        "1.234.567,89 €",
    ]


def _creator_row(demo_merchant, creator_id: str) -> dict:
    report = demo_merchant.get("/v1/analytics/funnel?group_by=creator")
    empty = {"views": 0, "clicks": 0, "paid_orders": 0}
    return next((r for r in report["rows"] if r["key"] == creator_id), empty)


def test_a_purchase_through_a_creators_link_is_theirs(devstack, desktop, demo_merchant):
    """The demo creator's link (`make run` prints it): the widget reports the view and the
    hotspot clicked, carries the link's ref into the checkout, and the paid order shows on
    the creator's statement and in the funnel by creator."""
    creator_id = devstack.info["creator_id"]
    before = _creator_row(demo_merchant, creator_id)
    shop = Storefront(desktop, devstack.info["creator_link"])
    shop.add("Linen shirt", "S")
    shop.check_out()

    placed = shop.pay()

    assert placed["http_status"] == 201, placed
    order = demo_merchant.wait_for_status(placed["order_id"], "paid")
    assert (order["attribution"]["creator_id"], order["attribution"]["via"]) == (creator_id, "link")
    deadline = time.monotonic() + 30
    while not [e for e in demo_merchant.get(f"/v1/creators/{creator_id}/statement")["entries"]
               if e["order_id"] == order["id"]]:  # fmt: skip
        assert time.monotonic() < deadline, "the commission never reached the statement"
        time.sleep(0.3)
    entries = demo_merchant.get(f"/v1/creators/{creator_id}/statement")["entries"]
    earned = [e for e in entries if e["order_id"] == order["id"]]
    assert [(e["kind"], e["amount"]) for e in earned] == [("earned", 490)]  # 10 % of 49.00
    after = _creator_row(demo_merchant, creator_id)
    assert after["views"] >= before["views"] + 1 and after["clicks"] >= before["clicks"] + 1
    assert after["paid_orders"] == before["paid_orders"] + 1
