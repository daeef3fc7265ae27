"""Creators: the people a merchant pays for the sales they bring, and what they are owed.

A creator's name, e-mail, handle on each platform and payout details are personal data: they
go to the vault, and the creator keeps the vault token and masked values (like an order's
buyer). What stays here is what the commissions need: rates, a hold period, a status.

Commissions, in integer minor units:

- earned when the order is paid: the sum over its lines of `line total * rate` (the product's
  own rate if the creator has one, else the creator's), in basis points (1000 = 10 %),
  rounded once per order, half up: `earned = (Σ total·bps + 5000) // 10000`;
- clawed back in proportion to what the buyer got back, refunds and open chargebacks
  together (the order's *exposure*, at most its total), by a cumulative rule: after each
  change the total clawed back is `clawback(earned, total, exposure)`, the proportional share
  rounded half up, and the ledger entry is the difference from what was clawed back before.
  Whatever the sequence of partial refunds, the entries add up to exactly the proportional
  clawback of the total refunded, a full refund takes back exactly what was earned, and a
  chargeback won gives back what it had taken: no cent is lost or created;
- mature once the hold period (30 days by default) has passed since the payment: until then
  they are pending.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from .attribution import Channel, ReferralCode, ReferralKind
from .base import Model
from .customers import Email, Line, Short, SocialPlatform
from .fields import ObjectId

BASIS_POINTS = 10_000  # 100 %
DEFAULT_HOLD_DAYS = 30
MAX_PRODUCT_RATES = 100
MAX_REFERRALS_PER_CREATOR = 100

Rate = Annotated[int, Field(ge=0, le=BASIS_POINTS, description="basis points: 1000 is 10 %")]


def _iban(value: str) -> str:
    """An IBAN with a valid ISO 13616 check (mod 97); the message never repeats the value."""
    compact = value.replace(" ", "").upper()
    if not (15 <= len(compact) <= 34 and compact.isascii() and compact.isalnum()):
        raise ValueError("must be an IBAN")
    if not (compact[:2].isalpha() and compact[2:4].isdigit()):
        raise ValueError("must be an IBAN")
    rearranged = compact[4:] + compact[:4]
    if int("".join(str(int(c, 36)) for c in rearranged)) % 97 != 1:
        raise ValueError("must be an IBAN (its check digits do not match)")
    return compact


Iban = Annotated[str, AfterValidator(_iban)]


class BankTransfer(Model):
    model_config = ConfigDict(extra="forbid")

    method: Literal["bank_transfer"] = "bank_transfer"
    account_holder: Line
    iban: Iban


class PayPal(Model):
    model_config = ConfigDict(extra="forbid")

    method: Literal["paypal"] = "paypal"
    email: Email


PayoutDetails = Annotated[BankTransfer | PayPal, Field(discriminator="method")]


class CommissionRules(Model):
    model_config = ConfigDict(extra="forbid")

    rate_bps: Rate
    products: Annotated[dict[ObjectId, Rate], Field(max_length=MAX_PRODUCT_RATES)] = Field(
        default_factory=dict, description="product id -> its own rate, instead of rate_bps"
    )

    def rate_for(self, product_id: str) -> int:
        return self.products.get(product_id, self.rate_bps)


class CreatorStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # orders are still attributed; no commission is earned


Handles = Annotated[dict[SocialPlatform, Short], Field(max_length=10)]


class CreatorCreate(Model):
    """`name`, `email`, `handles` and `payout` go to the vault; the creator keeps a token."""

    model_config = ConfigDict(extra="forbid")

    name: Line
    email: Email
    handles: Handles = Field(default_factory=dict, description="platform -> handle")
    payout: PayoutDetails | None = None
    commission: CommissionRules
    hold_days: int | None = Field(
        None, ge=0, le=365, description="days before commissions mature (default 30)"
    )
    status: CreatorStatus = CreatorStatus.ACTIVE


class CreatorUpdate(Model):
    """A field left out stays as it is. Personal fields are handed to the vault together, so
    changing any of them needs `name` and `email` as well."""

    model_config = ConfigDict(extra="forbid")

    name: Line | None = None
    email: Email | None = None
    handles: Handles | None = None
    payout: PayoutDetails | None = None
    commission: CommissionRules | None = None
    hold_days: int | None = Field(None, ge=0, le=365)
    status: CreatorStatus | None = None

    @model_validator(mode="after")
    def _personal_together(self) -> "CreatorUpdate":
        personal = {"name", "email", "handles", "payout"} & self.model_fields_set
        if personal and not {"name", "email"} <= personal:
            raise ValueError("changing name, email, handles or payout needs both name and email")
        return self

    @property
    def personal(self) -> bool:
        return bool({"name", "email", "handles", "payout"} & self.model_fields_set)


class MaskedCreator(Model):
    name: str
    email: str
    handles: list[str] = Field(default_factory=list, description="platforms with a handle")
    payout_method: str | None = None


class Creator(Model):
    model_config = ConfigDict(extra="forbid")

    object: Literal["creator"] = "creator"
    id: str
    merchant_id: str
    customer_token: str = Field(description="the vault token of the creator's personal data")
    masked: MaskedCreator
    commission: CommissionRules
    hold_days: int | None = None
    status: CreatorStatus
    created_at: datetime
    updated_at: datetime


class CreatorView(Model):
    object: Literal["creator"] = "creator"
    id: str
    customer_token: str
    masked: MaskedCreator
    commission: CommissionRules
    hold_days: int | None
    status: CreatorStatus
    created_at: datetime
    updated_at: datetime


def creator_view(creator: Creator) -> CreatorView:
    return CreatorView.model_validate(creator.model_dump(exclude={"merchant_id", "object"}))


# Referrals: links and codes


class LinkCreate(Model):
    """A link for the creator to share: its `ref` is generated; it opens the post."""

    model_config = ConfigDict(extra="forbid")

    post_id: ObjectId = Field(description="the post the link opens")
    platform: Channel | None = Field(None, description="where the link is shared")


class CodeCreate(Model):
    """A referral code buyers type at checkout (no discount): unique in the shop."""

    model_config = ConfigDict(extra="forbid")

    code: ReferralCode
    platform: Channel | None = Field(None, description="where the code is given out")


class ReferralUpdate(Model):
    model_config = ConfigDict(extra="forbid")

    active: bool


class ReferralView(Model):
    object: Literal["referral"] = "referral"
    code: str
    kind: ReferralKind
    creator_id: str
    post_id: str | None
    platform: Channel | None
    active: bool
    url: str | None = Field(None, description="links: the page to share, with its `ref`")
    created_at: datetime


def referral_url(storefront_url: str, post_id: str, code: str) -> str:
    """What a creator shares: the storefront's page of the post, with the ref."""
    return f"{storefront_url.rstrip('/')}/posts/{post_id}?ref={code}"


