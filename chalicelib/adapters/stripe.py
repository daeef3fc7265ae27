"""Stripe: the only module that imports the `stripe` package.

It talks to Stripe itself, or to `localstripe` when `STRIPE_API_BASE` points at one (make run,
tests). `stripe` is imported on first use: it costs as much start-up time as boto3.
Stripe's errors are translated here into ours.
"""

import time
from collections.abc import Callable
from typing import Any

from ..domain.inbound import NotAnEvent, parse_delivery
from ..domain.payments import PaymentIntent, Refund
from ..errors import InvalidRequest, InvalidSignature, PaymentDeclined, ServiceUnavailable

# How far a signature's timestamp may be from now, either way (Stripe's default is 300 s in
# the past; a timestamp in the future is refused as well: no clock is that far ahead).
TOLERANCE_SECONDS = 300


class StripePayments:
    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        webhook_secret: str = "",
        http_client=None,
        clock: Callable[[], float] = time.time,
    ):
        self._clock = clock
        self._api_key = api_key
        self._api_base = api_base
        self._webhook_secret = webhook_secret
        self._http_client = http_client  # a `stripe.HTTPClient`; None: stripe's default
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import stripe

            base = {"api": self._api_base} if self._api_base else None
            self._client = stripe.StripeClient(
                self._api_key,
                base_addresses=base,
                max_network_retries=2,
                http_client=self._http_client,
            )
        return self._client

    def _call(self, operation, *args, **kwargs) -> Any:
        import stripe

        try:
            return operation(*args, **kwargs)
        except stripe.CardError as error:
            raise PaymentDeclined(error.user_message or "The card was declined.") from error
        except stripe.InvalidRequestError as error:
            raise InvalidRequest(f"Payment provider refused the request: {error.user_message}",
                                 code="payment_invalid_request") from error  # fmt: skip
        except stripe.StripeError as error:
            raise ServiceUnavailable("The payment provider is unavailable; retry.") from error

    def create_payment_intent(
        self, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> PaymentIntent:
        intent = self._call(
            self.client.v1.payment_intents.create,
            params={
                "amount": amount,
                "currency": currency.lower(),
                "metadata": metadata,
                "payment_method_types": ["card"],
            },
            options={"idempotency_key": idempotency_key},
        )
        return PaymentIntent(intent.id, intent.client_secret, intent.status)

    def client_secret(self, intent_id: str) -> str:
        """An intent's client_secret, for answering a replayed checkout (never stored here)."""
        return self._call(self.client.v1.payment_intents.retrieve, intent_id).client_secret

    def cancel_payment_intent(self, intent_id: str, idempotency_key: str) -> None:
        self._call(
            self.client.v1.payment_intents.cancel,
            intent_id,
            options={"idempotency_key": idempotency_key},
        )

    def refund(self, intent_id: str, amount: int, idempotency_key: str) -> Refund:
        refund = self._call(
            self.client.v1.refunds.create,
            params={"payment_intent": intent_id, "amount": amount},
            options={"idempotency_key": idempotency_key},
        )
        return Refund(refund.id, refund.amount, refund.status)

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        """The event, if the `Stripe-Signature` header signs these exact bytes at a time
        within the tolerance of now (past or future). The signature is checked by
        stripe-python; the body is then parsed here, depth-limited, so that a signed body
        that is not an event is a 400, never a crash."""
        import stripe

        refused = InvalidSignature("The Stripe-Signature header does not sign this body.")
        if not signature_header or not self._webhook_secret:
            raise refused
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature_header, self._webhook_secret, tolerance=TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
            raise refused from error
        signed_at = _signed_at(signature_header)
        if signed_at is None or signed_at > self._clock() + TOLERANCE_SECONDS:
            raise refused
        try:
            event = parse_delivery(payload)
        except NotAnEvent as error:
            raise InvalidRequest("The body is not a Stripe event.", code="invalid_event") from error
        if not isinstance(event, dict):
            raise InvalidRequest("The body is not a Stripe event.", code="invalid_event")
        return event


def _signed_at(header: str) -> int | None:
    """The `t=` of a `Stripe-Signature` header (the last one, as stripe-python reads it)."""
    found = None
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            found = value
    return int(found) if found is not None and found.isdigit() else None
