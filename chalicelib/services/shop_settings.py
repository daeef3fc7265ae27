"""A merchant's settings (`GET/PATCH /v1/settings`), part by part: `checkout` here, the limits
on anonymous checkouts (see services/checkout.py)."""

from dataclasses import dataclass
from typing import Protocol

from ..domain.merchants import CheckoutSettings, MerchantSettings, SettingsPatch


class SettingsStore(Protocol):
    def checkout(self, merchant_id: str) -> CheckoutSettings: ...

    def update_checkout(self, merchant_id: str, changes: dict[str, int | None]) -> CheckoutSettings:
        """Set the given fields (None removes a limit) in one write; the others stay."""
        ...


@dataclass(frozen=True)
class ShopSettings:
    store: SettingsStore


def read_settings(shop: ShopSettings, merchant_id: str) -> MerchantSettings:
    return MerchantSettings(checkout=shop.store.checkout(merchant_id))


def update_settings(shop: ShopSettings, merchant_id: str, patch: SettingsPatch) -> MerchantSettings:
    checkout = shop.store.checkout(merchant_id)
    if patch.checkout is not None:
        given = patch.checkout
        changes = {name: getattr(given, name) for name in given.model_fields_set}
        checkout = shop.store.update_checkout(merchant_id, changes)
    return MerchantSettings(checkout=checkout)
