"""Money as integer minor units and an ISO 4217 currency, never a float.

Platforms speak decimal strings in major units ("49.00", "1200" yen, "1.250" dinars): the
conversion both ways goes through `Decimal` and the currency's ISO 4217 exponent, exactly.
"""

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from .base import Model

# Active ISO 4217 codes (2024 list), funds codes and precious metals left out.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)

# ISO 4217 minor-unit exponents that are not 2 (the list's "minor unit" column).
_EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}

# The largest amount we accept: well inside DynamoDB's and Stripe's integer ranges.
MAX_AMOUNT = 99_999_999_99


def _known_currency(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError("must be an ISO 4217 currency code in upper case, such as EUR")
    return code


Currency = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_known_currency)]


class Money(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: int = Field(ge=0, le=MAX_AMOUNT, description="Integer amount in minor units.")
    currency: Currency


def exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has: 2 for EUR, 0 for JPY, 3 for KWD."""
    return _EXPONENTS.get(currency, 2)


def to_decimal_string(amount: int, currency: str) -> str:
    """Minor units as the platforms' decimal string: (4900, EUR) -> "49.00", (1200, JPY) ->
    "1200", (1250, KWD) -> "1.250"."""
    places = exponent(currency)
    value = Decimal(amount).scaleb(-places)
    return f"{value:.{places}f}"


def from_decimal_string(text: str, currency: str) -> int:
    """A platform's decimal amount in major units as minor units, exactly; a value with more
    decimals than the currency has (or no number at all) is refused with ValueError."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal amount") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a decimal amount")
    minor = value.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{text!r} has more decimals than {currency} allows")
    return int(minor)


def price_label(money: Money) -> str:
    """ "49.00 EUR", the price attribute of the Meta and Pinterest catalogs."""
    return f"{to_decimal_string(money.amount, money.currency)} {money.currency}"
