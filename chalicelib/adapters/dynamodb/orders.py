"""Orders and the stock they hold.

Every change of an order's status is conditional on the statuses it may come from, and moves
its lines' stock in the same transaction (the moves are the domain's, `domain/inventory.py`),
so that the order and the inventory never disagree. A failed condition comes back as the
domain's refusal: `OutOfStock` naming the line, `ConcurrentUpdate`, `AlreadyExists`,
`HoldLimitReached`.

An unpaid checkout may also count in hold counters (`HOLD#<digest>`: its client's, its
buyer's), raised when it is placed, if still under the merchant's cap, and lowered in the same
transaction as its first move away from `pending_payment` (the order's `holds` go with it, so
a counter is lowered once whatever moves the order).
"""

from contextlib import suppress
from datetime import datetime
from typing import Any

from ...domain.claims import (
    CancellationRequest,
    PaymentDispute,
    cancellation_statuses_before,
    dispute_statuses_before,
)
from ...domain.errors import AlreadyExists, ConcurrentUpdate, HoldLimitReached, OutOfStock
from ...domain.inventory import STOCK_CHANGES, StockMove, counter_deltas
from ...domain.orders import (
    BuyerRef,
    CheckoutAccess,
    Hold,
    Order,
    OrderLine,
    OrderStatus,
    OrderUpdate,
    StatusChange,
)
from ...domain.outbound import Event
from . import keys
from .customer_refs import ORDER, add_ref
from .outbox import add_event
from .table import ConditionFailed, MainTable, Transaction, model_item, without_keys

ORDERS = "ORDERS"
SECRET_DIGEST = "client_secret_sha256"  # noqa: S105 (an attribute name)


def _move_stock(
    tx: Transaction, lines: list[OrderLine], move: StockMove, backorder: bool = False
) -> None:
    """One update per line, in line order: item `first + n` of the transaction is line n.
    Each raises the variant's `stock_version` (channels order their pushes by it).
    `backorder`: take the units even if they are not available (available goes below zero)."""
    for line in lines:
        deltas = counter_deltas(move, line.quantity)
        update = "SET " + ", ".join(f"{name} = {name} + :{name}" for name in deltas)
        update += ", stock_version = if_not_exists(stock_version, :zero) + :one"
        condition = "attribute_exists(pk)"
        values: dict[str, Any] = {f":{name}": delta for name, delta in deltas.items()}
        values.update({":zero": 0, ":one": 1})
        if STOCK_CHANGES[move].needs_available and not backorder:
            condition += " AND available >= :q"
            values[":q"] = line.quantity
        tx.update(keys.variant(line.variant_id), update, condition, values=values)


# A hold counter outlives the longest hold by a day, then the table's TTL removes it.
_HOLD_TTL_SECONDS = 2 * 24 * 3600


def _take_holds(tx: Transaction, holds: list[Hold], now: int) -> None:
    for hold in holds:
        tx.update(
            keys.checkout_hold(hold.key),
            "ADD open_checkouts :one SET #ttl = :ttl",
            "attribute_not_exists(open_checkouts) OR open_checkouts < :cap",
            names={"#ttl": "ttl"},
            values={":one": 1, ":cap": hold.cap, ":ttl": now + _HOLD_TTL_SECONDS},
        )


def _release_holds(tx: Transaction, order: Order) -> None:
    for key in order.holds:
        tx.update(keys.checkout_hold(key), "ADD open_checkouts :minus", values={":minus": -1})


def _releases_holds(order: Order, change: StatusChange) -> bool:
    return (
        bool(order.holds)
        and order.status == OrderStatus.PENDING_PAYMENT
        and change.status != OrderStatus.PENDING_PAYMENT
    )


def _refused(failed: ConditionFailed, order: Order, first_line: int) -> Exception:
    """What a failed transaction of `order` means: the order's own item is first (it exists
    already, or is no longer in the status the change needs), the lines follow."""
    indexes = failed.failed_indexes()
    lines = [i - first_line for i in indexes if first_line <= i < first_line + len(order.lines)]
    if 0 in indexes or not lines:
        return ConcurrentUpdate(f"{order.id} changed meanwhile")
    return OutOfStock(lines[0], order.lines[lines[0]].variant_id)


class OrderRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def place(
        self,
        order: Order,
        holds: list[Hold] | None = None,
        event: Event | None = None,
        backorder: bool = False,
    ) -> None:
        """Write the order, reserve every line's stock and count it in each hold, all or
        nothing (with `event`); `backorder`: even the units no longer available."""
        holds = holds or []
        assert [h.key for h in holds] == order.holds, "the order names the holds it takes"
        tx = self.table.transaction()
        listing = keys.listing_entry(order.merchant_id, ORDERS, order.created_at.isoformat(),
                                     order.id)  # fmt: skip
        due = keys.awaiting_payment(order.id, order.expires_at.isoformat())
        item = model_item(order, {**keys.order(order.id), **listing, **due})
        item["refundable"] = order.refundable
        tx.put(item, "attribute_not_exists(pk)")
        _move_stock(tx, order.lines, StockMove.RESERVE, backorder)
        _take_holds(tx, holds, int(order.created_at.timestamp()))
        if event is not None:  # last: the failure positions above stay as they were
            add_event(tx, event)
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            indexes = failed.failed_indexes()
            if 0 in indexes:
                raise AlreadyExists(order.id) from failed
            first_hold = 1 + len(order.lines)
            if all(first_hold <= i < first_hold + len(holds) for i in indexes):
                raise HoldLimitReached(indexes[0] - first_hold) from failed
            raise _refused(failed, order, first_line=1) from failed

    def attach_payment(
        self,
        order_id: str,
        intent_id: str,
        customer: BuyerRef,
        secret_digest: str,
        event: Event | None = None,
    ) -> None:
        """`secret_digest` (of the PaymentIntent's client_secret) lets the buyer read the
        checkout's status later; it is kept beside the order, never part of it."""
        tx = self.table.transaction()
        tx.update(
            keys.order(order_id),
            f"SET payment_intent_id = :pi, customer = :customer, {SECRET_DIGEST} = :digest",
            "attribute_exists(pk)",
            values={":pi": intent_id, ":customer": customer.model_dump(), ":digest": secret_digest},
        )  # fmt: skip
        tx.put({**keys.payment_intent(intent_id), "order_id": order_id})
        add_ref(tx, customer.token, ORDER, order_id)  # for erasure to find
        if event is not None:
            add_event(tx, event)
        self.table.commit(tx)

    def discard(self, order: Order) -> None:
        """Undo `place` for an order whose checkout failed before the buyer could pay."""
        tx = self.table.transaction()
        tx.delete(keys.order(order.id), "#status = :pending", names={"#status": "status"},
                  values={":pending": OrderStatus.PENDING_PAYMENT.value})  # fmt: skip
        _move_stock(tx, order.lines, StockMove.RELEASE)
        _release_holds(tx, order)
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise ConcurrentUpdate(f"{order.id} is no longer awaiting payment") from failed

    def get(self, order_id: str) -> Order | None:
        item = self.table.get(keys.order(order_id))
        return _order(item) if item else None

    def checkout_access(self, order_id: str) -> CheckoutAccess | None:
        item = self.table.get(keys.order(order_id))
        if item is None:
            return None
        return CheckoutAccess(
            status=OrderStatus(item["status"]), secret_digest=item.get(SECRET_DIGEST)
        )

    def for_payment_intent(self, intent_id: str) -> Order | None:
        pointer = self.table.get(keys.payment_intent(intent_id))
        return self.get(pointer["order_id"]) if pointer else None

    def page(
        self,
        merchant_id: str,
        limit: int,
        cursor: str | None,
        status: OrderStatus | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> tuple[list[Order], str | None]:
        page = self.table.query_listing(
            keys.merchant_listing(merchant_id, ORDERS), limit, cursor,
            created_from=created_from.isoformat() if created_from else None,
            created_to=created_to.isoformat() if created_to else None,
            status=status.value if status else None,
        )  # fmt: skip
        return [_order(i) for i in page.items], page.next_cursor

    def awaiting_payment_until(self, until: datetime) -> list[str]:
        """Ids of orders whose reservation expired at or before `until`."""
        ids: list[str] = []
        for partition in keys.awaiting_payment_partitions():
            due = self.table.due(partition, until.isoformat())
            ids += [i["pk"].removeprefix("ORD#") for i in due]
        return ids

    def move(
        self,
        order: Order,
        change: StatusChange,
        sources: frozenset[OrderStatus],
        stock: StockMove | None = None,
        update: OrderUpdate | None = None,
        event: Event | None = None,
    ) -> None:
        """Move the order to `change.status` if it is still in one of `sources`, with
        `update`'s fields, `stock` applied to its lines and `event` in the outbox, in the same
        transaction."""
        values: dict[str, Any] = {":status": change.status.value,
                                  ":change": [change.model_dump(mode="json")]}  # fmt: skip
        assignments = ["#status = :status", "history = list_append(history, :change)"]
        names = {"#status": "status"}
        fields = update.model_dump(mode="json", include=update.model_fields_set) if update else {}
        if update is not None and update.amounts is not None:
            fields["refundable"] = update.amounts.total - update.amounts.refunded
        for n, (name, value) in enumerate(fields.items()):
            assignments.append(f"#set{n} = :set{n}")
            names[f"#set{n}"] = name
            values[f":set{n}"] = value
        source_values = {f":from{n}": s.value for n, s in enumerate(sorted(sources))}
        values |= source_values
        expression = "SET " + ", ".join(assignments)
        condition = f"#status IN ({', '.join(source_values)})"
        releases = _releases_holds(order, change)
        if change.status != OrderStatus.PENDING_PAYMENT:
            expression += " REMOVE gsi2pk, gsi2sk" + (", holds" if releases else "")
        if releases:  # still holding (an order read before another move has none to give)
            condition += " AND attribute_exists(holds)"
        tx = self.table.transaction()
        tx.update(keys.order(order.id), expression, condition, names=names, values=values)
        if stock is not None:
            _move_stock(tx, order.lines, stock)
        if releases:
            _release_holds(tx, order)
        if update is not None and update.customer is not None:
            add_ref(tx, update.customer.token, ORDER, order.id)  # for erasure to find
        if event is not None:  # last: the failure positions above stay as they were
            add_event(tx, event)
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise _refused(failed, order, first_line=1) from failed

    def add_refund(self, order: Order, amount: int, change: StatusChange) -> None:
        """Count `amount` as refunded if that much is still refundable and the order is paid."""
        try:
            self._add_refund(order, amount, change)
        except ConditionFailed as failed:
            raise ConcurrentUpdate(f"{order.id} changed meanwhile") from failed

    def _add_refund(self, order: Order, amount: int, change: StatusChange) -> None:
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

    def announce_refund(self, order_id: str, refunded: int, event: Event) -> bool:
        """Put `event` in the outbox unless refunds up to `refunded` were announced already
        (`announced_refunded` on the order's item, in the same write)."""
        tx = self.table.transaction()
        tx.update(
            keys.order(order_id), "SET announced_refunded = :r",
            "attribute_exists(pk) AND (attribute_not_exists(announced_refunded)"
            " OR announced_refunded < :r)",
            values={":r": refunded},
        )  # fmt: skip
        add_event(tx, event)
        try:
            self.table.commit(tx)
        except ConditionFailed:
            return False
        return True

    def note(self, order_id: str, note: str) -> None:
        self.table.update(keys.order(order_id), "SET notes = list_append(notes, :n)",
                          values={":n": [note]})  # fmt: skip

    def note_once(self, order_id: str, note: str) -> None:
        with suppress(ConditionFailed):  # noted already
            self.table.update(
                keys.order(order_id), "SET notes = list_append(notes, :n)",
                "attribute_exists(pk) AND NOT contains(notes, :note)",
                values={":n": [note], ":note": note},
            )  # fmt: skip

    # Claims: each kept only if it is newer than, or a later stage of, the one held.

    def set_cancellation(self, order_id: str, request: CancellationRequest) -> bool:
        before = cancellation_statuses_before(request.status)
        return self._set_claim(
            order_id, "cancellation", request.model_dump(mode="json"),
            newer=("requested_at", request.requested_at.isoformat()), claim_id=request.id,
            replaces=before,
        )  # fmt: skip

    def answer_cancellation(
        self, order_id: str, request: CancellationRequest, answered: CancellationRequest
    ) -> bool:
        try:
            self.table.update(
                keys.order(order_id), "SET cancellation = :answered",
                "cancellation.id = :id AND cancellation.#status = :status",
                names={"#status": "status"},
                values={":answered": answered.model_dump(mode="json"), ":id": request.id,
                        ":status": request.status.value},
            )  # fmt: skip
        except ConditionFailed:
            return False
        return True

    def set_dispute(self, order_id: str, dispute: PaymentDispute) -> bool:
        return self._set_claim(
            order_id, "dispute", dispute.model_dump(mode="json"),
            newer=("opened_at", dispute.opened_at.isoformat()), claim_id=dispute.id,
            replaces=dispute_statuses_before(dispute.status),
        )  # fmt: skip

    def _set_claim(
        self,
        order_id: str,
        field: str,
        claim: dict[str, Any],
        newer: tuple[str, str],
        claim_id: str,
        replaces: list[str],
    ) -> bool:
        """One conditional write: none held, or an older claim, or this claim at an earlier
        status (one of `replaces`)."""
        since, at = newer
        values: dict[str, Any] = {":claim": claim, ":null": "NULL", ":at": at}
        names = {"#claim": field}
        condition = (
            f"attribute_exists(pk) AND (attribute_not_exists(#claim) OR"
            f" attribute_type(#claim, :null) OR #claim.{since} < :at"
        )
        if replaces:
            values |= {f":s{n}": status for n, status in enumerate(replaces)} | {":id": claim_id}
            names["#status"] = "status"
            listed = ", ".join(f":s{n}" for n in range(len(replaces)))
            condition += f" OR (#claim.id = :id AND #claim.#status IN ({listed}))"
        try:
            self.table.update(
                keys.order(order_id), "SET #claim = :claim", condition + ")",
                names=names, values=values,
            )  # fmt: skip
        except ConditionFailed:
            return False
        return True


def _order(item: dict) -> Order:
    body = without_keys(item)
    body.pop("refundable", None)
    body.pop(SECRET_DIGEST, None)
    body.pop("announced_refunded", None)
    return Order.model_validate(body)
