"""A person's data as it arrives: the field types of buyers, customers and addresses.

Only the vault keeps these values; everything else holds the vault's token. Validation
messages never repeat the value: they end up in responses and may end up in logs.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, StringConstraints

from .base import Model

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_PHONE_PUNCTUATION = str.maketrans("", "", " -.()")


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("must be an email address")
    return value


def _phone(value: str) -> str:
    value = value.strip().translate(_PHONE_PUNCTUATION)
    if not _PHONE.match(value):
        raise ValueError("must be an international number, '+' then 7 to 15 digits")
    return value


def _country(value: str) -> str:
    value = value.strip().upper()
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError("must be an ISO 3166-1 alpha-2 country code")
    return value


Email = Annotated[str, AfterValidator(_email)]
Phone = Annotated[str, AfterValidator(_phone)]
Country = Annotated[str, AfterValidator(_country)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
SocialPlatform = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class ShippingAddress(Model):
    model_config = ConfigDict(extra="forbid")

    line1: Line
    line2: Line | None = None
    city: Short
    postal_code: PostalCode
    region: Short | None = None
    country: Country
