"""Orders and the stock they hold.

Every change of an order's status is conditional on the statuses it may come from, and moves
stock in the same transaction, so that the order and the inventory never disagree:

    reserve  (checkout)           available -= q, reserved += q   if available >= q
    commit   (paid)               reserved -= q, on_hand -= q
    release  (failed, expired)    available += q, reserved -= q
    reclaim  (late payment)       available -= q, on_hand -= q    if available >= q
    restock  (paid, cancelled)    available += q, on_hand += q
"""

from enum import StrEnum
from typing import Any

from ...domain.orders import BuyerRef, Order, OrderLine, OrderStatus, StatusChange
from . import keys
from .table import ConditionFailed, MainTable, Transaction, model_item, without_keys

ORDERS = "ORDERS"


class StockMove(StrEnum):
    RESERVE = "reserve"
    COMMIT = "commit"
    RELEASE = "release"
    RECLAIM = "reclaim"
    RESTOCK = "restock"


_MOVES: dict[StockMove, tuple[str, str | None]] = {
    StockMove.RESERVE: (
        "SET available = available - :q, reserved = reserved + :q",
        "available >= :q",
    ),
    StockMove.COMMIT: ("SET reserved = reserved - :q, on_hand = on_hand - :q", None),
    StockMove.RELEASE: ("SET available = available + :q, reserved = reserved - :q", None),
    StockMove.RECLAIM: (
        "SET available = available - :q, on_hand = on_hand - :q",
        "available >= :q",
    ),
    StockMove.RESTOCK: ("SET available = available + :q, on_hand = on_hand + :q", None),
}


def _move_stock(tx: Transaction, lines: list[OrderLine], move: StockMove) -> None:
    update, condition = _MOVES[move]
    for line in lines:
        tx.update(
            keys.variant(line.variant_id),
            update,
            "attribute_exists(pk)" + (f" AND {condition}" if condition else ""),
            values={":q": line.quantity},
        )


class OrderRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def place(self, order: Order) -> None:
        """Write the order and reserve every line's stock, all or nothing.

        On ConditionFailed, `failed_indexes()` minus one are the lines out of stock.
        """
        tx = self.table.transaction()
        listing = keys.listing_entry(order.merchant_id, ORDERS, order.created_at.isoformat(),
                                     order.id)  # fmt: skip
        due = keys.awaiting_payment(order.id, order.expires_at.isoformat())
        item = model_item(order, {**keys.order(order.id), **listing, **due})
        item["refundable"] = order.refundable
        tx.put(item, "attribute_not_exists(pk)")
        _move_stock(tx, order.lines, StockMove.RESERVE)
        self.table.commit(tx)

    def attach_payment(self, order_id: str, intent_id: str, customer: BuyerRef) -> None:
        tx = self.table.transaction()
        tx.update(
            keys.order(order_id), "SET payment_intent_id = :pi, customer = :customer",
            "attribute_exists(pk)",
            values={":pi": intent_id, ":customer": customer.model_dump()},
        )  # fmt: skip
        tx.put({**keys.payment_intent(intent_id), "order_id": order_id})
        self.table.commit(tx)

    def discard(self, order: Order) -> None:
        """Undo `place` for an order whose checkout failed before the buyer could pay."""
        tx = self.table.transaction()
        tx.delete(keys.order(order.id), "#status = :pending", names={"#status": "status"},
                  values={":pending": OrderStatus.PENDING_PAYMENT.value})  # fmt: skip
        _move_stock(tx, order.lines, StockMove.RELEASE)
        self.table.commit(tx)

    def get(self, order_id: str) -> Order | None:
        item = self.table.get(keys.order(order_id))
        return _order(item) if item else None

    def for_payment_intent(self, intent_id: str) -> Order | None:
        pointer = self.table.get(keys.payment_intent(intent_id))
        return self.get(pointer["order_id"]) if pointer else None

    def page(
        self,
        merchant_id: str,
        limit: int,
        cursor: str | None,
        status: str | None = None,
        created_from: str | None = None,
        created_to: str | None = None,
    ) -> tuple[list[Order], str | None]:
        page = self.table.query_listing(
            keys.merchant_listing(merchant_id, ORDERS), limit, cursor,
            created_from=created_from, created_to=created_to, status=status,
        )  # fmt: skip
        return [_order(i) for i in page.items], page.next_cursor

    def awaiting_payment_until(self, until: str) -> list[str]:
        """Ids of orders whose reservation expired at or before `until`."""
        ids: list[str] = []
        for partition in keys.awaiting_payment_partitions():
            ids += [i["pk"].removeprefix("ORD#") for i in self.table.due(partition, until)]
        return ids

    def move(
        self,
        order: Order,
        change: StatusChange,
        sources: frozenset[OrderStatus],
        stock: StockMove | None = None,
        sets: dict[str, Any] | None = None,
    ) -> None:
        """Move the order to `change.status` if it is still in one of `sources`.

        `sets` are further top-level attributes to write. Raises ConditionFailed when the
        order is in another status (index 0) or a line's stock is short (index 1 + line).
        """
        values: dict[str, Any] = {":status": change.status.value,
                                  ":change": [change.model_dump(mode="json")]}  # fmt: skip
        assignments = ["#status = :status", "history = list_append(history, :change)"]
        names = {"#status": "status"}
        for n, (name, value) in enumerate((sets or {}).items()):
            assignments.append(f"#set{n} = :set{n}")
            names[f"#set{n}"] = name
            values[f":set{n}"] = value
        source_values = {f":from{n}": s.value for n, s in enumerate(sorted(sources))}
        values |= source_values
        update = "SET " + ", ".join(assignments)
        if change.status != OrderStatus.PENDING_PAYMENT:
            update += " REMOVE gsi2pk, gsi2sk"
        tx = self.table.transaction()
        tx.update(
            keys.order(order.id),
            update,
            f"#status IN ({', '.join(source_values)})",
            names=names,
            values=values,
        )
        if stock is not None:
            _move_stock(tx, order.lines, stock)
        self.table.commit(tx)

    def add_refund(self, order: Order, amount: int, change: StatusChange) -> None:
        """Count `amount` as refunded if that much is still refundable and the order is paid."""
        self.table.update(
            keys.order(order.id),
            "SET amounts.refunded = amounts.refunded + :a, refundable = refundable - :a,"
            " #status = :status, history = list_append(history, :change)",
            "refundable >= :a AND #status IN (:paid, :fulfilled, :delivered, :partial)",
            names={"#status": "status"},
            values={":a": amount, ":status": change.status.value,
                    ":change": [change.model_dump(mode="json")], ":paid": "paid",
                    ":fulfilled": "fulfilled", ":delivered": "delivered",
                    ":partial": "partially_refunded"},
        )  # fmt: skip

    def undo_refund(self, order: Order, amount: int, previous: OrderStatus, note: str) -> None:
        """Give back a refund reservation whose Stripe refund failed."""
        self.table.update(
            keys.order(order.id),
            "SET amounts.refunded = amounts.refunded - :a, refundable = refundable + :a,"
            " #status = :previous, notes = list_append(notes, :note)",
            names={"#status": "status"},
            values={":a": amount, ":previous": previous.value, ":note": [note]},
        )

    def record_refunded_total(self, order: Order, refunded: int, change: StatusChange) -> bool:
        """Raise the refunded total to Stripe's figure; False if it was already that high."""
        try:
            self.table.update(
                keys.order(order.id),
                "SET amounts.refunded = :r, refundable = :left, #status = :status,"
                " history = list_append(history, :change)",
                "amounts.refunded < :r",
                names={"#status": "status"},
                values={":r": refunded, ":left": max(order.amounts.total - refunded, 0),
                        ":status": change.status.value,
                        ":change": [change.model_dump(mode="json")]},
            )  # fmt: skip
        except ConditionFailed:
            return False
        return True

    def note(self, order_id: str, note: str) -> None:
        self.table.update(keys.order(order_id), "SET notes = list_append(notes, :n)",
                          values={":n": [note]})  # fmt: skip


def _order(item: dict) -> Order:
    body = without_keys(item)
    body.pop("refundable", None)
    return Order.model_validate(body)
