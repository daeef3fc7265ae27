"""Every key of the main table is built here and nowhere else."""


def merchant(merchant_id: str) -> dict:
    return {"pk": f"MER#{merchant_id}", "sk": "MERCHANT"}


def api_key(secret_hash: str) -> dict:
    """One secret of a key, by its hash: what authentication reads."""
    return {"pk": f"KEY#{secret_hash}", "sk": "KEY"}


def key_record(key_id: str) -> dict:
    """A key as its merchant manages it (scopes, expiry, revocation, its secrets' hashes)."""
    return {"pk": f"APIKEY#{key_id}", "sk": "APIKEY"}


def checkout_settings(merchant_id: str) -> dict:
    return {"pk": f"MER#{merchant_id}", "sk": "SETTINGS#checkout"}


def checkout_hold(key: str) -> dict:
    """A counter of unpaid checkouts of one client or buyer at one merchant (`key` is a keyed
    digest: no address or email is stored)."""
    return {"pk": f"HOLD#{key}", "sk": "HOLD"}


def product(product_id: str) -> dict:
    return {"pk": f"PROD#{product_id}", "sk": "PRODUCT"}


def variant(variant_id: str) -> dict:
    return {"pk": f"VAR#{variant_id}", "sk": "VARIANT"}


def post(post_id: str) -> dict:
    return {"pk": f"POST#{post_id}", "sk": "POST"}


def connection(platform: str, account_id: str) -> dict:
    return {"pk": f"CONN#{platform}#{account_id}", "sk": "CONNECTION"}


def connection_id(connection_id: str) -> dict:
    """Points from a connection's id to its account (`DELETE /v1/connections/{id}`)."""
    return {"pk": f"CONNID#{connection_id}", "sk": "CONNECTION_ID"}


def grant(grant_id: str) -> dict:
    """One authorization at a platform, with its sealed tokens and wrapped data key."""
    return {"pk": f"GRANT#{grant_id}", "sk": "GRANT"}


def platform_token_key(grant_id: str) -> dict:
    """In the platform token keys table: the grant's wrapped data key."""
    return {"pk": f"KEY#{grant_id}", "sk": "DATAKEY"}


def grants_of_user(source: str, user_id: str) -> str:
    """The partition of pointers from a platform user to the grants they made (Meta's
    deauthorize and data deletion callbacks name the user only)."""
    return f"GRANTUSER#{source}#{user_id}"


def grant_of_user(source: str, user_id: str, grant_id: str) -> dict:
    return {"pk": grants_of_user(source, user_id), "sk": f"GRANT#{grant_id}"}


# Grants whose tokens the schedule renews, by when (sparse: only active, expiring grants).
TOKEN_RENEWAL = "TOKEN_RENEWAL"  # noqa: S105 (a partition name)


def token_renewal(renew_at: str, grant_id: str) -> dict:
    return {"gsi2pk": TOKEN_RENEWAL, "gsi2sk": f"{renew_at}#{grant_id}"}


def oauth_state(nonce: str) -> dict:
    """Written when an authorization's state is used: a second use finds it (single use)."""
    return {"pk": f"OAUTHSTATE#{nonce}", "sk": "OAUTH_STATE"}


def data_deletion(confirmation_code: str) -> dict:
    return {"pk": f"DELETION#{confirmation_code}", "sk": "DATA_DELETION"}


def merchant_settings(merchant_id: str) -> dict:
    return {"pk": f"MER#{merchant_id}", "sk": "SETTINGS"}


# The GSI1 partition listing the merchants that named a Meta commerce account (Shops orders
# are pulled for each).
META_COMMERCE_ACCOUNTS = "COMMERCE#meta"


def platform_media(platform: str, media_id: str) -> dict:
    """Points from a post's media on a platform to the post, for comments on it."""
    return {"pk": f"MEDIA#{platform}#{media_id}", "sk": "MEDIA"}


def inbox_item(item_id: str) -> dict:
    return {"pk": f"INBOX#{item_id}", "sk": "INBOX_ITEM"}


def engagement_text(ref: str) -> dict:
    """A comment's or message's text between the webhook and its consumer (never on the
    queue: the message carries `ref`); deleted once the inbox holds it, else by TTL."""
    return {"pk": f"TEXT#{ref}", "sk": "TEXT"}


CUSTOMER_REFS = "CUSREF#"


def customer_ref(token: str, kind: str, object_id: str) -> dict:
    """Points from a vault token to an object that shows that customer (an order, an inbox
    item), so that erasure finds every masked value and text of theirs outside the vault."""
    return {"pk": f"{CUSTOMER_REFS}{token}", "sk": f"{kind}#{object_id}"}


# Powertools builds an idempotency record's id as `IDEM#<hash>`; that id is the partition key.
IDEMPOTENCY_PREFIX = "IDEM"


def order(order_id: str) -> dict:
    return {"pk": f"ORD#{order_id}", "sk": "ORDER"}


def payment_intent(intent_id: str) -> dict:
    """Points from a Stripe PaymentIntent to its order, for events that carry only the intent."""
    return {"pk": f"PI#{intent_id}", "sk": "PAYMENT_INTENT"}


def webhook_receipt(source: str, event_id: str) -> dict:
    return {"pk": f"WHK#{source}#{event_id}", "sk": "RECEIPT"}


# Orders awaiting payment are spread over a few partitions of GSI2, by expiry time.
AWAITING_PAYMENT_SHARDS = 4


