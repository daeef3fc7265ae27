"""The vault's use cases. Only this module opens sealed fields, and it checks first.

Every method takes the `Caller` (proven by its assertion, see `admit`) and enforces, in this
order: the caller's scope (403), that the token is the caller's merchant's (404 otherwise, as
if it did not exist), that it is not erased (410), and, for reads, what the purpose discloses.
Every disclosure and change leaves an audit entry (field names, never values). Plaintext
exists only in local variables here and in the returned model; logs get tokens and field
names.

Who may change a customer: only a merchant's key with `customers:write` (`tokenize`). What
anonymous parties hand in (a storefront checkout, a platform's buyer, a commenter) goes
through `identify`, which finds the person by the blind index or files a new one, and never
changes a record it finds: a checkout's details are kept as that order's own snapshot, sealed
under the customer's key with the order id bound in, and consent as an append-only record
holding the email it was given with.
"""

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..domain.ids import Prefix, has_prefix
from ..domain.outbound import CustomerErasedData, EventType, new_event
from ..domain.scopes import Scope
from ..errors import (
    Gone,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ShoppableError,
)
from ..observability import logger
from .assertions import CallerRefused, Claims, Issuer, verify
from .blind_index import email_index
from .keyring import DataKeys
from .masking import mask_email, mask_name, mask_phone
from .models import (
    AuditAction,
    AuditEntry,
    AuditPage,
    Caller,
    ConsentGiven,
    ConsentRecord,
    ConsentView,
    CustomerCreate,
    CustomerExport,
    CustomerRecord,
    CustomerStatus,
    ErasedCustomer,
    ForgottenOrder,
    FulfillmentDetails,
    MarketingConsent,
    MarketingDetails,
    MaskedCustomer,
    OrderSnapshot,
    OrderSnapshotView,
    PayoutReadDetails,
    SupportDetails,
    Tokenized,
)
from .policy import PERSONAL_FIELDS, Purpose, fields_for, require_purpose, require_scope
from .sealing import SealBroken, open_sealed, seal
from .store import VaultStore, new_audit_sk, new_consent_sk

# What an order's snapshot keeps: what the buyer gave for that order.
SNAPSHOT_FIELDS = ("email", "name", "phone", "shipping_address")

# Enough to get past a concurrent first checkout of the same person and an erasure mid-way.
_TOKENIZE_ATTEMPTS = 3
_EXPORT_AUDIT_PAGE = 100


class VaultIntegrityError(ShoppableError):
    """A sealed field did not verify: it was altered or moved. Never returned as garbage."""

    status = 500
    type = "api_error"
    code = "vault_integrity_failed"


def snapshot_field(name: str, order_id: str) -> str:
    """The associated data of a snapshot's field: a sealed value moved to another order (or
    into the profile) fails to open."""
    return f"{name}@order:{order_id}"


def consent_field(sk: str) -> str:
    return f"email@{sk}"


