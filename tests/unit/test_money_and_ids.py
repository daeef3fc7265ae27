import pytest
from pydantic import ValidationError

from chalicelib.domain.ids import Prefix, has_prefix, make_id
from chalicelib.domain.money import Money


def test_money_is_integer_minor_units_in_a_known_currency():
    assert Money(amount=1999, currency="EUR").amount == 1999
    for bad in (
        {"amount": 19.99, "currency": "EUR"},
        {"amount": -1, "currency": "EUR"},
        {"amount": 1, "currency": "ABC"},
        {"amount": 1, "currency": "eur"},
        {"amount": 1, "currency": "EUR", "tax": 0},
    ):
        with pytest.raises(ValidationError):
            Money.model_validate(bad, strict=True)


def test_ids_carry_their_prefix():
    assert make_id(Prefix.PRODUCT, "abc123") == "prod_abc123"
    assert has_prefix("prod_abc123", Prefix.PRODUCT)
    assert not has_prefix("post_abc123", Prefix.PRODUCT)
    assert not has_prefix("prod_", Prefix.PRODUCT)
    assert not has_prefix("prod_a/b", Prefix.PRODUCT)
    assert not has_prefix("prod_" + "a" * 80, Prefix.PRODUCT)
