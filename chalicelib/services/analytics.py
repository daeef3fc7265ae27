"""The funnel: views and hotspot clicks from the storefront's beacon, checkouts, payments and
refunds from the outbox's order events, counted per day, post, platform and creator.

The beacon is public and anonymous, so anyone can call it. What it can do is bounded: the post
must exist and be visible, a `ref` counts only if it is one of the post's merchant's (and
active), nothing about the caller is read or kept (no cookie, no address, no id), each cell
counts at most `daily_cap` views and as many clicks a day, and the deployed API throttles the
route with the other public ones. A competitor replaying it can inflate one post's views up
to the cap; never the orders, revenue or commissions, which only order events move.

The order side is a consumer of the outbox's events (services/outbound.py): each order's tally
keeps the sequence of the last event counted, so a replayed event counts nothing.
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ..domain.attribution import Channel, Referral, channel_of
from ..domain.charts import funnel_svg
from ..domain.errors import ConcurrentUpdate
from ..domain.funnel import (
    DAILY_CAP,
    BeaconAnswer,
    BeaconRequest,
    Cell,
    CellCounts,
    FunnelQuery,
    FunnelReport,
    OrderTally,
    funnel_csv,
    funnel_report,
    utc_day,
)
from ..domain.merchants import Merchant
from ..domain.outbound import Event, EventType, OrderEventData
from ..observability import count
from .ports import Clock
from .posts import PostStore, visible_post_of

_ATTEMPTS = 3


class FunnelStore(Protocol):
    def count_visit(self, merchant_id: str, cell: Cell, kind: str, cap: int) -> bool:
        """Add one view or click to the cell unless it reached `cap` (then False)."""
        ...

    def tally(self, order_id: str) -> OrderTally | None: ...

    def count_order(
        self,
        merchant_id: str,
        cell: Cell,
        counts: CellCounts,
        tally: OrderTally,
        read_sequence: int | None,
    ) -> bool:
        """Write `tally` and add `counts` to the cell, if the tally is as read; else False."""
        ...

    def cells(self, merchant_id: str, start: date, end: date) -> list[tuple[Cell, CellCounts]]:
        """Every cell of the merchant's days from `start` to `end`, both included."""
        ...


class ReferralFinder(Protocol):
    def find(self, merchant_id: str, codes: list[str]) -> list[Referral]: ...


class MerchantReader(Protocol):
    def get(self, merchant_id: str) -> Merchant | None: ...


@dataclass(frozen=True)
class Analytics:
    """What the funnel's use cases need, wired by the composition root."""

    funnel: FunnelStore
    posts: PostStore
    referrals: ReferralFinder
    merchants: MerchantReader
    clock: Clock
    daily_cap: int = DAILY_CAP


# The beacon


def record_beacon(analytics: Analytics, request: BeaconRequest) -> BeaconAnswer:
    post = visible_post_of(analytics.posts, request.post_id, param="post_id")
    creator_id, channel = post.creator_id, request.platform or Channel.WEB
    if request.ref is not None:
        found = analytics.referrals.find(post.merchant_id, [request.ref])
        if found and found[0].active:
            creator_id = found[0].creator_id
            channel = found[0].platform or channel
    cell = Cell(
        day=utc_day(analytics.clock.now()), post_id=post.id, channel=channel, creator_id=creator_id
    )
    kind = "views" if request.kind == "view" else "clicks"
    if not analytics.funnel.count_visit(post.merchant_id, cell, kind, analytics.daily_cap):
        count("FunnelBeaconsCapped", kind=kind)
    return BeaconAnswer()


# Reports


def _currency(analytics: Analytics, merchant_id: str, query: FunnelQuery) -> str:
    if query.currency:
        return query.currency
    merchant = analytics.merchants.get(merchant_id)
    return merchant.default_currency if merchant else "EUR"


def report(analytics: Analytics, merchant_id: str, query: FunnelQuery) -> FunnelReport:
    start, end = query.days(utc_day(analytics.clock.now()))
    cells = analytics.funnel.cells(merchant_id, start, end)
    return funnel_report(
        cells, query.group_by, start, end, _currency(analytics, merchant_id, query)
    )


def report_csv(analytics: Analytics, merchant_id: str, query: FunnelQuery) -> str:
    start, end = query.days(utc_day(analytics.clock.now()))
    cells = analytics.funnel.cells(merchant_id, start, end)
    return funnel_csv(cells, query.group_by, start, end, _currency(analytics, merchant_id, query))


def report_svg(analytics: Analytics, merchant_id: str, query: FunnelQuery) -> str:
    return funnel_svg(report(analytics, merchant_id, query))


# The order side: a consumer of the outbox's order events


def funnel_on_order_event(analytics: Analytics, event: Event) -> None:
    """Count an order's checkout (`order.created`), its payment (once, with its revenue) and
    what is newly refunded, in its cell of the event's day."""
    if not event.type.value.startswith("order.") or event.sequence is None:
        return
    data = OrderEventData.model_validate(event.data)
    for _ in range(_ATTEMPTS):
        tally = analytics.funnel.tally(data.order_id)
        if tally is not None and event.sequence <= tally.sequence:
            return  # counted already, or older than what was counted
        counted = tally or OrderTally(order_id=data.order_id, sequence=0)
        counts, moved = _counts(event, data, counted)
        if tally is not None and not _any(counts):
            return  # nothing new to count (a repeat of this event would find the same)
        cell = Cell(
            day=utc_day(event.timestamp),
            post_id=data.post_id,
            channel=channel_of(data.source, data.attribution),
            creator_id=data.attribution.creator_id if data.attribution else None,
        )
        read = tally.sequence if tally is not None else None
        if analytics.funnel.count_order(event.merchant_id, cell, counts, moved, read):
            return
    raise ConcurrentUpdate(f"the funnel tally of {data.order_id} kept changing")


def _counts(event: Event, data: OrderEventData, tally: OrderTally) -> tuple[CellCounts, OrderTally]:
    counts = CellCounts()
    changes: dict[str, object] = {"sequence": event.sequence}
    paid = event.type == EventType.ORDER_PAID
    if (event.type == EventType.ORDER_CREATED or paid) and not tally.checkout:
        counts.checkouts = 1  # a platform's order is paid with no checkout here before it
        changes["checkout"] = True
    if paid and not tally.paid:
        counts.paid_orders = 1
        counts.revenue[data.currency] = data.total
        changes["paid"] = True
    if data.refunded > tally.refunded:
        counts.refunds[data.currency] = data.refunded - tally.refunded
        changes["refunded"] = data.refunded
    return counts, tally.model_copy(update=changes)


def _any(counts: CellCounts) -> bool:
    return bool(counts.checkouts or counts.paid_orders or counts.revenue or counts.refunds)
