"""Connections: which merchant a social account belongs to. Webhooks are routed through them."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .base import Model


class Platform(StrEnum):
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    TIKTOK = "tiktok"
    X = "x"
    PINTEREST = "pinterest"


AccountId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class ConnectionCreate(Model):
    """`account_id`: the Instagram or Facebook page or business id, TikTok `shop_id`, X user id."""

    model_config = ConfigDict(extra="forbid")

    platform: Platform
    account_id: AccountId


class Connection(Model):
    model_config = ConfigDict(extra="forbid")

    object: Literal["connection"] = "connection"
    id: str
    merchant_id: str
    platform: Platform
    account_id: str
    created_at: datetime