class Vault:
    def __init__(
        self,
        store: VaultStore,
        keys: DataKeys,
        clock,
        index_key: bytes,
        caller_keys: dict[Issuer, bytes] | None = None,
    ):
        self.store = store
        self.keys = keys
        self.clock = clock
        self._index_key = index_key
        self._caller_keys = caller_keys or {}

    # The caller

    def admit(self, command: dict[str, Any]) -> Caller:
        """The caller the command's assertion proves; refused and audited otherwise."""
        now = self.clock.now()
        try:
            caller, _ = verify(self._caller_keys, command, now.timestamp())
        except CallerRefused as refused:
            self._audit_refusal(refused.reason, refused.claims, command, now)
            raise
        return caller

    def _audit_refusal(
        self, reason: str, claims: Claims | None, command: dict[str, Any], at: datetime
    ) -> None:
        raw = command.get("caller")
        claimed: dict[str, Any] = raw if isinstance(raw, dict) else {}
        details = {
            "reason": reason,
            "command": str(command.get("type"))[:40],
            "issuer": claims.iss.value if claims else None,
            "merchant_id": str((claims.mer if claims else claimed.get("merchant_id")) or "")[:64],
            "actor": str((claims.act if claims else claimed.get("actor")) or "")[:80],
            "token": str(command.get("token") or "")[:64] or None,
        }
        details = {k: v for k, v in details.items() if v}
        logger.warning("vault caller refused", extra=details)
        try:
            self.store.record_refusal(at, details)
        except ShoppableError:
            logger.error("vault refusal not recorded", extra={"reason": reason})

    # Tokenize: a merchant's own data about a person (`customers:write`)

    def tokenize(self, caller: Caller, customer: CustomerCreate) -> Tokenized:
        """The person's token: a new one, or theirs at this merchant if the email is known,
        with what the merchant gives now replacing what was held, field by field."""
        require_scope(caller.scopes, Scope.CUSTOMERS_WRITE)
        if not caller.actor.startswith("key_"):
            raise PermissionDenied("Only a merchant's API key changes a customer's profile.")
        index = email_index(self._index_key, caller.merchant_id, customer.email)
        for _ in range(_TOKENIZE_ATTEMPTS):
            token = self.store.token_for_index(index)
            if token is None:
                result = self._add(caller, customer, index)
            else:
                result = self._refresh(caller, token, customer)
            if result is not None:
                logger.info(
                    "customer tokenized",
                    extra={"token": result.token, "new_customer": result.created},
                )
                return result
        raise ServiceUnavailable("The customer changed while this request ran; retry it.")

    def _add(
        self,
        caller: Caller,
        customer: CustomerCreate,
        index: str,
        order_id: str | None = None,
        consent: ConsentGiven | None = None,
    ) -> Tokenized | None:
        now = self.clock.now()
        token = self.clock.new_id(Prefix.CUSTOMER)
        key = self.keys.create(caller.merchant_id, token)
        provided = _plaintext_fields(customer)
        masked = _masked(customer, None)
        record = CustomerRecord(
            token=token,
            merchant_id=caller.merchant_id,
            status="active",
            created_at=now,
            updated_at=now,
            sealed={name: seal(key.plaintext, token, name, v) for name, v in provided.items()},
            masked=masked,
            email_index=index,
            first_order_id=order_id,
            snapshots=1 if order_id else 0,
        )
        action = AuditAction.IDENTIFY if order_id else AuditAction.TOKENIZE
        audit = _entry(caller, token, now, action, None, list(provided))
        consent_record = self._consent(caller, key.plaintext, token, customer, order_id, consent)
        snapshot = (
            self._snapshot(caller, key.plaintext, token, customer, order_id, now, consent_record)
            if order_id
            else None
        )
        if not self.store.add_customer(record, key.wrapped, audit, snapshot, consent_record):
            self.keys.forget(token)  # lost the race: the winner's token is read next
            return None
        return Tokenized(token=token, masked=masked, created=True)

    def _consent(
        self,
        caller: Caller,
        key: bytes,
        token: str,
        customer: CustomerCreate,
        order_id: str | None,
        given: ConsentGiven | None,
    ) -> ConsentRecord | None:
        """The consent record to append, if consent was given: with the email given with it."""
        if given is None and customer.marketing_consent:
            given = ConsentGiven(
                source="merchant", text_version=customer.consent_text_version or "unversioned"
            )
        if given is None:
            return None
        now = self.clock.now()
        sk = new_consent_sk(now, order_id or self.clock.random_token(8))
        return ConsentRecord(
            token=token,
            sk=sk,
            source=given.source,
            order_id=order_id,
            at=now,
            text_version=given.text_version,
            actor=caller.actor,
            sealed_email=seal(key, token, consent_field(sk), json.dumps(customer.email).encode()),
        )

    def _snapshot(
        self,
        caller: Caller,
        key: bytes,
        token: str,
        customer: CustomerCreate,
        order_id: str,
        now: datetime,
        consent: ConsentRecord | None,
    ) -> OrderSnapshot:
        given = {n: v for n, v in _plaintext_fields(customer).items() if n in SNAPSHOT_FIELDS}
        return OrderSnapshot(
            token=token,
            order_id=order_id,
            merchant_id=caller.merchant_id,
            created_at=now,
            sealed={n: seal(key, token, snapshot_field(n, order_id), v) for n, v in given.items()},
            audit_sk=new_audit_sk(now),
            consent_sk=consent.sk if consent else None,
        )

    def _refresh(self, caller: Caller, token: str, customer: CustomerCreate) -> Tokenized | None:
        """A returning customer: the data given now replaces what was held, field by field."""
        record = self.store.customer(token)
        if record is None or record.erased or record.merchant_id != caller.merchant_id:
            return None  # erased meanwhile; its index entry is gone on the next read
        wrapped = self.store.wrapped_key(token)
        if wrapped is None:
            self._tombstone_unreadable(record)
            return None
        key = self.keys.unwrap(record.merchant_id, token, wrapped)
        now = self.clock.now()
        provided = _plaintext_fields(customer)
        masked = _masked(customer, record.masked)
        updated = replace(
            record,
            sealed={name: seal(key, token, name, v) for name, v in provided.items()},
            masked=masked,
            updated_at=now,
        )
        audit = _entry(caller, token, now, AuditAction.TOKENIZE, None, list(provided))
        if not self.store.update_customer(updated, list(provided), audit):
            return None
        consent = self._consent(caller, key, token, customer, None, None)
        if consent is not None:
            self.store.add_consent(consent)
        return Tokenized(token=token, masked=masked, created=False)

    # Identify: what anonymous parties hand in never changes a record

    def identify(
        self,
        caller: Caller,
        customer: CustomerCreate,
        order_id: str | None = None,
        consent: ConsentGiven | None = None,
    ) -> Tokenized:
        """The person's token at this merchant, filing them if new. A record found by the
        email is left as it is; with `order_id`, the details given become that order's
        snapshot (a repeat for the same order keeps the first), and `consent` is appended."""
        require_scope(caller.scopes, Scope.CUSTOMERS_WRITE)
        index = email_index(self._index_key, caller.merchant_id, customer.email)
        for _ in range(_TOKENIZE_ATTEMPTS):
            token = self.store.token_for_index(index)
            if token is None:
                result = self._add(caller, customer, index, order_id, consent)
            else:
                result = self._add_order(caller, token, customer, order_id, consent)
            if result is not None:
                logger.info(
                    "customer identified",
                    extra={"token": result.token, "new_customer": result.created,
                           "order_id": order_id},
                )  # fmt: skip
                return result
        raise ServiceUnavailable("The customer changed while this request ran; retry it.")

    def _add_order(
        self,
        caller: Caller,
        token: str,
        customer: CustomerCreate,
        order_id: str | None,
        consent: ConsentGiven | None,
    ) -> Tokenized | None:
        record = self.store.customer(token)
        if record is None or record.erased or record.merchant_id != caller.merchant_id:
            return None  # erased meanwhile; its index entry is gone on the next read
        given = _masked(customer, None)
        if order_id is None and consent is None:
            return Tokenized(token=token, masked=record.masked or given, created=False)
        wrapped = self.store.wrapped_key(token)
        if wrapped is None:
            self._tombstone_unreadable(record)
            return None
        key = self.keys.unwrap(record.merchant_id, token, wrapped)
        now = self.clock.now()
        consent_record = self._consent(caller, key, token, customer, order_id, consent)
        if order_id is None:
            assert consent_record is not None
            self.store.add_consent(consent_record)
            return Tokenized(token=token, masked=record.masked or given, created=False)
        snapshot = self._snapshot(caller, key, token, customer, order_id, now, consent_record)
        fields = list(snapshot.sealed)
        audit = _entry(caller, token, now, AuditAction.IDENTIFY, None, fields)
        outcome = self.store.add_order(record, snapshot, audit, consent_record)
        if outcome == "gone":
            return None
        return Tokenized(token=token, masked=given, created=False)

    def forget_order(self, caller: Caller, email: str, order_id: str) -> ForgottenOrder:
        """Take back a failed checkout's `identify`: its snapshot and consent, and the
        customer too if that checkout filed them and nothing else refers to them since."""
        require_scope(caller.scopes, Scope.CUSTOMERS_WRITE)
        token = self.store.token_for_index(email_index(self._index_key, caller.merchant_id, email))
        if token is None:
            return ForgottenOrder(token=None, order_id=order_id, customer_removed=False)
        for _ in range(_TOKENIZE_ATTEMPTS):
            record = self._owned(caller, token, erased_ok=True)
            snapshot = self.store.snapshot(token, order_id)
            if snapshot is None or record.erased:
                return ForgottenOrder(token=token, order_id=order_id, customer_removed=False)
            remove = record.first_order_id == order_id and record.snapshots == 1
            if self.store.forget_order(record, snapshot, remove):
                if remove:
                    self.keys.forget(token)
                logger.info(
                    "failed checkout's buyer forgotten",
                    extra={"token": token, "order_id": order_id, "customer_removed": remove},
                )
                return ForgottenOrder(token=token, order_id=order_id, customer_removed=remove)
        raise ServiceUnavailable("The customer changed while this request ran; retry it.")

    # Reads

    def detokenize_for(
        self, caller: Caller, token: str, purpose: Purpose, order_id: str | None = None
    ) -> FulfillmentDetails | SupportDetails | MarketingDetails | PayoutReadDetails:
        """Only the fields `purpose` discloses (see policy), audited. With `order_id`, from
        the details that order was placed with; marketing, only the email given together with
        the latest consent; payout, a creator's own profile only."""
        require_purpose(caller.scopes, purpose)
        record = self._owned(caller, token)
        if purpose in (Purpose.MARKETING, Purpose.PAYOUT):
            if order_id is not None:
                raise InvalidRequest(
                    "order_id applies to fulfillment and support reads.", param="order_id"
                )
            if purpose is Purpose.MARKETING:
                return self._marketing(caller, record)
        names = fields_for(purpose, has_marketing_consent=False)
        if order_id is None:
            values = self._open(record, names)
        else:
            values = self._open_snapshot(record, self._snapshot_of(token, order_id), names)
        disclosed = [name for name in names if values[name] is not None]
        self.store.record_access(
            _entry(caller, token, self.clock.now(), AuditAction.DETOKENIZE, purpose, disclosed)
        )
        logger.info(
            "customer read",
            extra={"token": token, "purpose": purpose, "fields": disclosed, "order_id": order_id},
        )
        if purpose is Purpose.FULFILLMENT:
            return FulfillmentDetails(token=token, order_id=order_id, **values)
        if purpose is Purpose.PAYOUT:
            return PayoutReadDetails(token=token, **values)
        return SupportDetails(token=token, order_id=order_id, **values)

    def _marketing(self, caller: Caller, record: CustomerRecord) -> MarketingDetails:
        latest = self.store.consents(record.token, latest_only=True)
        names = fields_for(Purpose.MARKETING, has_marketing_consent=bool(latest))
        consent = latest[0]
        key = self._key_of(record)
        email = self._unseal(key, record.token, consent_field(consent.sk), consent.sealed_email)
        self.store.record_access(
            _entry(caller, record.token, self.clock.now(), AuditAction.DETOKENIZE,
                   Purpose.MARKETING, list(names))
        )  # fmt: skip
        logger.info("customer read", extra={"token": record.token, "purpose": "marketing"})
        return MarketingDetails(token=record.token, email=email, consent=_consent_view(consent))

    def _snapshot_of(self, token: str, order_id: str) -> OrderSnapshot:
        snapshot = (
            self.store.snapshot(token, order_id) if has_prefix(order_id, Prefix.ORDER) else None
        )
        if snapshot is None:
            raise NotFound(
                f"No order '{order_id}' was placed with this customer's details.",
                param="order_id",
            )
        return snapshot

    def export(self, caller: Caller, token: str) -> CustomerExport:
        """Everything held on the person, and every access to it."""
        require_scope(caller.scopes, Scope.CUSTOMERS_EXPORT)
        record = self._owned(caller, token)
        values = self._open(record, PERSONAL_FIELDS)
        disclosed = [name for name in PERSONAL_FIELDS if values[name] is not None]
        key = self._key_of(record)
        orders = [
            OrderSnapshotView(
                order_id=snapshot.order_id,
                placed_at=snapshot.created_at,
                **self._open_snapshot(record, snapshot, SNAPSHOT_FIELDS),
            )
            for snapshot in self.store.snapshots(token)
        ]
        consents = self.store.consents(token)
        for consent in consents:  # each must still open: altered records are not exported
            self._unseal(key, token, consent_field(consent.sk), consent.sealed_email)
        self.store.record_access(
            _entry(caller, token, self.clock.now(), AuditAction.EXPORT, None, disclosed)
        )
        logger.info("customer exported", extra={"token": token, "fields": disclosed})
        return CustomerExport(
            token=token,
            created_at=record.created_at,
            updated_at=record.updated_at,
            marketing_consent=MarketingConsent(
                given=bool(consents), given_at=consents[0].at if consents else None
            ),
            consents=[_consent_view(c) for c in consents],
            orders=orders,
            access_log=self._whole_trail(token),
            **values,
        )

    def audit_trail(self, caller: Caller, token: str, limit: int, cursor: str | None) -> AuditPage:
        """Who read or changed this customer's data, newest first; still there after erasure."""
        require_scope(caller.scopes, Scope.CUSTOMERS_AUDIT)
        self._owned(caller, token, erased_ok=True)
        return self.store.audit_page(token, limit, cursor)

    def describe(self, caller: Caller, tokens: list[str]) -> list[CustomerStatus]:
        """Masked values or `erased` for each token, for showing orders. Opens nothing."""
        valid = [t for t in dict.fromkeys(tokens) if has_prefix(t, Prefix.CUSTOMER)]
        found = {
            r.token: r for r in self.store.customers(valid) if r.merchant_id == caller.merchant_id
        }
        statuses = []
        for token in tokens:
            record = found.get(token)
            if record is None:
                statuses.append(CustomerStatus(token=token, status="unknown", masked=None))
            elif record.erased:
                statuses.append(CustomerStatus(token=token, status="erased", masked=None))
            else:
                statuses.append(CustomerStatus(token=token, status="active", masked=record.masked))
        return statuses

    # Erasure

    def erase(self, caller: Caller, token: str) -> ErasedCustomer:
        """Crypto-shred: delete the data key, so no copy of the ciphertext opens again."""
        require_scope(caller.scopes, Scope.CUSTOMERS_ERASE)
        record = self._owned(caller, token)
        now = self.clock.now()
        held = [name for name in PERSONAL_FIELDS if name in record.sealed]
        audit = _entry(caller, token, now, AuditAction.ERASE, None, held)
        erased = new_event(
            self.clock.new_id(Prefix.EVENT), EventType.CUSTOMER_ERASED, record.merchant_id,
            token, CustomerErasedData(customer_token=token), now,
        )  # fmt: skip
        if not self.store.erase_customer(record, now, audit, erased):
            raise _gone(token)
        self.keys.forget(token)
        removed = self.store.remove_held(token)
        logger.info("customer erased", extra={"token": token, "orders_and_consents": removed})
        return ErasedCustomer(token=token, erased_at=now)

    # Shared steps

    def _owned(self, caller: Caller, token: str, erased_ok: bool = False) -> CustomerRecord:
        record = self.store.customer(token) if has_prefix(token, Prefix.CUSTOMER) else None
        if record is None or record.merchant_id != caller.merchant_id:
            raise NotFound(f"No such customer: '{token}'.", param="token")
        if record.erased and not erased_ok:
            raise _gone(token)
        return record

    def _key_of(self, record: CustomerRecord) -> bytes:
        wrapped = self.store.wrapped_key(record.token)
        if wrapped is None:
            # A record that outlived its key (restored from a backup taken before erasure):
            # nothing in it can be read any more.
            logger.warning("customer record without a data key", extra={"token": record.token})
            raise _gone(record.token)
        return self.keys.unwrap(record.merchant_id, record.token, wrapped)

    def _unseal(self, key: bytes, token: str, field: str, sealed: bytes) -> Any:
        try:
            return json.loads(open_sealed(key, token, field, sealed))
        except SealBroken:
            logger.error(
                "sealed field failed its integrity check",
                extra={"token": token, "field": field.split("@")[0]},
            )
            raise VaultIntegrityError(
                "A stored customer field failed its integrity check; it has been logged."
            ) from None

    def _open(self, record: CustomerRecord, names: tuple[str, ...]) -> dict[str, Any]:
        key = self._key_of(record)
        return {
            name: self._unseal(key, record.token, name, record.sealed[name])
            if name in record.sealed
            else None
            for name in names
        }

    def _open_snapshot(
        self, record: CustomerRecord, snapshot: OrderSnapshot, names: tuple[str, ...]
    ) -> dict[str, Any]:
        key = self._key_of(record)
        return {
            name: self._unseal(
                key, record.token, snapshot_field(name, snapshot.order_id), snapshot.sealed[name]
            )
            if name in snapshot.sealed
            else None
            for name in names
        }

    def _whole_trail(self, token: str) -> list[AuditEntry]:
        entries: list[AuditEntry] = []
        cursor = None
        while True:
            page = self.store.audit_page(token, _EXPORT_AUDIT_PAGE, cursor)
            entries += page.entries
            if page.next_cursor is None:
                return entries
            cursor = page.next_cursor

    def _tombstone_unreadable(self, record: CustomerRecord) -> None:
        now = self.clock.now()
        system = Caller(merchant_id=record.merchant_id, actor="service:vault", scopes=frozenset())
        audit = _entry(system, record.token, now, AuditAction.ERASE, None, [])
        self.store.erase_customer(record, now, audit)
        logger.warning("unreadable customer record tombstoned", extra={"token": record.token})


def _consent_view(consent: ConsentRecord) -> ConsentView:
    return ConsentView(
        source=consent.source,
        order_id=consent.order_id,
        given_at=consent.at,
        text_version=consent.text_version,
    )


def _gone(token: str) -> Gone:
    return Gone(f"Customer '{token}' was erased.", code="customer_erased", param="token")


def _entry(
    caller: Caller,
    token: str,
    at: datetime,
    action: AuditAction,
    purpose: Purpose | None,
    fields: list[str],
) -> AuditEntry:
    return AuditEntry(
        token=token, at=at, action=action, actor=caller.actor, purpose=purpose, fields=fields
    )


def _plaintext_fields(customer: CustomerCreate) -> dict[str, bytes]:
    """The fields given, each as the JSON bytes that get sealed."""
    given = customer.model_dump(mode="json", include=set(PERSONAL_FIELDS), exclude_none=True)
    return {name: json.dumps(value).encode() for name, value in given.items()}


def _masked(customer: CustomerCreate, before: MaskedCustomer | None) -> MaskedCustomer:
    phone = mask_phone(customer.phone) if customer.phone else (before.phone if before else None)
    return MaskedCustomer(
        email=mask_email(customer.email), name=mask_name(customer.name), phone=phone
    )