def awaiting_payment(order_id: str, expires_at: str) -> dict:
    shard = sum(order_id.encode()) % AWAITING_PAYMENT_SHARDS
    return {"gsi2pk": f"AWAITING_PAYMENT#{shard}", "gsi2sk": f"{expires_at}#{order_id}"}


def awaiting_payment_partitions() -> list[str]:
    return [f"AWAITING_PAYMENT#{n}" for n in range(AWAITING_PAYMENT_SHARDS)]


def outbox(object_id: str) -> dict:
    """One outbox item per object: its stream records come in commit order (DynamoDB Streams
    order the records of one item), so each object's events are published in order."""
    return {"pk": f"OUTBOX#{object_id}", "sk": "OUTBOX"}


OUTBOX_PREFIX = "OUTBOX#"
VARIANT_PREFIX = "VAR#"


def event(event_id: str) -> dict:
    return {"pk": f"EVT#{event_id}", "sk": "EVENT"}


def webhook_endpoint(endpoint_id: str) -> dict:
    return {"pk": f"WE#{endpoint_id}", "sk": "ENDPOINT"}


def delivery(delivery_id: str) -> dict:
    return {"pk": f"DLV#{delivery_id}", "sk": "DELIVERY"}


def delivery_attempt(delivery_id: str, attempt: int) -> dict:
    return {"pk": f"DLV#{delivery_id}", "sk": f"ATTEMPT#{attempt:04d}"}


def idempotency(record_id: str) -> dict:
    return {"pk": record_id, "sk": "IDEMPOTENCY"}


def merchant_listing(merchant_id: str, kind: str) -> str:
    """The GSI1 partition holding one merchant's objects of one kind, newest last."""
    return f"MER#{merchant_id}#{kind}"


def listing_entry(merchant_id: str, kind: str, created_at: str, object_id: str) -> dict:
    return {"gsi1pk": merchant_listing(merchant_id, kind), "gsi1sk": f"{created_at}#{object_id}"}


PRODUCT_PREFIX = "PROD#"
CONNECTION_PREFIX = "CONN#"
MERCHANT_PREFIX = "MER#"


def listings_of_product(product_id: str) -> str:
    """The partition holding a product's listings on every channel and their variants."""
    return f"LISTING#{product_id}"


def channel_listing(product_id: str, channel: str, account_id: str) -> dict:
    return {"pk": listings_of_product(product_id), "sk": f"CHANNEL#{channel}#{account_id}"}


# Every listing on GSI2, spread over a few partitions, for the reconciliation schedule.
LISTED_SHARDS = 4


def reconcile_due(product_id: str, channel: str, account_id: str, due_at: str) -> dict:
    """A listing in the reconciliation's queue, by when it is due to be read back."""
    shard = sum(product_id.encode()) % LISTED_SHARDS
    return {"gsi2pk": f"LISTED#{shard}", "gsi2sk": f"{due_at}#{product_id}#{channel}#{account_id}"}


def listed_partitions() -> list[str]:
    return [f"LISTED#{n}" for n in range(LISTED_SHARDS)]


def listed_variant(product_id: str, channel: str, account_id: str, variant_id: str) -> dict:
    """One variant's item on one channel: written apart from its listing, so that a stock
    push records its version with a condition on this item alone."""
    return {
        "pk": listings_of_product(product_id),
        "sk": f"CHANNEL#{channel}#{account_id}#VAR#{variant_id}",
    }


def stock_push_lease(variant_id: str) -> dict:
    """Held while one worker pushes a variant's stock to its channels (one at a time)."""
    return {"pk": f"STOCKSYNC#{variant_id}", "sk": "LEASE"}


def oversold(platform: str, external_order_id: str) -> dict:
    """Written once per platform order refused or backordered for want of stock."""
    return {"pk": f"OVERSOLD#{platform}#{external_order_id}", "sk": "OVERSOLD"}


# Creators, their referrals and their commissions


def creator(creator_id: str) -> dict:
    return {"pk": f"CR#{creator_id}", "sk": "CREATOR"}


def referral(merchant_id: str, code: str) -> dict:
    """A creator's link ref or referral code: unique per merchant, found by the code alone."""
    return {"pk": f"REF#{merchant_id}#{code}", "sk": "REFERRAL"}


def order_commission(order_id: str) -> dict:
    return {"pk": f"COMM#{order_id}", "sk": "COMMISSION"}


def creator_ledger(creator_id: str) -> str:
    """The partition of a creator's ledger entries, sorted by time."""
    return f"CRLEDGER#{creator_id}"


def ledger_entry(creator_id: str, at: str, event_id: str) -> dict:
    return {"pk": creator_ledger(creator_id), "sk": f"{at}#{event_id}"}


# The funnel: one item per (day, post, platform, creator), a partition per merchant and month


def funnel_partition(merchant_id: str, month: str) -> str:
    return f"FUNNEL#{merchant_id}#{month}"


def funnel_cell(
    merchant_id: str, day: str, post_id: str | None, channel: str, creator_id: str | None
) -> dict:
    return {
        "pk": funnel_partition(merchant_id, day[:7]),
        "sk": f"{day}#{post_id or '-'}#{channel}#{creator_id or '-'}",
    }


def funnel_order(order_id: str) -> dict:
    """What the funnel has counted of one order (its checkout, payment, refunds)."""
    return {"pk": f"FUNNELORD#{order_id}", "sk": "FUNNEL"}
