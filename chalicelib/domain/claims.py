"""Claims against an order that the merchant must see: a buyer's request to cancel it (made on
the platform that sold it), and a payment dispute opened through the card network.

Both arrive as notifications in any order and more than once. Each is kept on the order as
one record that only moves forward: a newer claim replaces an older one, and the same claim
is updated only by a later stage of it, so a late "requested" never reopens a
request already answered, and a late inquiry never hides the chargeback it became.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .base import Model


class CancellationStatus(StrEnum):
    PENDING = "pending"  # the buyer asked; the merchant must answer
    APPROVED = "approved"  # accepted (by the merchant, or by the platform for them)
    REJECTED = "rejected"  # refused by the merchant
    WITHDRAWN = "withdrawn"  # closed by the buyer or the platform without cancelling
    COMPLETED = "completed"  # cancelled, the buyer refunded


_CANCELLATION_STAGES = {
    CancellationStatus.PENDING: 0,
    CancellationStatus.APPROVED: 1,
    CancellationStatus.REJECTED: 1,
    CancellationStatus.WITHDRAWN: 1,
    CancellationStatus.COMPLETED: 2,
}

Requester = Literal["buyer", "seller", "platform"]


class CancellationRequest(Model):
    id: str  # the platform's (TikTok's cancel_id)
    requested_by: Requester | None = None
    status: CancellationStatus
    requested_at: datetime
    updated_at: datetime
    reject_reason: str | None = None

    @property
    def awaits_answer(self) -> bool:
        """A buyer's request the merchant must approve or reject on the platform."""
        return self.requested_by == "buyer" and self.status == CancellationStatus.PENDING


class DisputeKind(StrEnum):
    INQUIRY = "inquiry"  # the card issuer asks questions; no money has moved
    CHARGEBACK = "chargeback"  # the disputed amount is withdrawn until the dispute closes


# Stripe's dispute statuses, in the order a dispute can go through them: an inquiry
# (`warning_*`) either closes or escalates into a chargeback on the same dispute.
_DISPUTE_STAGES = {
    "warning_needs_response": 1,
    "warning_under_review": 2,
    "warning_closed": 3,
    "needs_response": 4,
    "under_review": 5,
    "won": 6,
    "lost": 6,
    "prevented": 6,
    "charge_refunded": 6,
}
INQUIRY_STATUSES = frozenset({"warning_needs_response", "warning_under_review", "warning_closed"})
CLOSED_STATUSES = frozenset({"warning_closed", "won", "lost", "prevented", "charge_refunded"})
# Closed in the merchant's favour: the money stays (or comes back).
KEPT_STATUSES = frozenset({"warning_closed", "won", "prevented"})


def is_dispute_status(status: object) -> bool:
    return isinstance(status, str) and status in _DISPUTE_STAGES


class PaymentDispute(Model):
    id: str  # Stripe's dp_…
    kind: DisputeKind
    status: str  # Stripe's own status
    open: bool
    reason: str | None = None
    amount: int
    currency: str
    opened_at: datetime
    updated_at: datetime


def payment_dispute(
    dispute_id: str,
    status: str,
    reason: str | None,
    amount: int,
    currency: str,
    opened_at: datetime,
    now: datetime,
) -> PaymentDispute:
    return PaymentDispute(
        id=dispute_id,
        kind=DisputeKind.INQUIRY if status in INQUIRY_STATUSES else DisputeKind.CHARGEBACK,
        status=status,
        open=status not in CLOSED_STATUSES,
        reason=reason,
        amount=amount,
        currency=currency.upper(),
        opened_at=opened_at,
        updated_at=now,
    )


class CancellationRejection(Model):
    """The merchant's refusal of a buyer's cancellation request. `reason` is one of the
    platform's reason codes (TikTok lists the valid ones per request); `comment` is shown to
    the buyer."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_]+$")]
    comment: Annotated[str, Field(max_length=500)] | None = None


def cancellation_statuses_before(status: CancellationStatus) -> list[str]:
    """The statuses of the same request that `status` may replace."""
    stage = _CANCELLATION_STAGES[status]
    return [s.value for s, n in _CANCELLATION_STAGES.items() if n < stage]


def dispute_statuses_before(status: str) -> list[str]:
    """The statuses of the same dispute that `status` may replace."""
    stage = _DISPUTE_STAGES[status]
    return [s for s, n in _DISPUTE_STAGES.items() if n < stage]
