"""A merchant's settings, one item per part (`SETTINGS#checkout`, …) beside the merchant."""

from ...domain.merchants import CheckoutSettings
from . import keys
from .table import MainTable, without_keys

CHECKOUT = "checkout"


class SettingsRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def checkout(self, merchant_id: str) -> CheckoutSettings:
        """The merchant's checkout limits (all unset if never changed)."""
        item = self.table.get(keys.merchant_settings(merchant_id, CHECKOUT))
        return CheckoutSettings.model_validate(without_keys(item)) if item else CheckoutSettings()

    def update_checkout(self, merchant_id: str, changes: dict[str, int | None]) -> CheckoutSettings:
        """Set the given fields (None removes a limit) in one update; the others stay."""
        key = keys.merchant_settings(merchant_id, CHECKOUT)
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
        return CheckoutSettings.model_validate(without_keys(item))
