from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.domain.catalog import Product, Variant
from chalicelib.domain.money import Money
from chalicelib.domain.orders import (
    PAID_STATES,
    CheckoutLine,
    CheckoutRequest,
    OrderStatus,
    can_transition,
    price_lines,
    refund_outcome,
)

S = OrderStatus
NOW = datetime(2026, 11, 1, tzinfo=UTC)
BUYER = {
    "customer": {"email": "a@b.example", "name": "A"},
    "shipping_address": {"line1": "1 Road", "city": "Town", "postal_code": "1", "country": "GB"},
}


def variant(vid, amount, currency="EUR", product_id="prod_1"):
    return Variant(
        id=vid,
        product_id=product_id,
        merchant_id="mer_1",
        sku=vid.upper(),
        price=Money(amount=amount, currency=currency),
        on_hand=10,
    )


PRODUCTS = {
    "prod_1": Product(
        id="prod_1",
        merchant_id="mer_1",
        title="Tee",
        variant_ids=["var_a"],
        created_at=NOW,
        updated_at=NOW,
    )
}


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.PENDING_PAYMENT, S.PAID, True),
        (S.PAID, S.FULFILLED, True),
        (S.FULFILLED, S.DELIVERED, True),
        (S.PENDING_PAYMENT, S.FULFILLED, False),
        (S.FULFILLED, S.CANCELLED, False),
        (S.CANCELLED, S.PAID, False),
        (S.REFUNDED, S.REFUNDED, False),
        (S.PAID, S.PAID, False),
        (S.EXPIRED, S.PAID, True),
        (S.DELIVERED, S.PENDING_PAYMENT, False),
        (S.PARTIALLY_REFUNDED, S.REFUNDED, True),
    ],
)
def test_the_state_machine(current, target, allowed):
    assert can_transition(current, target) is allowed


def test_only_partial_refunds_repeat_a_status():
    for status in S:
        assert not can_transition(status, status) or status == S.PARTIALLY_REFUNDED


def test_paid_states_can_be_refunded_and_disputed():
    for status in PAID_STATES:
        assert can_transition(status, S.REFUNDED)
        assert can_transition(status, S.DISPUTED)


def test_amounts_come_from_the_catalog():
    lines = [
        CheckoutLine(variant_id="var_a", quantity=3),
        CheckoutLine(variant_id="var_b", quantity=1),
    ]
    variants = {"var_a": variant("var_a", 1250), "var_b": variant("var_b", 999)}
    priced, amounts = price_lines(lines, variants, PRODUCTS)
    assert [line.total.amount for line in priced] == [3750, 999]
    assert priced[0].title == "Tee"
    assert (amounts.subtotal, amounts.total, amounts.currency) == (4749, 4749, "EUR")


def test_one_order_is_priced_in_one_currency():
    lines = [
        CheckoutLine(variant_id="var_a", quantity=1),
        CheckoutLine(variant_id="var_b", quantity=1),
    ]
    variants = {"var_a": variant("var_a", 100), "var_b": variant("var_b", 100, "USD")}
    with pytest.raises(ValueError, match="one currency"):
        price_lines(lines, variants, PRODUCTS)


def test_a_variant_appears_on_one_line_only():
    with pytest.raises(ValidationError, match="repeats a variant"):
        CheckoutRequest.model_validate(
            {
                "lines": [
                    {"variant_id": "var_a", "quantity": 1},
                    {"variant_id": "var_a", "quantity": 2},
                ],
                **BUYER,
            }
        )


def test_refund_outcome():
    assert refund_outcome(total=1000, refunded=400) == S.PARTIALLY_REFUNDED
    assert refund_outcome(total=1000, refunded=1000) == S.REFUNDED
