"""The funnel's counters: one item per (day, post, platform, creator), a partition per
merchant and month, so a year's report is at most 13 queries and a busy merchant's writes
spread over its months.

A view or a click is one conditional `ADD` (capped per cell and day). An order event moves
the order's tally and its cell in one transaction, conditional on the tally as it was read
(its event `sequence`), so that an event applied twice, or an older one after a newer, counts
nothing.
"""

from datetime import date
from typing import Any

from ...domain.attribution import Channel
from ...domain.funnel import Cell, CellCounts, OrderTally, every_day
from . import keys
from .table import ConditionFailed, MainTable, model_item, without_keys

_COUNTERS = ("views", "clicks", "checkouts", "paid_orders")
_MONEY = ("revenue", "refunds")


def _cell_key(merchant_id: str, cell: Cell) -> dict:
    return keys.funnel_cell(
        merchant_id, cell.day.isoformat(), cell.post_id, cell.channel.value, cell.creator_id
    )


def _counter(name: str, currency: str | None = None) -> str:
    return f"{name}_{currency}" if currency else name


def _increments(counts: CellCounts) -> dict[str, int]:
    found = {name: getattr(counts, name) for name in _COUNTERS if getattr(counts, name)}
    for name in _MONEY:
        for currency, amount in getattr(counts, name).items():
            if amount:
                found[_counter(name, currency)] = amount
    return found


def _adds(increments: dict[str, int]) -> tuple[str, dict[str, str], dict[str, Any]]:
    names = {f"#c{n}": name for n, name in enumerate(increments)}
    values = {f":c{n}": amount for n, amount in enumerate(increments.values())}
    expression = "ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(increments)))
    return expression, names, values


def _parsed(item: dict[str, Any]) -> tuple[Cell, CellCounts]:
    day, post_id, channel, creator_id = item["sk"].split("#")
    counts = CellCounts(
        views=int(item.get("views", 0)),
        clicks=int(item.get("clicks", 0)),
        checkouts=int(item.get("checkouts", 0)),
        paid_orders=int(item.get("paid_orders", 0)),
    )
    for attribute, value in item.items():
        for name in _MONEY:
            if attribute.startswith(name + "_"):
                getattr(counts, name)[attribute.removeprefix(name + "_")] = int(value)
    cell = Cell(
        day=date.fromisoformat(day),
        post_id=None if post_id == "-" else post_id,
        channel=Channel(channel),
        creator_id=None if creator_id == "-" else creator_id,
    )
    return cell, counts


class FunnelRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def count_visit(self, merchant_id: str, cell: Cell, kind: str, cap: int) -> bool:
        """Add one view or click to the cell, unless it has `cap` already (False)."""
        assert kind in ("views", "clicks")
        try:
            self.table.update(
                _cell_key(merchant_id, cell),
                "ADD #n :one",
                "attribute_not_exists(#n) OR #n < :cap",
                names={"#n": kind},
                values={":one": 1, ":cap": cap},
            )
        except ConditionFailed:
            return False
        return True

    def tally(self, order_id: str) -> OrderTally | None:
        item = self.table.get(keys.funnel_order(order_id))
        return OrderTally.model_validate(without_keys(item)) if item else None

    def count_order(
        self,
        merchant_id: str,
        cell: Cell,
        counts: CellCounts,
        tally: OrderTally,
        read_sequence: int | None,
    ) -> bool:
        """Write the order's new `tally` and add `counts` to its cell, in one transaction, if
        the tally is still as read (`read_sequence`; None: there was none); else False."""
        tx = self.table.transaction()
        if read_sequence is None:
            condition, values = "attribute_not_exists(pk)", {}
        else:
            condition, values = "#seq = :read", {":read": read_sequence}
        tally_condition: dict[str, Any] = (
            {"names": {"#seq": "sequence"}, "values": values} if values else {}
        )
        tx.put(model_item(tally, keys.funnel_order(tally.order_id)), condition, **tally_condition)
        increments = _increments(counts)
        if increments:
            expression, names, adds = _adds(increments)
            tx.update(_cell_key(merchant_id, cell), expression, names=names, values=adds)
        try:
            self.table.commit(tx)
        except ConditionFailed:
            return False
        return True

    def cells(self, merchant_id: str, start: date, end: date) -> list[tuple[Cell, CellCounts]]:
        months = sorted({day.isoformat()[:7] for day in every_day(start, end)})
        found = []
        for month in months:
            items = self.table.query_between(
                keys.funnel_partition(merchant_id, month),
                start.isoformat(),
                end.isoformat() + "#\uffff",
            )
            found += [_parsed(item) for item in items]
        return found
