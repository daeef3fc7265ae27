"""A merchant's checkout limits, in their own item beside the merchant (`SETTINGS#checkout`).

Every checkout reads its merchant's limits, so a hot product's crowd would add a read per
buyer to the table: they are kept in memory for a few seconds (`cache_seconds`), and a
change reaches every instance within that time (at once on the instance that made it).
"""

import time
from collections.abc import Callable

from ...domain.merchants import CheckoutSettings
from . import keys
from .table import MainTable, without_keys

MAX_CACHED = 1024


class CheckoutSettingsRepository:
    def __init__(
        self,
        table: MainTable,
        cache_seconds: float = 5.0,
        now: Callable[[], float] = time.monotonic,
    ):
        self.table = table
        self.cache_seconds = cache_seconds
        self._now = now
        self._cached: dict[str, tuple[float, CheckoutSettings]] = {}

    def checkout(self, merchant_id: str) -> CheckoutSettings:
        """The merchant's checkout limits (all unset if never changed)."""
        cached = self._cached.get(merchant_id)
        if cached is not None and cached[0] > self._now():
            return cached[1]
        item = self.table.get(keys.checkout_settings(merchant_id), consistent=False)
        found = CheckoutSettings.model_validate(without_keys(item)) if item else CheckoutSettings()
        self._remember(merchant_id, found)
        return found

    def _remember(self, merchant_id: str, settings: CheckoutSettings) -> None:
        if self.cache_seconds <= 0:
            return
        if len(self._cached) >= MAX_CACHED:
            self._cached.clear()
        self._cached[merchant_id] = (self._now() + self.cache_seconds, settings)

    def update_checkout(self, merchant_id: str, changes: dict[str, int | None]) -> CheckoutSettings:
        """Set the given fields (None removes a limit) in one update; the others stay."""
        key = keys.checkout_settings(merchant_id)
        if not changes:
            return self.checkout(merchant_id)
        names = {f"#f{n}": name for n, name in enumerate(changes)}
        sets = [f"#f{n} = :v{n}" for n, v in enumerate(changes.values()) if v is not None]
        removes = [f"#f{n}" for n, v in enumerate(changes.values()) if v is None]
        expression = " ".join(
            part
            for part in ("SET " + ", ".join(sets) if sets else "",
                         "REMOVE " + ", ".join(removes) if removes else "")
            if part
        )  # fmt: skip
        values = {f":v{n}": v for n, v in enumerate(changes.values()) if v is not None}
        item = self.table.update(key, expression, names=names, values=values or None)
        updated = CheckoutSettings.model_validate(without_keys(item))
        self._remember(merchant_id, updated)
        return updated
