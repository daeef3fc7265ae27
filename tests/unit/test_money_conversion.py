"""Minor units and the platforms' decimal strings, through each currency's ISO 4217 exponent."""

import pytest

from chalicelib.domain.money import (
    Money,
    exponent,
    from_decimal_string,
    price_label,
    to_decimal_string,
)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (4900, "EUR", "49.00"),
        (5, "EUR", "0.05"),
        (1200, "JPY", "1200"),
        (1250, "KWD", "1.250"),
        (7, "BHD", "0.007"),
        (0, "USD", "0.00"),
        (99_999_999_99, "EUR", "99999999.99"),
    ],
)
def test_minor_units_round_trip_through_the_decimal_string(amount, currency, text):
    assert to_decimal_string(amount, currency) == text
    assert from_decimal_string(text, currency) == amount


def test_the_exponents_are_iso_4217s():
    assert (exponent("EUR"), exponent("JPY"), exponent("KWD"), exponent("CLP")) == (2, 0, 3, 0)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.99", "USD", 1299),
        ("12.990", "USD", 1299),
        ("12.9", "USD", 1290),
        ("1200.0", "JPY", 1200),
    ],
)
def test_platform_amounts_with_trailing_zeros_are_exact(text, currency, minor):
    assert from_decimal_string(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("12.999", "USD"),
        ("0.5", "JPY"),
        ("1.2345", "KWD"),
        ("abc", "EUR"),
        ("NaN", "EUR"),
        ("", "EUR"),
    ],
)
def test_an_amount_that_is_not_exact_in_the_currency_is_refused(text, currency):
    with pytest.raises(ValueError):
        from_decimal_string(text, currency)


def test_a_float_rounding_trap_stays_exact():
    """0.29 * 100 is 28.999999999999996 as a float; Decimal keeps it 29."""
    assert from_decimal_string("0.29", "EUR") == 29
    assert from_decimal_string("1.15", "EUR") == 115


def test_the_catalog_price_label_names_the_currency():
    assert price_label(Money(amount=4900, currency="EUR")) == "49.00 EUR"
    assert price_label(Money(amount=4900, currency="JPY")) == "4900 JPY"
