"""Paying from a browser at localstripe, the way Stripe.js pays at Stripe.

localstripe (1.15.10, the latest release) serves a stand-in for Stripe.js at `/js.stripe.com/v3/`
(its `localstripe-v3.js`): `Stripe(pk)`, `elements()`, `create('card')` with five plain inputs
(number, expiry month, two-digit year, CVC, postal code), and `confirmCardPayment`. That last
one does not do what Stripe.js does (upstream issue #253, its fixes unmerged): it never sends
the card, and posts straight to the 3-D Secure step, `/_authenticate`, which localstripe
refuses for an intent that is not waiting for authentication, such as ours, created without a
payment method. Stripe.js instead confirms the PaymentIntent from the browser with the
publishable key, the intent's client_secret and the card (`payment_method_data`), and runs
3-D Secure only when Stripe asks for it.

`install` gives the stand-in process that flow and leaves the rest of localstripe as it is:
- a middleware answers `POST /v1/payment_intents/{id}/confirm` when it carries a publishable
  key and the intent's client_secret (compared in constant time): it makes the card a
  PaymentMethod and confirms, so that localstripe charges it and sends its signed
  `payment_intent.succeeded` (or `payment_failed`) webhook to the stack, as Stripe would.
  Confirms with a secret key (the e2e tests, the README's curl) go to localstripe unchanged.
- `/js.stripe.com/v3/` serves localstripe's script followed by `localstripe-v3-fixes.js`, whose
  `confirmCardPayment` confirms that way, then opens localstripe's 3-D Secure dialog only if
  the intent requires action. It also names the stand-in's inputs for assistive technology.
- Stripe's generic decline card, 4000 0000 0000 0002, is declined when charged, as at Stripe;
  localstripe declined it only when attached to a customer.
"""

import hmac
import re
from functools import lru_cache
from pathlib import Path

from aiohttp import web

from .stripe_standin import STRIPE_JS_PATH

_CONFIRM_PATH = re.compile(r"^/v1/payment_intents/(pi_[A-Za-z0-9]+)/confirm$")
_FIXES = Path(__file__).with_name("localstripe-v3-fixes.js")
# Stripe's own wording, which the storefront shows as it is.
_UNEXPECTED_STATE = "This PaymentIntent's status is {}; it cannot be confirmed."
_INVALID_CARD = "Your card details are incomplete or invalid."


def install(app: web.Application) -> None:
    """Call before the app starts serving (its middleware list is frozen then)."""
    from localstripe.resources import PaymentMethod

    declined_when_charged = PaymentMethod._charging_is_declined

    def charging_is_declined(method) -> bool:
        return declined_when_charged(method) or method._attaching_is_declined()

    PaymentMethod._charging_is_declined = charging_is_declined
    # After localstripe's error middleware, which turns its errors into responses; before its
    # auth middleware, which takes only secret keys on this route.
    app.middlewares.insert(1, _browser_payments)


@lru_cache(maxsize=1)
def stripe_js() -> str:
    import localstripe

    original = Path(localstripe.__file__).with_name("localstripe-v3.js").read_text()
    return original + "\n" + _FIXES.read_text()


@web.middleware
async def _browser_payments(request: web.Request, handler):
    if request.method == "GET" and request.path == STRIPE_JS_PATH:
        return web.Response(text=stripe_js(), content_type="application/javascript")
    confirm = _CONFIRM_PATH.match(request.path)
    if request.method == "POST" and confirm and "authorization" not in request.headers:
        from localstripe.server import get_post_data

        data = await get_post_data(request, remove_auth=False) or {}
        if str(data.get("key", "")).startswith("pk_"):
            return _confirm_with_card(confirm[1], data)
    return await handler(request)


def _confirm_with_card(intent_id: str, data: dict) -> web.Response:
    from localstripe.errors import UserError, json_response
    from localstripe.resources import PaymentIntent, PaymentMethod

    intent = PaymentIntent._api_retrieve(intent_id)
    secret = data.get("client_secret")
    if not isinstance(secret, str) or not hmac.compare_digest(
        secret.encode(), intent.client_secret.encode()
    ):
        raise UserError(401, "Unauthorized")
    if intent.status not in ("requires_payment_method", "requires_confirmation"):
        raise UserError(
            400,
            _UNEXPECTED_STATE.format(intent.status),
            {"code": "payment_intent_unexpected_state"},
        )
    method_data = data.get("payment_method_data")
    if not isinstance(method_data, dict) or method_data.get("type") != "card":
        raise UserError(400, _INVALID_CARD, {"code": "parameter_missing"})
    try:
        method = PaymentMethod._api_create(
            type="card",
            card=method_data.get("card"),
            billing_details=method_data.get("billing_details") or None,
        )
    except UserError:
        raise UserError(400, _INVALID_CARD, {"code": "invalid_card_details"}) from None
    intent.payment_method = method.id
    intent.latest_charge = None  # a new attempt after a declined one
    # Charges the card, or waits for 3-D Secure; a declined card raises the card error (402)
    # after scheduling `payment_intent.payment_failed`.
    intent._confirm(on_failure_now=intent._report_failure)
    return json_response(intent._export())
