"""What goes into the vault and what comes out of it. Pure pydantic, no AWS.

`CustomerCreate` is the only model that ever holds a person's data on its way in; the
`*Details` and `CustomerExport` models are the only ones that hold it on its way out, and only
the vault builds them. Everything else carries the token and `MaskedCustomer`.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain.base import Model
from ..domain.creators import PayoutDetails
from ..domain.customers import Email, Line, Phone, ShippingAddress, Short, SocialPlatform
from ..domain.merchants import ApiKey
from ..domain.scopes import Scope
from .policy import Purpose


class CustomerCreate(Model):
    """A person's data as a merchant, a checkout or a platform import hands it in."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Line
    phone: Phone | None = None
    shipping_address: ShippingAddress | None = None
    social_handles: Annotated[dict[SocialPlatform, Short], Field(max_length=10)] | None = None
    payout: PayoutDetails | None = Field(None, description="a creator's: where commissions go")
    marketing_consent: bool = Field(
        False, description="True records consent now; false leaves earlier consent as it was."
    )
    consent_text_version: Short | None = Field(
        None, description="Which wording of the consent the person agreed to."
    )


class ConsentGiven(Model):
    """Marketing consent as given with one checkout or import: where, and to which text."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["checkout", "platform_order", "merchant"]
    text_version: Short


class Caller(Model):
    """Who asks the vault: a merchant's key, or one of our services acting for a merchant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    merchant_id: str
    actor: str = Field(description="The API key id, or `service:<name>` for our own services.")
    scopes: frozenset[Scope]

    @classmethod
    def for_key(cls, key: ApiKey | None) -> "Caller":
        assert key is not None, "only authenticated routes reach the vault"
        return cls(merchant_id=key.merchant_id, actor=key.id, scopes=key.scopes)

    @classmethod
    def service(cls, merchant_id: str, name: str, scopes: frozenset[Scope]) -> "Caller":
        """E.g. the checkout tokenizing a buyer: `Caller.service(mid, "checkout", {WRITE})`."""
        return cls(merchant_id=merchant_id, actor=f"service:{name}", scopes=scopes)


class MaskedCustomer(Model):
    email: str
    name: str
    phone: str | None = None


class Tokenized(Model):
    object: Literal["customer"] = "customer"
    token: str
    masked: MaskedCustomer
    created: bool = Field(description="False when the email matched a customer already held.")


class FulfillmentDetails(Model):
    object: Literal["customer"] = "customer"
    token: str
    purpose: Literal[Purpose.FULFILLMENT] = Purpose.FULFILLMENT
    order_id: str | None = Field(
        None, description="Set when these are the details the order was placed with."
    )
    name: str
    phone: str | None
    shipping_address: ShippingAddress | None


class SupportDetails(Model):
    object: Literal["customer"] = "customer"
    token: str
    purpose: Literal[Purpose.SUPPORT] = Purpose.SUPPORT
    order_id: str | None = None
    name: str
    email: str


class ConsentView(Model):
    """One consent record: when, where, to which text, with which order."""

    source: str
    order_id: str | None
    given_at: datetime
    text_version: str


class MarketingDetails(Model):
    """The email given together with the latest consent record, and that record."""

    object: Literal["customer"] = "customer"
    token: str
    purpose: Literal[Purpose.MARKETING] = Purpose.MARKETING
    email: str
    consent: ConsentView


class PayoutReadDetails(Model):
    object: Literal["customer"] = "customer"
    token: str
    purpose: Literal[Purpose.PAYOUT] = Purpose.PAYOUT
    name: str
    email: str
    payout: PayoutDetails | None


CustomerDetails = Annotated[
    FulfillmentDetails | SupportDetails | MarketingDetails | PayoutReadDetails,
    Field(discriminator="purpose"),
]
DETAILS_MODELS: dict[Purpose, type[BaseModel]] = {
    Purpose.FULFILLMENT: FulfillmentDetails,
    Purpose.SUPPORT: SupportDetails,
    Purpose.MARKETING: MarketingDetails,
    Purpose.PAYOUT: PayoutReadDetails,
}


class DetokenizeQuery(Model):
    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    order_id: Annotated[str, Field(max_length=64)] | None = Field(
        None,
        description="Read the details this order was placed with (fulfillment, support), "
        "not the customer's profile.",
    )


class AuditAction(StrEnum):
    TOKENIZE = "tokenize"
    IDENTIFY = "identify"
    DETOKENIZE = "detokenize"
    EXPORT = "export"
    ERASE = "erase"


class AuditEntry(Model):
    """One access: who, when, what for, and which fields (names only, never values)."""

    object: Literal["audit_entry"] = "audit_entry"
    token: str
    at: datetime
    action: AuditAction
    actor: str
    purpose: Purpose | None = None
    fields: list[str]


class AuditPage(Model):
    entries: list[AuditEntry]
    next_cursor: str | None


class MarketingConsent(Model):
    given: bool
    given_at: datetime | None


class OrderSnapshotView(Model):
    """The buyer details one order was placed with, as kept for that order."""

    order_id: str
    placed_at: datetime
    email: str
    name: str
    phone: str | None
    shipping_address: ShippingAddress | None


class CustomerExport(Model):
    """Everything held on a person (GDPR art. 15 and 20), in a machine-readable form."""

    object: Literal["customer_export"] = "customer_export"
    token: str
    created_at: datetime
    updated_at: datetime
    email: str
    name: str
    phone: str | None
    shipping_address: ShippingAddress | None
    social_handles: dict[str, str] | None
    payout: PayoutDetails | None = None
    marketing_consent: MarketingConsent
    consents: list[ConsentView]
    orders: list[OrderSnapshotView]
    access_log: list[AuditEntry]


class ErasedCustomer(Model):
    object: Literal["customer"] = "customer"
    token: str
    erased: Literal[True] = True
    erased_at: datetime


class ForgottenOrder(Model):
    """A failed checkout's buyer details taken back out of the vault."""

    token: str | None = Field(description="None when no customer has that email here.")
    order_id: str
    customer_removed: bool = Field(description="True when the checkout had created the customer.")


class CustomerStatus(Model):
    """How an order shows its buyer: masked values while held, `erased` afterwards."""

    token: str
    status: Literal["active", "erased", "unknown"]
    masked: MaskedCustomer | None


@dataclass
class CustomerRecord:
    """A customer's vault item: sealed fields, never plaintext. After erasure, a tombstone."""

    token: str
    merchant_id: str
    status: Literal["active", "erased"]
    created_at: datetime
    updated_at: datetime
    sealed: dict[str, bytes] = field(default_factory=dict)
    masked: MaskedCustomer | None = None
    email_index: str | None = None
    erased_at: datetime | None = None
    first_order_id: str | None = None  # the checkout that created it, if one did
    snapshots: int = 0  # order snapshots held

    @property
    def erased(self) -> bool:
        return self.status == "erased"


@dataclass
class OrderSnapshot:
    """The buyer details one order was placed with, sealed under the customer's data key
    with the order id bound in. `audit_sk` and `consent_sk` name what was written with it,
    so that a failed checkout can take all of it back."""

    token: str
    order_id: str
    merchant_id: str
    created_at: datetime
    sealed: dict[str, bytes]
    audit_sk: str
    consent_sk: str | None = None


@dataclass
class ConsentRecord:
    """Append-only: one per consent given. The email given with it is sealed in it."""

    token: str
    sk: str
    source: str
    order_id: str | None
    at: datetime
    text_version: str
    actor: str
    sealed_email: bytes
