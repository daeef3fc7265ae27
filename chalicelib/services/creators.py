"""Creators: who they are (in the vault), their links and codes, and the commission ledger.

The ledger is a consumer of the order events the outbox publishes (services/outbound.py),
never a step of the sale: the checkout only records the order's attribution, and the events
that follow (`order.paid`, refunds, disputes, their outcome) move the creator's money:

    order.paid ─▶ earn the commission (the creator's rates, the order's lines), pending until
                  the hold period has passed
    order.* with refunds or an open chargeback ─▶ claw back in proportion (domain/creators.py)
    a chargeback won ─▶ give back what it took

Each order's commission item holds the sequence of the last event applied: an event at or
below it is a repeat (or older than what was applied) and changes nothing, so a stream record
read twice never moves money twice.
"""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from ..domain.attribution import Channel, Referral, ReferralKind
from ..domain.creators import (
    DEFAULT_HOLD_DAYS,
    CodeCreate,
    Creator,
    CreatorCreate,
    CreatorStatus,
    CreatorUpdate,
    CreatorView,
    LedgerEntry,
    LedgerEntryKind,
    LinkCreate,
    MaskedCreator,
    OrderCommission,
    ReferralUpdate,
    ReferralView,
    Statement,
    adjustment_kind,
    clawback,
    creator_view,
    earned_commission,
    referral_url,
    statement_totals,
)
from ..domain.errors import AlreadyExists, ConcurrentUpdate
from ..domain.funnel import DayRangeQuery, spreadsheet_safe
from ..domain.ids import Prefix, has_prefix
from ..domain.money import to_decimal_string
from ..domain.orders import Order, OrderStatus
from ..domain.outbound import Event, EventType, OrderEventData
from ..domain.posts import Post
from ..domain.scopes import Scope
from ..errors import Conflict, NotFound, ValidationFailed
from ..observability import logger
from ..vault.models import Caller, CustomerCreate, Tokenized
from .access import owned
from .ports import Clock

LINK_REF_LENGTH = 10
_ATTEMPTS = 3


class CreatorStore(Protocol):
    def add(self, creator: Creator) -> None: ...

    def get(self, creator_id: str) -> Creator | None: ...

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Creator], str | None]: ...

    def replace(self, creator: Creator, read_at: datetime) -> None:
        """Write a changed creator if unchanged since `read_at`; ConcurrentUpdate if not."""
        ...


class ReferralStore(Protocol):
    def add(self, referral: Referral) -> None:
        """AlreadyExists if the merchant has this code already."""
        ...

    def find(self, merchant_id: str, codes: list[str]) -> list[Referral]: ...

    def get(self, merchant_id: str, code: str) -> Referral | None: ...

    def of_creator(
        self, merchant_id: str, creator_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Referral], str | None]: ...

    def set_active(self, merchant_id: str, code: str, active: bool) -> Referral | None: ...


class Ledger(Protocol):
    def get(self, order_id: str) -> OrderCommission | None: ...

    def earn(self, commission: OrderCommission, entry: LedgerEntry | None) -> bool:
        """Start the order's commission (and its `earned` entry); False if it was started."""
        ...

    def adjust(
        self, commission: OrderCommission, read_sequence: int, entry: LedgerEntry | None
    ) -> bool:
        """Write the order's new commission state and `entry`, if the state is still at
        `read_sequence`; else False."""
        ...

    def entries(self, creator_id: str, start: datetime, end: datetime) -> list[LedgerEntry]: ...


class OrderReader(Protocol):
    def get(self, order_id: str) -> Order | None: ...


class PostReader(Protocol):
    def get(self, post_id: str) -> Post | None: ...


@dataclass(frozen=True)
class CreatorSettings:
    storefront_url: str
    hold_days: int = DEFAULT_HOLD_DAYS


class CreatorVault(Protocol):
    """A creator's profile is the merchant's to write (`creators:write` through its key), as
    `POST /v1/customers` writes a customer's: unlike a buyer's, it is tokenized, not
    identified."""

    def tokenize(self, caller: Caller, customer: CustomerCreate) -> Tokenized: ...


