"""The social platforms' webhooks: verify, split, queue; and the consumer side's routing.

The route does as little as the contract allows, so that it answers far inside the platforms'
limits (Meta 5 s, TikTok and X 3 s) however busy the store is: check the signature on the raw
bytes, split the delivery into one event per entry, and queue them in one SQS call per ten.
Routing to the merchant (the account's connection) and de-duplication (the platform's id, or
a digest of the entry) happen in the consumer, before any work: both are reads the route would
otherwise pay for on every delivery, and the consumers are idempotent anyway. A delivery for
an account no merchant has connected is acknowledged and dropped there with a log line, so
the platform does not retry it for days.

Nothing personal goes onto the queue: the events hold object ids and comment text, and the
consumer fetches a comment's author from the platform and hands it straight to the vault.
"""

import json
from collections.abc import Callable

from ..adapters.platforms import meta, tiktok, x
from ..domain.events import Message
from ..domain.social import InboundEvent, NotAnEvent, meta_events, tiktok_events, x_events
from ..errors import AuthenticationFailed, InvalidRequest, PermissionDenied
from ..observability import logger

RECEIPT_DAYS = 30


class InvalidSignature(AuthenticationFailed):
    code = "invalid_signature"


def meta_subscription(settings, mode: str | None, token: str | None, challenge: str | None):
    """Meta's subscription check: the bare challenge when the verify token is ours."""
    from chalice import Response

    answer = meta.hub_challenge(
        settings.meta_verify_token.get_secret_value(), mode, token, challenge
    )
    if answer is None:
        raise PermissionDenied("The verify token does not match.", code="invalid_verify_token")
    return Response(body=answer, status_code=200, headers={"Content-Type": "text/plain"})


def x_crc(settings, crc_token: str) -> dict:
    return x.crc_response(settings.x_consumer_secret.get_secret_value(), crc_token)


def receive_meta(settings, queue, clock, raw: bytes, headers: dict) -> dict:
    secret = settings.meta_app_secret.get_secret_value()
    if not meta.verify_signature(secret, raw, headers.get(meta.SIGNATURE_HEADER)):
        raise InvalidSignature("X-Hub-Signature-256 does not sign this body.")
    return _queue(queue, clock, "meta", meta_events, raw)


def receive_tiktok(settings, queue, clock, raw: bytes, headers: dict) -> dict:
    key = settings.tiktok_app_key.get_secret_value()
    secret = settings.tiktok_app_secret.get_secret_value()
    if not tiktok.verify_signature(key, secret, raw, headers.get(tiktok.SIGNATURE_HEADER)):
        raise InvalidSignature("The Authorization header does not sign this body.")
    return _queue(queue, clock, "tiktok", tiktok_events, raw)


def receive_x(settings, queue, clock, raw: bytes, headers: dict) -> dict:
    secret = settings.x_consumer_secret.get_secret_value()
    if not x.verify_signature(secret, raw, headers.get(x.SIGNATURE_HEADER)):
        raise InvalidSignature("x-twitter-webhooks-signature does not sign this body.")
    return _queue(queue, clock, "x", x_events, raw)


def _queue(queue, clock, source: str, split: Callable, raw: bytes) -> dict:
    try:
        events = split(json.loads(raw))
    except (ValueError, NotAnEvent) as error:
        raise InvalidRequest(f"Not a {source} webhook delivery.", code="invalid_event") from error
    now = clock.now()
    queue.publish_all(
        [
            Message(
                id=f"{source}-{event.dedupe_id}"[:128],
                type=event.type,
                occurred_at=now,
                data=event.model_dump(mode="json"),
            )
            for event in events
        ]
    )
    return {"received": True, "events": len(events)}


# The consumer side

RoutedHandler = Callable[[object, str, InboundEvent], None]


def routed(handler: RoutedHandler) -> Callable:
    """Wrap an event handler: drop repeats, find the merchant, handle, then remember it."""

    def handle(rt, message: Message) -> None:
        event = InboundEvent.model_validate(message.data)
        source = event.type.split(".", 1)[0]
        if rt.webhook_receipts.seen(source, event.dedupe_id):
            logger.info("repeated delivery dropped", extra={"dedupe_id": event.dedupe_id})
            return
        connection = rt.connections.for_account(event.platform, event.account_id)
        if connection is None:
            logger.warning(
                "no merchant has connected this account; event dropped",
                extra={"platform": event.platform, "account_id": event.account_id,
                       "type": event.type},
            )  # fmt: skip
            return
        handler(rt, connection.merchant_id, event)
        expires = int(rt.clock.now().timestamp()) + RECEIPT_DAYS * 86400
        rt.webhook_receipts.remember(source, event.dedupe_id, expires)

    return handle
