"""Who may read what: each purpose discloses a fixed set of fields, and needs its own scope.

| purpose       | fields                         | scope                        | also needs |
|---------------|--------------------------------|------------------------------|------------|
| `fulfillment` | name, shipping_address, phone  | `customers:read:fulfillment` |            |
| `support`     | name, email                    | `customers:read:support`     |            |
| `marketing`   | email                          | `customers:read:marketing`   | consent    |
| `payout`      | name, email, payout            | `customers:read:payout`      |            |

Pure rules: the vault calls them before it opens a single field.
"""

from collections.abc import Set
from enum import StrEnum

from ..domain.scopes import Scope
from ..errors import PermissionDenied


class Purpose(StrEnum):
    FULFILLMENT = "fulfillment"
    SUPPORT = "support"
    MARKETING = "marketing"
    PAYOUT = "payout"  # paying a creator their commissions


# Every personal field the vault holds, in the order an export lists them.
PERSONAL_FIELDS = ("email", "name", "phone", "shipping_address", "social_handles", "payout")

PURPOSE_FIELDS: dict[Purpose, tuple[str, ...]] = {
    Purpose.FULFILLMENT: ("name", "shipping_address", "phone"),
    Purpose.SUPPORT: ("name", "email"),
    Purpose.MARKETING: ("email",),
    Purpose.PAYOUT: ("name", "email", "payout"),
}

PURPOSE_SCOPE: dict[Purpose, Scope] = {
    Purpose.FULFILLMENT: Scope.CUSTOMERS_FULFILLMENT,
    Purpose.SUPPORT: Scope.CUSTOMERS_SUPPORT,
    Purpose.MARKETING: Scope.CUSTOMERS_MARKETING,
    Purpose.PAYOUT: Scope.CUSTOMERS_PAYOUT,
}

# A key with any of these may ask for a customer; the purpose then decides (see above).
READ_SCOPES = frozenset(PURPOSE_SCOPE.values())


def require_scope(scopes: Set[Scope], scope: Scope) -> None:
    if scope not in scopes:
        raise PermissionDenied(f"This API key lacks the scope '{scope}'.")


def require_purpose(scopes: Set[Scope], purpose: Purpose) -> None:
    """The caller's key must carry the scope of the purpose it reads for."""
    scope = PURPOSE_SCOPE[purpose]
    if scope not in scopes:
        raise PermissionDenied(
            f"This API key may not read customers for '{purpose}' (it lacks '{scope}')."
        )


def fields_for(purpose: Purpose, has_marketing_consent: bool) -> tuple[str, ...]:
    """The fields a read for `purpose` discloses; marketing needs the person's consent."""
    if purpose is Purpose.MARKETING and not has_marketing_consent:
        raise PermissionDenied(
            "This customer has not consented to marketing.", code="marketing_consent_missing"
        )
    return PURPOSE_FIELDS[purpose]
