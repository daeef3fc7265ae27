"""Webhooks in: Stripe's, and each social platform's (one pair of routes per entry of the
platforms' table, so that adding a platform adds its routes). Every one is authenticated by
its signature on the raw body, never by a key; they verify, split and queue, and answer."""

from typing import Any

from chalice import Response

from ..adapters.platforms import WEBHOOK_SOURCES
from ..domain.inbound import Handshake
from ..services import payments, social
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/webhooks/stripe",
    "POST",
    public=True,
    summary="Stripe events, verified by their Stripe-Signature header",
)
def stripe_webhook(call: Call) -> dict[str, Any]:
    return payments.receive_webhook(
        call.rt.payments, call.raw_body, call.headers.get("stripe-signature")
    )


def _answer(handshake: Handshake) -> dict[str, Any] | Response:
    if isinstance(handshake.body, dict):
        return handshake.body  # JSON, like any other answer
    return Response(
        body=handshake.body, status_code=200, headers={"Content-Type": handshake.content_type}
    )


def _platform_routes(source: str, platform: Any) -> None:
    path = f"/v1/webhooks/{source}"

    def check(call: Call) -> dict[str, Any] | Response:
        return _answer(social.handshake(call.rt.social, source, call.query))

    def receive(call: Call) -> dict[str, Any]:
        return social.receive_webhook(call.rt.social, source, call.raw_body, call.headers)

    check.__name__ = f"{source}_webhook_check"
    receive.__name__ = f"{source}_webhook"
    query = platform.handshake_query
    routes.route(path, "GET", public=True, query=query, summary=platform.handshake_summary)(check)
    routes.route(path, "POST", public=True, summary=platform.webhook_summary)(receive)


for _source, _platform in WEBHOOK_SOURCES.items():
    _platform_routes(_source, _platform)
