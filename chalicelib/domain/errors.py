"""What a store refuses, in the domain's terms.

Stores check their rules in the same write that applies a change (a conditional write, a
transaction), and report a broken rule as one of these; the services decide what it means
for the caller (usually one of the contract's errors in `chalicelib.errors`). Nothing above
the stores ever sees which item of a transaction failed.
"""


class StoreRefused(Exception):
    """A rule of the store did not hold; nothing was written."""


class AlreadyExists(StoreRefused):
    """The object (or the account, key, id it claims) is there already."""


class ConcurrentUpdate(StoreRefused):
    """The object is no longer as it was read: another change came first (a version, a status
    or an amount no longer matches)."""


class OutOfStock(StoreRefused):
    """A line needs more units than its variant has available."""

    def __init__(self, line_index: int, variant_id: str):
        super().__init__(f"line {line_index} ({variant_id}) is out of stock")
        self.line_index = line_index
        self.variant_id = variant_id


class HoldLimitReached(StoreRefused):
    """A client or buyer already holds as many unpaid checkouts as the merchant allows."""

    def __init__(self, hold_index: int):
        super().__init__(f"hold {hold_index} is at its cap")
        self.hold_index = hold_index


class BelowReserved(StoreRefused):
    """A variant's stock would fall below the units open orders hold."""

    def __init__(self, variant_id: str):
        super().__init__(f"{variant_id}: on_hand below reserved")
        self.variant_id = variant_id


class PlatformError(Exception):
    """A social platform refused or failed a call, with the platform's own message (shown on
    a failed publication); `retryable` says whether trying again may help (5xx, 429, no
    answer) or not (a refusal)."""

    def __init__(self, platform: str, status: int, message: str, retryable: bool):
        super().__init__(f"{platform} answered {status}: {message}")
        self.platform = platform
        self.status = status
        self.message = message
        self.retryable = retryable
