"""Which creator an order is owed to: referral codes, creators' links, collab posts.

A storefront sets no cookie and keeps nothing on the shopper's device: the widget carries the
`ref` of the page's URL (and when it was opened) into the checkout, and the buyer may type a
creator's referral code. Checkout resolves both once, against the merchant's own referrals,
and the order keeps the result (`Order.attribution`, and every order event carries it):

1. a referral code the buyer typed beats everything (the buyer named the creator);
2. else the last link clicked (`ref` + `clicked_at`), if clicked within the attribution
   window (7 days by default) and not in the future;
3. else the creator of a collab post the checkout came from;
4. else nobody. One creator per order, never split.

An anonymous caller can claim any `ref` or code (that is inherent to links); what bounds it:
the referral must exist for that merchant and be active, the click must be within the window,
commissions are earned only when the order is paid and mature only after the hold period, and
refunds and disputes claw them back.
"""

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, field_validator

from .base import Model

DEFAULT_WINDOW = timedelta(days=7)
# A browser's clock may run a little ahead of ours: a click this far in the future still counts.
CLOCK_SKEW = timedelta(minutes=5)


_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{2,31}")


def _code(value: str) -> str:
    value = value.strip().upper()
    if not _CODE.fullmatch(value):
        raise ValueError(
            "must be 3 to 32 letters, digits, '-' or '_', starting with a letter or digit"
        )
    return value


# A referral code or a link's ref, compared without case ("jane10" is "JANE10").
ReferralCode = Annotated[str, Field(min_length=3, max_length=32), AfterValidator(_code)]


class Channel(StrEnum):
    """Where a shopper came from: the platform a creator's link was shared on, or the
    platform an order was placed on; `web` for anything else."""

    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    TIKTOK = "tiktok"
    PINTEREST = "pinterest"
    X = "x"
    WEB = "web"


class AttributionClaim(Model):
    """What the storefront says about how the shopper arrived (all of it untrusted)."""

    model_config = ConfigDict(extra="forbid")

    ref: ReferralCode = Field(description="the `ref` of the creator's link the shopper opened")
    clicked_at: datetime | None = Field(
        None, description="when the link was opened (default: now); older than the window: ignored"
    )
    platform: Channel | None = Field(
        None, description="where the shopper came from, if the page knows (utm_source, referrer)"
    )

    @field_validator("clicked_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without an offset is taken as UTC."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Via(StrEnum):
    CODE = "code"
    LINK = "link"
    COLLAB = "collab"


class Attribution(Model):
    """The creator an order is attributed to, and how; kept on the order and in its events."""

    creator_id: str
    via: Via
    code: str | None = Field(None, description="the referral code or link ref used")
    post_id: str | None = Field(None, description="the post the creator's link points to")
    platform: Channel | None = None
    clicked_at: datetime | None = None


class ReferralKind(StrEnum):
    LINK = "link"
    CODE = "code"


class Referral(Model):
    """A creator's link (`ref`, generated) or referral code (chosen), unique per merchant."""

    model_config = ConfigDict(extra="forbid")

    object: Literal["referral"] = "referral"
    code: str
    kind: ReferralKind
    merchant_id: str
    creator_id: str
    post_id: str | None = None
    platform: Channel | None = None
    active: bool = True
    created_at: datetime


def attribute(
    code: Referral | None,
    click: tuple[Referral, datetime, Channel | None] | None,
    collab_creator: str | None,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> Attribution | None:
    """The rule above. `code` and `click` are the referrals the request named, looked up for
    the order's merchant (None when it named none, or one that does not exist there)."""
    if code is not None and code.active and code.kind == ReferralKind.CODE:
        return Attribution(
            creator_id=code.creator_id,
            via=Via.CODE,
            code=code.code,
            post_id=code.post_id,
            platform=code.platform,
        )
    if click is not None:
        link, clicked_at, claimed_platform = click
        if link.active and now - window <= clicked_at <= now + CLOCK_SKEW:
            return Attribution(
                creator_id=link.creator_id,
                via=Via.LINK,
                code=link.code,
                post_id=link.post_id,
                platform=link.platform or claimed_platform,
                clicked_at=clicked_at,
            )
    if collab_creator is not None:
        return Attribution(creator_id=collab_creator, via=Via.COLLAB)
    return None


def channel_of(source: str, attribution: Attribution | None) -> Channel:
    """The funnel's platform of an order: where the shopper came from if known, else the
    platform that sold it (a storefront order with no clue is `web`)."""
    if attribution is not None and attribution.platform is not None:
        return attribution.platform
    try:
        return Channel(source)
    except ValueError:
        return Channel.WEB
