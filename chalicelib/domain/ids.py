"""Prefixed, opaque ids (DESIGN.md §3). The random part is handed in by the caller."""

from enum import StrEnum


class Prefix(StrEnum):
    MERCHANT = "mer"
    API_KEY = "key"
    PRODUCT = "prod"
    VARIANT = "var"
    POST = "post"
    CONNECTION = "conn"
    GRANT = "grt"  # one authorization at a platform; never shown
    ORDER = "ord"
    CUSTOMER = "cus"
    EVENT = "evt"
    WEBHOOK_ENDPOINT = "we"
    DELIVERY = "dlv"
    DELIVERY_ATTEMPT = "att"
    CREATOR = "cr"


def make_id(prefix: Prefix, random_part: str) -> str:
    return f"{prefix}_{random_part}"


def has_prefix(value: str, prefix: Prefix) -> bool:
    head, sep, rest = value.partition("_")
    return sep == "_" and head == prefix.value and rest.isalnum() and len(value) <= 64