@dataclass(frozen=True)
class Creators:
    """What the creators' use cases need, wired by the composition root."""

    creators: CreatorStore
    referrals: ReferralStore
    ledger: Ledger
    orders: OrderReader
    posts: PostReader
    vault: CreatorVault
    clock: Clock
    settings: CreatorSettings


# Creators


def _tokenized(
    creators: Creators, merchant_id: str, fields: CreatorCreate | CreatorUpdate, by_key: str
) -> tuple[str, MaskedCreator]:
    """The creator's personal data into the vault; back come a token and masked values. The
    vault changes a profile only for a merchant's key: the key that may write creators
    (`creators:write`) writes their profiles, and the vault's audit names it."""
    assert fields.name is not None and fields.email is not None
    caller = Caller(
        merchant_id=merchant_id, actor=by_key, scopes=frozenset({Scope.CUSTOMERS_WRITE})
    )
    tokenized = creators.vault.tokenize(
        caller,
        CustomerCreate(
            email=fields.email,
            name=fields.name,
            social_handles=fields.handles or None,
            payout=fields.payout,
        ),
    )
    masked = MaskedCreator(
        name=tokenized.masked.name,
        email=tokenized.masked.email,
        handles=sorted(fields.handles or {}),
        payout_method=fields.payout.method if fields.payout else None,
    )
    return tokenized.token, masked


def create_creator(
    creators: Creators, merchant_id: str, request: CreatorCreate, *, by_key: str
) -> CreatorView:
    token, masked = _tokenized(creators, merchant_id, request, by_key)
    now = creators.clock.now()
    creator = Creator(
        id=creators.clock.new_id(Prefix.CREATOR),
        merchant_id=merchant_id,
        customer_token=token,
        masked=masked,
        commission=request.commission,
        hold_days=request.hold_days,
        status=request.status,
        created_at=now,
        updated_at=now,
    )
    creators.creators.add(creator)
    return creator_view(creator)


def owned_creator(creators: Creators, merchant_id: str, creator_id: str) -> Creator:
    return owned(creators.creators.get, Prefix.CREATOR, merchant_id, creator_id, "creator")


def get_creator(creators: Creators, merchant_id: str, creator_id: str) -> CreatorView:
    return creator_view(owned_creator(creators, merchant_id, creator_id))


def list_creators(
    creators: Creators, merchant_id: str, limit: int, cursor: str | None
) -> tuple[list[CreatorView], str | None]:
    found, next_cursor = creators.creators.page(merchant_id, limit, cursor)
    return [creator_view(c) for c in found], next_cursor


def update_creator(
    creators: Creators, merchant_id: str, creator_id: str, request: CreatorUpdate, *, by_key: str
) -> CreatorView:
    creator = owned_creator(creators, merchant_id, creator_id)
    changes: dict[str, object] = {
        name: getattr(request, name)
        for name in ("commission", "hold_days", "status")
        if name in request.model_fields_set and getattr(request, name) is not None
    }
    if "hold_days" in request.model_fields_set and request.hold_days is None:
        changes["hold_days"] = None  # back to the default
    if request.personal:
        changes["customer_token"], changes["masked"] = _tokenized(
            creators, merchant_id, request, by_key
        )
    changes["updated_at"] = max(
        creators.clock.now(), creator.updated_at + timedelta(microseconds=1)
    )
    changed = creator.model_copy(update=changes)
    try:
        creators.creators.replace(changed, creator.updated_at)
    except ConcurrentUpdate as race:
        raise Conflict(
            "The creator changed meanwhile; read it again.", code="concurrent_update"
        ) from race
    return creator_view(changed)


# Links and codes


def _referral_view(creators: Creators, referral: Referral) -> ReferralView:
    url = None
    if referral.kind == ReferralKind.LINK and referral.post_id:
        url = referral_url(creators.settings.storefront_url, referral.post_id, referral.code)
    return ReferralView(
        code=referral.code,
        kind=referral.kind,
        creator_id=referral.creator_id,
        post_id=referral.post_id,
        platform=referral.platform,
        active=referral.active,
        url=url,
        created_at=referral.created_at,
    )


