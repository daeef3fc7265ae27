"""The funnel: what each post, platform and creator turns into, day by day.

    views ─▶ hotspot clicks ─▶ checkouts started ─▶ paid orders ─▶ revenue, refunds

Views and clicks come from the storefront widget's beacon (public, no cookies, nothing about
the shopper); checkouts, payments and refunds from the order events of the outbox. Each is
counted in one cell per (day, post, platform, creator), days in UTC; a report adds up the
cells of a date range by post, by platform or by creator.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from .attribution import Channel, ReferralCode
from .base import Model
from .fields import ObjectId
from .money import Currency, Money, to_decimal_string

MAX_DAYS = 366
DEFAULT_DAYS = 30
# A cell counts at most this many views (and as many clicks) a day: a caller replaying the
# beacon can saturate its own post's cell, never the table or another merchant's numbers.
DAILY_CAP = 100_000

GroupBy = Literal["post", "platform", "creator"]


class BeaconRequest(Model):
    """What the widget reports: a post was seen, or one of its hotspots clicked. Nothing about
    the shopper: no id, no cookie, no address is read or kept."""

    model_config = ConfigDict(extra="forbid")

    post_id: ObjectId
    kind: Literal["view", "click"]
    ref: ReferralCode | None = Field(None, description="the `ref` of the page's URL, if any")
    platform: Channel | None = Field(None, description="where the shopper came from, if known")


class BeaconAnswer(Model):
    object: Literal["beacon"] = "beacon"
    received: Literal[True] = True


@dataclass(frozen=True)
class Cell:
    """One counter row: a day, and the post, platform and creator it is about."""

    day: date
    post_id: str | None
    channel: Channel
    creator_id: str | None


@dataclass
class CellCounts:
    views: int = 0
    clicks: int = 0
    checkouts: int = 0
    paid_orders: int = 0
    revenue: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    refunds: dict[str, int] = field(default_factory=dict)

    def add(self, other: "CellCounts") -> None:
        self.views += other.views
        self.clicks += other.clicks
        self.checkouts += other.checkouts
        self.paid_orders += other.paid_orders
        for mine, theirs in ((self.revenue, other.revenue), (self.refunds, other.refunds)):
            for currency, amount in theirs.items():
                mine[currency] = mine.get(currency, 0) + amount


class DayRangeQuery(Model):
    """Days in UTC, both included: `from` defaults to 29 days before `to`, `to` to today."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: date | None = Field(None, alias="from", description="first day (UTC)")
    end: date | None = Field(None, alias="to", description="last day (UTC), included")

    @model_validator(mode="after")
    def _range(self) -> "DayRangeQuery":
        if self.start and self.end and self.start > self.end:
            raise ValueError("`from` must not be after `to`")
        if self.start and self.end and (self.end - self.start).days >= MAX_DAYS:
            raise ValueError(f"a range covers at most {MAX_DAYS} days")
        return self

    def days(self, today: date) -> tuple[date, date]:
        end = self.end or today
        start = self.start or end - timedelta(days=DEFAULT_DAYS - 1)
        if (end - start).days >= MAX_DAYS:
            start = end - timedelta(days=MAX_DAYS - 1)
        return start, end


class FunnelQuery(DayRangeQuery):
    group_by: GroupBy = "post"
    currency: Currency | None = Field(
        None, description="revenue and refunds in this currency (default: the merchant's)"
    )


class FunnelCounts(Model):
    views: int
    clicks: int
    checkouts: int
    paid_orders: int
    revenue: Money
    refunds: Money


class FunnelRow(FunnelCounts):
    key: str | None = Field(description="the post id, platform or creator id; null: none")


class FunnelDay(FunnelCounts):
    day: date


class FunnelReport(Model):
    object: Literal["funnel"] = "funnel"
    group_by: GroupBy
    start: date
    end: date
    currency: str
    totals: FunnelCounts
    rows: list[FunnelRow] = Field(description="by group, most revenue first")
    days: list[FunnelDay] = Field(description="every day of the range, in order")


def key_of(cell: Cell, group_by: GroupBy) -> str | None:
    if group_by == "post":
        return cell.post_id
    if group_by == "platform":
        return cell.channel.value
    return cell.creator_id


def _counts(sums: CellCounts, currency: str) -> dict[str, Any]:
    return {
        "views": sums.views,
        "clicks": sums.clicks,
        "checkouts": sums.checkouts,
        "paid_orders": sums.paid_orders,
        "revenue": Money(amount=sums.revenue.get(currency, 0), currency=currency),
        "refunds": Money(amount=sums.refunds.get(currency, 0), currency=currency),
    }


def every_day(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def funnel_report(
    cells: list[tuple[Cell, CellCounts]], group_by: GroupBy, start: date, end: date, currency: str
) -> FunnelReport:
    total = CellCounts()
    groups: dict[str | None, CellCounts] = {}
    days = {day: CellCounts() for day in every_day(start, end)}
    for cell, counts in cells:
        if not start <= cell.day <= end:
            continue
        total.add(counts)
        groups.setdefault(key_of(cell, group_by), CellCounts()).add(counts)
        days[cell.day].add(counts)
    rows = [FunnelRow(key=key, **_counts(sums, currency)) for key, sums in groups.items()]
    rows.sort(key=lambda r: (-r.revenue.amount, -r.paid_orders, -r.views, r.key or "\uffff"))
    return FunnelReport(
        group_by=group_by,
        start=start,
        end=end,
        currency=currency,
        totals=FunnelCounts(**_counts(total, currency)),
        rows=rows,
        days=[FunnelDay(day=day, **_counts(sums, currency)) for day, sums in days.items()],
    )


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def funnel_csv(
    cells: list[tuple[Cell, CellCounts]], group_by: GroupBy, start: date, end: date, currency: str
) -> str:
    """One line per day and group, amounts as exact decimals in `currency`."""
    by_day: dict[tuple[date, str], CellCounts] = {}
    for cell, counts in cells:
        if start <= cell.day <= end:
            by_day.setdefault((cell.day, key_of(cell, group_by) or ""), CellCounts()).add(counts)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "day",
            group_by,
            "views",
            "clicks",
            "checkouts",
            "paid_orders",
            "currency",
            "revenue",
            "refunds",
        ]
    )
    for (day, key), sums in sorted(by_day.items()):
        writer.writerow(
            [
                day.isoformat(),
                spreadsheet_safe(key),
                sums.views,
                sums.clicks,
                sums.checkouts,
                sums.paid_orders,
                currency,
                to_decimal_string(sums.revenue.get(currency, 0), currency),
                to_decimal_string(sums.refunds.get(currency, 0), currency),
            ]
        )
    return out.getvalue()


def utc_day(moment: datetime) -> date:
    """The UTC day of a moment (a naive time is taken as UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


class OrderTally(Model):
    """What the funnel has counted of one order, as of its event `sequence`: its checkout,
    its payment (once, however often it is paid again after a dispute), and its refunds (a
    running total, so each refund event adds only what is new)."""

    model_config = ConfigDict(extra="forbid")

    order_id: str
    sequence: int
    checkout: bool = False
    paid: bool = False
    refunded: int = 0
