"""In-memory fakes of the services' ports, for fast unit tests of the use cases.

Each fake keeps the rules its port promises (conditions, refusals, stock moves through
`domain/inventory.py`), so a service test against the fakes exercises the same decisions as
one against DynamoDB; `tests/integration/test_store_contracts.py` runs the same checks
against both to keep them honest.
"""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chalicelib.domain.attribution import Referral
from chalicelib.domain.catalog import Product, Variant
from chalicelib.domain.claims import (
    CancellationRequest,
    PaymentDispute,
    cancellation_statuses_before,
    dispute_statuses_before,
)
from chalicelib.domain.creators import Creator, LedgerEntry, OrderCommission
from chalicelib.domain.errors import (
    AlreadyExists,
    BelowReserved,
    ConcurrentUpdate,
    HoldLimitReached,
    OutOfStock,
)
from chalicelib.domain.funnel import CellCounts, OrderTally
from chalicelib.domain.ids import Prefix, make_id
from chalicelib.domain.inventory import StockMove, can_move, moved
from chalicelib.domain.merchants import CheckoutSettings
from chalicelib.domain.orders import (
    PAID_STATES,
    BuyerRef,
    CheckoutAccess,
    Hold,
    Order,
    OrderStatus,
    OrderUpdate,
    StatusChange,
    transitioned,
)
from chalicelib.domain.outbound import Event
from chalicelib.domain.payments import PaymentIntent, Refund
from chalicelib.domain.posts import Post
from chalicelib.domain.publications import Publication
from chalicelib.vault.models import (
    Caller,
    ConsentGiven,
    CustomerCreate,
    CustomerStatus,
    ForgottenOrder,
    MaskedCustomer,
    Tokenized,
)


class FakeClock:
    """Time stands still unless moved; ids count up."""

    def __init__(self, now: datetime | None = None):
        self._now = now or datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        self._ids = itertools.count(1)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)

    def new_id(self, prefix: Prefix) -> str:
        return make_id(prefix, f"{next(self._ids):024d}")

    def random_token(self, length: int) -> str:
        return f"{next(self._ids):0{length}d}"


@dataclass
class FakeProducts:
    products_by_id: dict[str, Product] = field(default_factory=dict)
    variants_by_id: dict[str, Variant] = field(default_factory=dict)

    def add(self, product: Product, variants: list[Variant]) -> None:
        if product.id in self.products_by_id:
            raise AlreadyExists(product.id)
        self.products_by_id[product.id] = product
        titled = [v.model_copy(update={"product_title": product.title}) for v in variants]
        self.variants_by_id.update({v.id: v for v in titled})

    def product(self, product_id: str) -> Product | None:
        return self.products_by_id.get(product_id)

    def products(self, product_ids: list[str]) -> list[Product]:
        return [
            self.products_by_id[p] for p in dict.fromkeys(product_ids) if p in self.products_by_id
        ]

    def variants(self, variant_ids: list[str]) -> list[Variant]:
        return [
            self.variants_by_id[v] for v in dict.fromkeys(variant_ids) if v in self.variants_by_id
        ]

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Product], str | None]:
        ours = sorted(
            (p for p in self.products_by_id.values() if p.merchant_id == merchant_id),
            key=lambda p: (p.created_at, p.id),
            reverse=True,
        )
        start = int(cursor or 0)
        page = ours[start : start + limit]
        more = start + limit < len(ours)
        return page, str(start + limit) if more else None

    def replace(
        self,
        product: Product,
        changed: list[Variant],
        added: list[Variant],
        retitled: bool = False,
    ) -> None:
        stored = self.products_by_id.get(product.id)
        if stored is None or stored.version != product.version - 1:
            raise ConcurrentUpdate(product.id)
        for variant in changed:
            current = self.variants_by_id[variant.id]
            if variant.on_hand < current.reserved:
                raise BelowReserved(variant.id)
        self.products_by_id[product.id] = product
        for variant in changed:
            reserved = self.variants_by_id[variant.id].reserved
            self.variants_by_id[variant.id] = variant.model_copy(
                update={"reserved": reserved, "available": variant.on_hand - reserved}
            )
        self.variants_by_id.update({v.id: v for v in added})
        for variant_id in product.variant_ids if retitled else [v.id for v in changed + added]:
            titled = {"product_title": product.title}
            self.variants_by_id[variant_id] = self.variants_by_id[variant_id].model_copy(
                update=titled
            )