def create_link(
    creators: Creators, merchant_id: str, creator_id: str, request: LinkCreate
) -> ReferralView:
    creator = owned_creator(creators, merchant_id, creator_id)
    post = creators.posts.get(request.post_id) if has_prefix(request.post_id, Prefix.POST) else None
    if post is None or post.merchant_id != merchant_id:
        raise ValidationFailed(
            f"No such post: '{request.post_id}'.", code="resource_missing", param="post_id"
        )
    for _ in range(_ATTEMPTS):
        link = _referral(
            creators,
            creator,
            ReferralKind.LINK,
            creators.clock.random_token(LINK_REF_LENGTH).upper(),
            request.platform,
            post.id,
        )
        try:
            creators.referrals.add(link)
            return _referral_view(creators, link)
        except AlreadyExists:
            continue  # a ref drawn twice, or a code someone chose: draw again
    raise Conflict("Could not draw a free link ref; retry.", code="concurrent_update")


def create_code(
    creators: Creators, merchant_id: str, creator_id: str, request: CodeCreate
) -> ReferralView:
    creator = owned_creator(creators, merchant_id, creator_id)
    code = _referral(creators, creator, ReferralKind.CODE, request.code, request.platform, None)
    try:
        creators.referrals.add(code)
    except AlreadyExists:
        raise Conflict(
            f"The code '{request.code}' is taken in this shop.", code="code_taken", param="code"
        ) from None
    return _referral_view(creators, code)


def _referral(
    creators: Creators,
    creator: Creator,
    kind: ReferralKind,
    code: str,
    platform: Channel | None,
    post_id: str | None,
) -> Referral:
    return Referral(
        code=code,
        kind=kind,
        merchant_id=creator.merchant_id,
        creator_id=creator.id,
        post_id=post_id,
        platform=platform,
        created_at=creators.clock.now(),
    )


def list_referrals(
    creators: Creators, merchant_id: str, creator_id: str, limit: int, cursor: str | None
) -> tuple[list[ReferralView], str | None]:
    creator = owned_creator(creators, merchant_id, creator_id)
    found, next_cursor = creators.referrals.of_creator(merchant_id, creator.id, limit, cursor)
    return [_referral_view(creators, r) for r in found], next_cursor


def update_referral(
    creators: Creators, merchant_id: str, creator_id: str, code: str, request: ReferralUpdate
) -> ReferralView:
    creator = owned_creator(creators, merchant_id, creator_id)
    normalised = code.strip().upper()
    current = creators.referrals.get(merchant_id, normalised) if normalised.isascii() else None
    if current is None or current.creator_id != creator.id:
        raise NotFound(f"No such link or code: '{code}'.", param="code")
    changed = creators.referrals.set_active(merchant_id, normalised, request.active)
    if changed is None:
        raise NotFound(f"No such link or code: '{code}'.", param="code")
    return _referral_view(creators, changed)


# Statements


def _period(query: DayRangeQuery, today: date) -> tuple[datetime, datetime]:
    first, last = query.days(today)
    return (
        datetime.combine(first, time(), UTC),
        datetime.combine(last + timedelta(days=1), time(), UTC),
    )


def statement(
    creators: Creators, merchant_id: str, creator_id: str, query: DayRangeQuery
) -> Statement:
    """The creator's ledger entries of the days asked (UTC), with totals per currency."""
    creator = owned_creator(creators, merchant_id, creator_id)
    now = creators.clock.now()
    start, end = _period(query, now.astimezone(UTC).date())
    entries = creators.ledger.entries(creator.id, start, end)
    return Statement(
        creator_id=creator.id,
        start=start,
        end=end,
        as_of=now,
        totals=statement_totals(entries, now),
        entries=entries,
    )


