"""The vault's use cases. Only this module opens sealed fields, and it checks first.

Every method takes the `Caller` and enforces, in this order: the caller's scope (403), that
the token is the caller's merchant's (404 otherwise, as if it did not exist), that it is not
erased (410), and, for reads, what the purpose discloses. Every disclosure and change leaves
an audit entry (field names, never values). Plaintext exists only in local variables here
and in the returned model; logs get tokens and field names.
"""

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..domain.ids import Prefix, has_prefix
from ..domain.outbound import CustomerErasedData, EventType, new_event
from ..domain.scopes import Scope
from ..errors import Gone, NotFound, ServiceUnavailable, ShoppableError
from ..observability import logger
from .blind_index import email_index
from .keyring import DataKeys
from .masking import mask_email, mask_name, mask_phone
from .models import (
    DETAILS_MODELS,
    AuditAction,
    AuditEntry,
    AuditPage,
    Caller,
    CustomerCreate,
    CustomerExport,
    CustomerRecord,
    CustomerStatus,
    ErasedCustomer,
    MarketingConsent,
    MaskedCustomer,
    Tokenized,
)
from .policy import PERSONAL_FIELDS, Purpose, fields_for, require_purpose, require_scope
from .sealing import SealBroken, open_sealed, seal
from .store import VaultStore

# Enough to get past a concurrent first checkout of the same person and an erasure mid-way.
_TOKENIZE_ATTEMPTS = 3
_EXPORT_AUDIT_PAGE = 100


class VaultIntegrityError(ShoppableError):
    """A sealed field did not verify: it was altered or moved. Never returned as garbage."""

    status = 500
    type = "api_error"
    code = "vault_integrity_failed"


class Vault:
    def __init__(self, store: VaultStore, keys: DataKeys, clock, index_key: bytes):
        self.store = store
        self.keys = keys
        self.clock = clock
        self._index_key = index_key

    # Tokenize

    def tokenize(self, caller: Caller, customer: CustomerCreate) -> Tokenized:
        """The person's token: a new one, or theirs at this merchant if the email is known."""
        require_scope(caller.scopes, Scope.CUSTOMERS_WRITE)
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

    def _add(self, caller: Caller, customer: CustomerCreate, index: str) -> Tokenized | None:
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
            marketing_consent_at=now if customer.marketing_consent else None,
        )
        audit = _entry(caller, token, now, AuditAction.TOKENIZE, None, list(provided))
        if not self.store.add_customer(record, key.wrapped, audit):
            self.keys.forget(token)  # lost the race: the winner's token is read next
            return None
        return Tokenized(token=token, masked=masked, created=True)

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
            marketing_consent_at=record.marketing_consent_at
            or (now if customer.marketing_consent else None),
        )
        audit = _entry(caller, token, now, AuditAction.TOKENIZE, None, list(provided))
        if not self.store.update_customer(updated, list(provided), audit):
            return None
        return Tokenized(token=token, masked=masked, created=False)

    # Reads

    def detokenize_for(self, caller: Caller, token: str, purpose: Purpose):
        """Only the fields `purpose` discloses (see policy), audited."""
        require_purpose(caller.scopes, purpose)
        record = self._owned(caller, token)
        names = fields_for(purpose, record.marketing_consent_at is not None)
        values = self._open(record, names)
        disclosed = [name for name in names if values[name] is not None]
        self.store.record_access(
            _entry(caller, token, self.clock.now(), AuditAction.DETOKENIZE, purpose, disclosed)
        )
        logger.info(
            "customer read", extra={"token": token, "purpose": purpose, "fields": disclosed}
        )
        return DETAILS_MODELS[purpose](token=token, **values)

    def export(self, caller: Caller, token: str) -> CustomerExport:
        """Everything held on the person, and every access to it."""
        require_scope(caller.scopes, Scope.CUSTOMERS_EXPORT)
        record = self._owned(caller, token)
        values = self._open(record, PERSONAL_FIELDS)
        disclosed = [name for name in PERSONAL_FIELDS if values[name] is not None]
        self.store.record_access(
            _entry(caller, token, self.clock.now(), AuditAction.EXPORT, None, disclosed)
        )
        logger.info("customer exported", extra={"token": token, "fields": disclosed})
        return CustomerExport(
            token=token,
            created_at=record.created_at,
            updated_at=record.updated_at,
            marketing_consent=MarketingConsent(
                given=record.marketing_consent_at is not None,
                given_at=record.marketing_consent_at,
            ),
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
        logger.info("customer erased", extra={"token": token})
        return ErasedCustomer(token=token, erased_at=now)

    # Shared steps

    def _owned(self, caller: Caller, token: str, erased_ok: bool = False) -> CustomerRecord:
        record = self.store.customer(token) if has_prefix(token, Prefix.CUSTOMER) else None
        if record is None or record.merchant_id != caller.merchant_id:
            raise NotFound(f"No such customer: '{token}'.", param="token")
        if record.erased and not erased_ok:
            raise _gone(token)
        return record

    def _open(self, record: CustomerRecord, names: tuple[str, ...]) -> dict:
        wrapped = self.store.wrapped_key(record.token)
        if wrapped is None:
            # A record that outlived its key (restored from a backup taken before erasure):
            # nothing in it can be read any more.
            logger.warning("customer record without a data key", extra={"token": record.token})
            raise _gone(record.token)
        key = self.keys.unwrap(record.merchant_id, record.token, wrapped)
        values: dict[str, Any] = {}
        for name in names:
            sealed = record.sealed.get(name)
            if sealed is None:
                values[name] = None
                continue
            try:
                values[name] = json.loads(open_sealed(key, record.token, name, sealed))
            except SealBroken:
                logger.error(
                    "sealed field failed its integrity check",
                    extra={"token": record.token, "field": name},
                )
                raise VaultIntegrityError(
                    "A stored customer field failed its integrity check; it has been logged."
                ) from None
        return values

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