# Commissions


def earned_commission(lines: list[tuple[str, int]], rules: CommissionRules) -> int:
    """Commission on an order's (product id, line total) pairs, rounded once, half up."""
    numerator = sum(total * rules.rate_for(product_id) for product_id, total in lines)
    return (numerator + BASIS_POINTS // 2) // BASIS_POINTS


def clawback(earned: int, total: int, exposure: int) -> int:
    """How much of `earned` is taken back when `exposure` of the order's `total` went back to
    the buyer (refunded, or held by a chargeback): proportional, rounded half up, cumulative.
    clawback(e, t, 0) == 0 and clawback(e, t, t) == e."""
    if total <= 0 or earned <= 0:
        return 0
    exposed = min(max(exposure, 0), total)
    return (2 * earned * exposed + total) // (2 * total)


class LedgerEntryKind(StrEnum):
    EARNED = "earned"
    CLAWBACK = "clawback"  # negative: a refund or a chargeback
    REINSTATED = "reinstated"  # positive: a chargeback won gives back what it took


class OrderCommission(Model):
    """What the ledger holds about one attributed order: the commission and how much of it
    was clawed back, as of the order's event `sequence` (its events apply in order, once)."""

    model_config = ConfigDict(extra="forbid")

    order_id: str
    merchant_id: str
    creator_id: str
    currency: str
    total: int
    earned: int
    clawed: int = 0
    sequence: int
    paid_at: datetime
    matures_at: datetime


class LedgerEntry(Model):
    model_config = ConfigDict(extra="forbid")

    object: Literal["ledger_entry"] = "ledger_entry"
    id: str = Field(description="the id of the event that caused it")
    creator_id: str
    order_id: str
    kind: LedgerEntryKind
    amount: int = Field(description="minor units; negative for a clawback")
    currency: str
    at: datetime
    matures_at: datetime


def adjustment_kind(delta: int) -> LedgerEntryKind:
    return LedgerEntryKind.CLAWBACK if delta > 0 else LedgerEntryKind.REINSTATED


class StatementTotals(Model):
    currency: str
    earned: int = 0
    clawed_back: int = Field(0, description="net of reinstatements; positive")
    net: int = 0
    available: int = Field(0, description="net of the entries whose hold period has passed")
    pending: int = Field(0, description="net of the entries still in their hold period")


class Statement(Model):
    object: Literal["creator_statement"] = "creator_statement"
    creator_id: str
    start: datetime = Field(description="the statement covers entries from this time…")
    end: datetime = Field(description="…up to, not including, this one")
    as_of: datetime = Field(description="`available` and `pending` as of this time")
    totals: list[StatementTotals]
    entries: list[LedgerEntry]


def statement_totals(entries: list[LedgerEntry], now: datetime) -> list[StatementTotals]:
    """Per currency: earned, clawed back, net, and the net split into available and pending."""
    totals: dict[str, StatementTotals] = {}
    for entry in entries:
        sums = totals.setdefault(entry.currency, StatementTotals(currency=entry.currency))
        if entry.kind == LedgerEntryKind.EARNED:
            sums.earned += entry.amount
        else:
            sums.clawed_back -= entry.amount
        sums.net += entry.amount
        if entry.matures_at <= now:
            sums.available += entry.amount
        else:
            sums.pending += entry.amount
    return [totals[c] for c in sorted(totals)]