def statement_csv(
    creators: Creators, merchant_id: str, creator_id: str, query: DayRangeQuery
) -> str:
    """The statement as CSV: one line per entry, amounts as exact decimals."""
    found = statement(creators, merchant_id, creator_id, query)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["at", "kind", "order_id", "event_id", "currency", "amount", "matures_at", "status"]
    )
    for entry in found.entries:
        writer.writerow(
            [
                entry.at.isoformat(),
                entry.kind.value,
                spreadsheet_safe(entry.order_id),
                spreadsheet_safe(entry.id),
                entry.currency,
                _signed_decimal(entry.amount, entry.currency),
                entry.matures_at.isoformat(),
                "available" if entry.matures_at <= found.as_of else "pending",
            ]
        )
    return out.getvalue()


def _signed_decimal(amount: int, currency: str) -> str:
    text = to_decimal_string(abs(amount), currency)
    return f"-{text}" if amount < 0 else text


# The ledger: a consumer of the outbox's order events


def commission_on_order_event(creators: Creators, event: Event) -> None:
    """Earn, claw back or give back the commission of an attributed order (see above)."""
    if not event.type.value.startswith("order.") or event.sequence is None:
        return
    data = OrderEventData.model_validate(event.data)
    if data.attribution is None:
        return
    for _ in range(_ATTEMPTS):
        commission = creators.ledger.get(data.order_id)
        if commission is None:
            if event.type != EventType.ORDER_PAID or _earn(creators, event, data):
                return
            continue  # started meanwhile: apply this event to what is there
        if event.sequence <= commission.sequence:
            return  # applied already, or older than what was applied
        if _adjust(creators, event, data, commission):
            return
    raise ConcurrentUpdate(f"commission of {data.order_id} kept changing")


def _earn(creators: Creators, event: Event, data: OrderEventData) -> bool:
    assert data.attribution is not None and event.sequence is not None
    order = creators.orders.get(data.order_id)
    creator = creators.creators.get(data.attribution.creator_id)
    if order is None or creator is None or creator.merchant_id != event.merchant_id:
        logger.warning(
            "attributed order without its order or creator; no commission",
            extra={"order_id": data.order_id, "event_id": event.id},
        )
        return True
    earned = 0
    if creator.status == CreatorStatus.ACTIVE:
        earned = earned_commission(
            [(line.product_id, line.total.amount) for line in order.lines], creator.commission
        )
    hold = creator.hold_days if creator.hold_days is not None else creators.settings.hold_days
    matures_at = event.timestamp + timedelta(days=hold)
    commission = OrderCommission(
        order_id=order.id,
        merchant_id=order.merchant_id,
        creator_id=creator.id,
        currency=data.currency,
        total=data.total,
        earned=earned,
        sequence=event.sequence,
        paid_at=event.timestamp,
        matures_at=matures_at,
    )
    entry = None
    if earned:
        entry = LedgerEntry(
            id=event.id,
            creator_id=creator.id,
            order_id=order.id,
            kind=LedgerEntryKind.EARNED,
            amount=earned,
            currency=data.currency,
            at=event.timestamp,
            matures_at=matures_at,
        )
    started = creators.ledger.earn(commission, entry)
    if started:
        logger.info(
            "commission earned",
            extra={"order_id": order.id, "creator_id": creator.id, "amount": earned},
        )
    return started


def exposure(data: OrderEventData) -> int:
    """What of the order went back to the buyer: refunds, and an open chargeback's amount."""
    held = (data.amount or 0) if data.status == OrderStatus.DISPUTED.value else 0
    return min(data.refunded + held, data.total)


def _adjust(
    creators: Creators, event: Event, data: OrderEventData, commission: OrderCommission
) -> bool:
    assert event.sequence is not None
    target = clawback(commission.earned, commission.total, exposure(data))
    delta = target - commission.clawed
    if delta == 0:
        return True  # nothing moves; a newer event will find the same state
    entry = LedgerEntry(
        id=event.id,
        creator_id=commission.creator_id,
        order_id=commission.order_id,
        kind=adjustment_kind(delta),
        amount=-delta,
        currency=commission.currency,
        at=event.timestamp,
        matures_at=commission.matures_at,
    )
    moved = commission.model_copy(update={"clawed": target, "sequence": event.sequence})
    return creators.ledger.adjust(moved, commission.sequence, entry)
