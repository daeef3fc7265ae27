"""Money as integer minor units and an ISO 4217 currency, never a float."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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

# The largest amount we accept: well inside DynamoDB's and Stripe's integer ranges.
MAX_AMOUNT = 99_999_999_99


def _known_currency(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError("must be an ISO 4217 currency code in upper case, such as EUR")
    return code


Currency = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_known_currency)]


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: int = Field(ge=0, le=MAX_AMOUNT, description="Integer amount in minor units.")
    currency: Currency