@dataclass
class FakePosts:
    posts_by_id: dict[str, Post] = field(default_factory=dict)
    media: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, post: Post) -> None:
        if post.id in self.posts_by_id:
            raise AlreadyExists(post.id)
        self.posts_by_id[post.id] = post

    def get(self, post_id: str) -> Post | None:
        return self.posts_by_id.get(post_id)

    def page(self, merchant_id: str, limit: int, cursor: str | None):
        ours = [p for p in self.posts_by_id.values() if p.merchant_id == merchant_id]
        return ours[:limit], None

    def set_publication(self, post_id: str, platform: str, publication: Publication) -> None:
        post = self.posts_by_id[post_id]
        publications = {**post.publications, platform: publication}
        self.posts_by_id[post_id] = post.model_copy(update={"publications": publications})

    def link_media(self, platform: str, media_id: str, post_id: str) -> None:
        self.media[(platform, media_id)] = post_id

    def for_media(self, platform: str, media_id: str) -> Post | None:
        post_id = self.media.get((platform, media_id))
        return self.posts_by_id.get(post_id) if post_id else None


@dataclass
class FakeOrders:
    """Orders and the stock they hold, in the products fake's variants."""

    products: FakeProducts
    orders_by_id: dict[str, Order] = field(default_factory=dict)
    intents: dict[str, str] = field(default_factory=dict)
    secret_digests: dict[str, str] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)  # written with their changes
    announced_refunded: dict[str, int] = field(default_factory=dict)
    open_checkouts: dict[str, int] = field(default_factory=dict)  # by hold key

    def event_types(self) -> list[str]:
        return [str(e.type) for e in self.outbox]

    def _move_stock(self, order: Order, move: StockMove) -> None:
        """All lines or none, as DynamoDB's transaction does."""
        variants = self.products.variants_by_id
        for index, line in enumerate(order.lines):
            variant = variants.get(line.variant_id)
            if variant is None or not can_move(variant, move, line.quantity):
                raise OutOfStock(index, line.variant_id)
        for line in order.lines:
            variants[line.variant_id] = moved(variants[line.variant_id], move, line.quantity)

    def place(
        self, order: Order, holds: list[Hold] | None = None, event: Event | None = None
    ) -> None:
        holds = holds or []
        assert [h.key for h in holds] == order.holds, "the order names the holds it takes"
        if order.id in self.orders_by_id:
            raise AlreadyExists(order.id)
        for index, hold in enumerate(holds):
            if self.open_checkouts.get(hold.key, 0) >= hold.cap:
                raise HoldLimitReached(index)
        self._move_stock(order, StockMove.RESERVE)
        for hold in holds:
            self.open_checkouts[hold.key] = self.open_checkouts.get(hold.key, 0) + 1
        self.orders_by_id[order.id] = order
        self.outbox += [event] if event else []

    def _release_holds(self, order: Order) -> None:
        for key in order.holds:
            self.open_checkouts[key] -= 1

    def attach_payment(
        self,
        order_id: str,
        intent_id: str,
        customer: BuyerRef,
        secret_digest: str,
        event: Event | None = None,
    ) -> None:
        self.outbox += [event] if event else []
        order = self.orders_by_id[order_id]
        self.orders_by_id[order_id] = order.model_copy(
            update={"payment_intent_id": intent_id, "customer": customer}
        )
        self.intents[intent_id] = order_id
        self.secret_digests[order_id] = secret_digest

    def checkout_access(self, order_id: str) -> CheckoutAccess | None:
        order = self.orders_by_id.get(order_id)
        if order is None:
            return None
        return CheckoutAccess(status=order.status, secret_digest=self.secret_digests.get(order_id))

    def discard(self, order: Order) -> None:
        stored = self.orders_by_id.get(order.id)
        if stored is None or stored.status != OrderStatus.PENDING_PAYMENT:
            raise ConcurrentUpdate(order.id)
        self._move_stock(order, StockMove.RELEASE)
        self._release_holds(stored)
        del self.orders_by_id[order.id]

    def get(self, order_id: str) -> Order | None:
        return self.orders_by_id.get(order_id)

    def for_payment_intent(self, intent_id: str) -> Order | None:
        order_id = self.intents.get(intent_id)
        return self.orders_by_id.get(order_id) if order_id else None

    def page(self, merchant_id, limit, cursor, status=None, created_from=None, created_to=None):
        ours = [
            o
            for o in self.orders_by_id.values()
            if o.merchant_id == merchant_id and (status is None or o.status == status)
        ]
        return ours[:limit], None

    def awaiting_payment_until(self, until: datetime) -> list[str]:
        return [
            o.id
            for o in self.orders_by_id.values()
            if o.status == OrderStatus.PENDING_PAYMENT and o.expires_at <= until
        ]

    def move(
        self,
        order: Order,
        change: StatusChange,
        sources: frozenset[OrderStatus],
        stock: StockMove | None = None,
        update: OrderUpdate | None = None,
        event: Event | None = None,
    ) -> None:
        stored = self.orders_by_id.get(order.id)
        if stored is None or stored.status not in sources:
            raise ConcurrentUpdate(order.id)
        if stock is not None:
            self._move_stock(order, stock)
        moved_on = transitioned(stored, change, update)
        if stored.status == OrderStatus.PENDING_PAYMENT and change.status != stored.status:
            self._release_holds(stored)
            moved_on = moved_on.model_copy(update={"holds": []})
        self.orders_by_id[order.id] = moved_on
        self.outbox += [event] if event else []

    def announce_refund(self, order_id: str, refunded: int, event: Event) -> bool:
        if self.announced_refunded.get(order_id, 0) >= refunded:
            return False
        self.announced_refunded[order_id] = refunded
        self.outbox.append(event)
        return True

    def add_refund(self, order: Order, amount: int, change: StatusChange) -> None:
        stored = self.orders_by_id[order.id]
        if stored.refundable < amount or stored.status not in PAID_STATES:
            raise ConcurrentUpdate(order.id)
        amounts = stored.amounts.model_copy(update={"refunded": stored.amounts.refunded + amount})
        self.orders_by_id[order.id] = transitioned(stored, change, OrderUpdate(amounts=amounts))

    def undo_refund(self, order: Order, amount: int, previous: OrderStatus, note: str) -> None:
        stored = self.orders_by_id[order.id]
        amounts = stored.amounts.model_copy(update={"refunded": stored.amounts.refunded - amount})
        self.orders_by_id[order.id] = stored.model_copy(
            update={"amounts": amounts, "status": previous, "notes": [*stored.notes, note]}
        )

    def record_refunded_total(self, order: Order, refunded: int, change: StatusChange) -> bool:
        stored = self.orders_by_id[order.id]
        if stored.amounts.refunded >= refunded:
            return False
        amounts = stored.amounts.model_copy(update={"refunded": refunded})
        self.orders_by_id[order.id] = transitioned(stored, change, OrderUpdate(amounts=amounts))
        return True

    def note(self, order_id: str, note: str) -> None:
        stored = self.orders_by_id[order_id]
        self.orders_by_id[order_id] = stored.model_copy(update={"notes": [*stored.notes, note]})

    def note_once(self, order_id: str, note: str) -> None:
        if note not in self.orders_by_id[order_id].notes:
            self.note(order_id, note)

    def _set_claim(self, order_id, field, claim, since, replaces) -> bool:
        stored = self.orders_by_id[order_id]
        held = getattr(stored, field)
        newer = held is None or getattr(held, since) < getattr(claim, since)
        if not newer and not (held.id == claim.id and str(held.status) in replaces):
            return False
        self.orders_by_id[order_id] = stored.model_copy(update={field: claim})
        return True

    def set_cancellation(self, order_id: str, request: CancellationRequest) -> bool:
        replaces = cancellation_statuses_before(request.status)
        return self._set_claim(order_id, "cancellation", request, "requested_at", replaces)

    def answer_cancellation(self, order_id, request, answered) -> bool:
        stored = self.orders_by_id[order_id]
        held = stored.cancellation
        if held is None or (held.id, held.status) != (request.id, request.status):
            return False
        self.orders_by_id[order_id] = stored.model_copy(update={"cancellation": answered})
        return True

    def set_dispute(self, order_id: str, dispute: PaymentDispute) -> bool:
        replaces = dispute_statuses_before(dispute.status)
        return self._set_claim(order_id, "dispute", dispute, "opened_at", replaces)


