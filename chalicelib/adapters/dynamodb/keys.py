"""Every key of the main table is built here and nowhere else."""


def merchant(merchant_id: str) -> dict:
    return {"pk": f"MER#{merchant_id}", "sk": "MERCHANT"}


def api_key(secret_hash: str) -> dict:
    """One secret of a key, by its hash: what authentication reads."""
    return {"pk": f"KEY#{secret_hash}", "sk": "KEY"}


def key_record(key_id: str) -> dict:
    """A key as its merchant manages it (scopes, expiry, revocation, its secrets' hashes)."""
    return {"pk": f"APIKEY#{key_id}", "sk": "APIKEY"}


def merchant_settings(merchant_id: str, part: str) -> dict:
    return {"pk": f"MER#{merchant_id}", "sk": f"SETTINGS#{part}"}


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
