"""A merchant's checkout limits, the `checkout` part of `GET/PATCH /v1/settings`: the limits on
anonymous checkouts (see services/checkout.py). They live in their own item, apart from the
other settings, because every checkout reads them (cached for a few seconds)."""

from dataclasses import dataclass
from typing import Protocol

from ..domain.merchants import CheckoutSettings


class SettingsStore(Protocol):
    def checkout(self, merchant_id: str) -> CheckoutSettings: ...

    def update_checkout(self, merchant_id: str, changes: dict[str, int | None]) -> CheckoutSettings:
        """Set the given fields (None removes a limit) in one write; the others stay."""
        ...


@dataclass(frozen=True)
class ShopSettings:
    store: SettingsStore


def checkout_settings(shop: ShopSettings, merchant_id: str) -> CheckoutSettings:
    return shop.store.checkout(merchant_id)


def update_checkout(
    shop: ShopSettings, merchant_id: str, given: CheckoutSettings | None
) -> CheckoutSettings:
    """Only the fields given change (null removes a limit); None: nothing to change."""
    if given is None:
        return shop.store.checkout(merchant_id)
    changes = {name: getattr(given, name) for name in given.model_fields_set}
    return shop.store.update_checkout(merchant_id, changes)