@dataclass
class FakePayments:
    """A payment provider that records what it was asked; `decline_next` refuses once."""

    intents: dict[str, PaymentIntent] = field(default_factory=dict)
    refunds: list[tuple[str, int, str]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    fail_next: Exception | None = None

    def _maybe_fail(self) -> None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error

    def create_payment_intent(self, amount, currency, metadata, idempotency_key) -> PaymentIntent:
        self._maybe_fail()
        intent_id = f"pi_{len(self.intents) + 1}"
        intent = PaymentIntent(intent_id, f"{intent_id}_secret", "requires_payment_method")
        self.intents[intent_id] = intent
        return intent

    def client_secret(self, intent_id: str) -> str:
        return self.intents[intent_id].client_secret

    def cancel_payment_intent(self, intent_id: str, idempotency_key: str) -> None:
        self._maybe_fail()
        self.cancelled.append(intent_id)

    def refund(self, intent_id: str, amount: int, idempotency_key: str) -> Refund:
        self._maybe_fail()
        self.refunds.append((intent_id, amount, idempotency_key))
        return Refund(f"re_{len(self.refunds)}", amount, "succeeded")


@dataclass
class FakeVault:
    """Tokens by email, as the vault's blind index finds a returning customer; each order's
    buyer details kept as its own snapshot, never changing the customer."""

    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    erased: set[str] = field(default_factory=set)
    snapshots: dict[str, CustomerCreate] = field(default_factory=dict)  # by order id
    created_by: dict[str, tuple[str, str]] = field(default_factory=dict)  # order id -> key

    def identify(
        self,
        caller: Caller,
        customer: CustomerCreate,
        order_id: str | None = None,
        consent: ConsentGiven | None = None,
    ) -> Tokenized:
        key = (caller.merchant_id, customer.email.strip().casefold())
        created = key not in self.tokens
        token = self.tokens.setdefault(key, f"cus_{len(self.tokens) + 1}")
        if order_id is not None:
            self.snapshots[order_id] = customer
            if created:
                self.created_by[order_id] = key
        masked = MaskedCustomer(email="c***@example.com", name=customer.name[:1] + "***")
        return Tokenized(token=token, masked=masked, created=created)

    def forget_order(self, caller: Caller, email: str, order_id: str) -> ForgottenOrder:
        key = (caller.merchant_id, email.strip().casefold())
        self.snapshots.pop(order_id, None)
        removed = self.created_by.pop(order_id, None) == key
        token = self.tokens.pop(key) if removed else self.tokens.get(key)
        return ForgottenOrder(token=token, order_id=order_id, customer_removed=removed)

    def describe(self, caller: Caller, tokens: list[str]) -> list[CustomerStatus]:
        return [
            CustomerStatus(token=t, status="erased" if t in self.erased else "active", masked=None)
            for t in tokens
        ]


@dataclass
class FakeCreators:
    by_id: dict[str, Creator] = field(default_factory=dict)

    def add(self, creator: Creator) -> None:
        if creator.id in self.by_id:
            raise AlreadyExists(creator.id)
        self.by_id[creator.id] = creator

    def get(self, creator_id: str) -> Creator | None:
        return self.by_id.get(creator_id)

    def page(self, merchant_id: str, limit: int, cursor: str | None):
        ours = [c for c in self.by_id.values() if c.merchant_id == merchant_id][::-1]
        return ours[:limit], None

    def replace(self, creator: Creator, read_at: datetime) -> None:
        if self.by_id[creator.id].updated_at != read_at:
            raise ConcurrentUpdate(creator.id)
        self.by_id[creator.id] = creator


@dataclass
class FakeReferrals:
    by_code: dict[tuple[str, str], Referral] = field(default_factory=dict)

    def add(self, referral: Referral) -> None:
        key = (referral.merchant_id, referral.code)
        if key in self.by_code:
            raise AlreadyExists(referral.code)
        self.by_code[key] = referral

    def find(self, merchant_id: str, codes: list[str]) -> list[Referral]:
        return [self.by_code[(merchant_id, c)] for c in dict.fromkeys(codes)
                if (merchant_id, c) in self.by_code]  # fmt: skip

    def get(self, merchant_id: str, code: str) -> Referral | None:
        return self.by_code.get((merchant_id, code))

    def of_creator(self, merchant_id: str, creator_id: str, limit: int, cursor: str | None):
        return [r for r in self.by_code.values() if r.creator_id == creator_id][:limit], None

    def set_active(self, merchant_id: str, code: str, active: bool) -> Referral | None:
        found = self.by_code.get((merchant_id, code))
        if found is None:
            return None
        self.by_code[(merchant_id, code)] = found.model_copy(update={"active": active})
        return self.by_code[(merchant_id, code)]


@dataclass
class FakeLedger:
    """The commission ledger's rules: an order's item is started once, moved only from the
    sequence it was read at, and each entry is keyed by its event."""

    commissions: dict[str, OrderCommission] = field(default_factory=dict)
    entries_by_id: dict[str, LedgerEntry] = field(default_factory=dict)

    def get(self, order_id: str) -> OrderCommission | None:
        return self.commissions.get(order_id)

    def earn(self, commission: OrderCommission, entry: LedgerEntry | None) -> bool:
        if commission.order_id in self.commissions or (entry and entry.id in self.entries_by_id):
            return False
        self.commissions[commission.order_id] = commission
        if entry is not None:
            self.entries_by_id[entry.id] = entry
        return True

    def adjust(self, commission, read_sequence: int, entry) -> bool:
        held = self.commissions.get(commission.order_id)
        if held is None or held.sequence != read_sequence:
            return False
        if entry is not None and entry.id in self.entries_by_id:
            return False
        self.commissions[commission.order_id] = commission
        if entry is not None:
            self.entries_by_id[entry.id] = entry
        return True

    def entries(self, creator_id: str, start: datetime, end: datetime) -> list[LedgerEntry]:
        found = [e for e in self.entries_by_id.values()
                 if e.creator_id == creator_id and start <= e.at < end]  # fmt: skip
        return sorted(found, key=lambda e: (e.at, e.id))


@dataclass
class FakeFunnel:
    """The funnel store's rules: capped visits, and order tallies moved from what was read."""

    cells_by_key: dict[tuple, CellCounts] = field(default_factory=dict)
    tallies: dict[str, OrderTally] = field(default_factory=dict)

    def _cell(self, merchant_id: str, cell) -> CellCounts:
        from chalicelib.domain.funnel import CellCounts

        return self.cells_by_key.setdefault((merchant_id, cell), CellCounts())

    def count_visit(self, merchant_id: str, cell, kind: str, cap: int) -> bool:
        counts = self._cell(merchant_id, cell)
        if getattr(counts, kind) >= cap:
            return False
        setattr(counts, kind, getattr(counts, kind) + 1)
        return True

    def tally(self, order_id: str) -> OrderTally | None:
        return self.tallies.get(order_id)

    def count_order(self, merchant_id, cell, counts, tally, read_sequence) -> bool:
        held = self.tallies.get(tally.order_id)
        if (held.sequence if held else None) != read_sequence:
            return False
        self.tallies[tally.order_id] = tally
        self._cell(merchant_id, cell).add(counts)
        return True

    def cells(self, merchant_id: str, start, end):
        return [(cell, counts) for (m, cell), counts in self.cells_by_key.items()
                if m == merchant_id and start <= cell.day <= end]  # fmt: skip


@dataclass
class FakeLimits:
    """A merchant's checkout limits: unset unless a test sets them."""

    by_merchant: dict[str, CheckoutSettings] = field(default_factory=dict)

    def checkout(self, merchant_id: str) -> CheckoutSettings:
        return self.by_merchant.get(merchant_id, CheckoutSettings())


class FakeDigests:
    """Digests that show what they digest (the real ones are keyed HMACs)."""

    def of(self, *parts: str | bytes) -> str:
        return "|".join(p if isinstance(p, str) else p.hex() for p in parts)
