"""Outbound webhooks: merchants' endpoints, the events they receive, and two consumers: the
main table's stream (the outbox) and the webhook queue (delivery attempts)."""

import os
from typing import Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent, SQSEvent

from ..consumers import WEBHOOK_QUEUE, consume, consume_stream
from ..domain.listing import ListOf, listing
from ..domain.outbound import (
    DeliveryAttemptView,
    Event,
    EventQuery,
    PageQuery,
    RedeliverRequest,
    RedeliverView,
    RotateSecretRequest,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookEndpointView,
)
from ..domain.scopes import Scope
from ..runtime import runtime
from ..services import channels, outbound
from ..web import Call, Routes

routes = Routes(__name__)
blueprint: Blueprint = routes.blueprint

# Chalice needs a stream ARN when app.py is imported; the build replaces it with the main
# table's own (infra/build.py), and `make run` reads the table's stream whatever this says.
OUTBOX_STREAM_ARN = os.environ.get(
    "SHOPPABLE_OUTBOX_STREAM_ARN",
    "arn:aws:dynamodb:us-east-1:000000000000:table/shoppable-main/stream/outbox",
)


@routes.route(
    "/v1/webhook_endpoints",
    "POST",
    scope=Scope.WEBHOOKS_WRITE,
    body=WebhookEndpointCreate,
    returns=WebhookEndpointView,
    status=201,
    idempotent=True,
    summary="Register a webhook endpoint; its signing secret (whsec_…) is shown this once",
)
def create_webhook_endpoint(call: Call) -> WebhookEndpointView:
    return outbound.create_endpoint(call.rt.outbound, call.merchant_id, call.body)


@routes.route(
    "/v1/webhook_endpoints",
    "GET",
    scope=Scope.WEBHOOKS_READ,
    query=PageQuery,
    returns=ListOf[WebhookEndpointView],
    summary="List webhook endpoints, newest first",
)
def list_webhook_endpoints(call: Call) -> ListOf[WebhookEndpointView]:
    found, cursor = outbound.list_endpoints(
        call.rt.outbound, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/webhook_endpoints/{endpoint_id}",
    "GET",
    scope=Scope.WEBHOOKS_READ,
    returns=WebhookEndpointView,
    summary="Get a webhook endpoint (never its secret)",
)
def get_webhook_endpoint(call: Call, endpoint_id: str) -> WebhookEndpointView:
    return outbound.get_endpoint(call.rt.outbound, call.merchant_id, endpoint_id)


@routes.route(
    "/v1/webhook_endpoints/{endpoint_id}",
    "PATCH",
    scope=Scope.WEBHOOKS_WRITE,
    body=WebhookEndpointUpdate,
    returns=WebhookEndpointView,
    summary="Change a webhook endpoint's url, events, description, or enable it again",
)
def update_webhook_endpoint(call: Call, endpoint_id: str) -> WebhookEndpointView:
    return outbound.update_endpoint(call.rt.outbound, call.merchant_id, endpoint_id, call.body)


@routes.route(
    "/v1/webhook_endpoints/{endpoint_id}",
    "DELETE",
    scope=Scope.WEBHOOKS_WRITE,
    summary="Delete a webhook endpoint; deliveries under way to it are cancelled",
)
def delete_webhook_endpoint(call: Call, endpoint_id: str) -> dict[str, Any]:
    return outbound.delete_endpoint(call.rt.outbound, call.merchant_id, endpoint_id)


@routes.route(
    "/v1/webhook_endpoints/{endpoint_id}/rotate_secret",
    "POST",
    scope=Scope.WEBHOOKS_WRITE,
    body=RotateSecretRequest,
    returns=WebhookEndpointView,
    idempotent=True,
    summary="A new signing secret (shown once); the old one keeps signing for grace_hours",
)
def rotate_webhook_secret(call: Call, endpoint_id: str) -> WebhookEndpointView:
    return outbound.rotate_secret(call.rt.outbound, call.merchant_id, endpoint_id, call.body)


@routes.route(
    "/v1/webhook_endpoints/{endpoint_id}/deliveries",
    "GET",
    scope=Scope.WEBHOOKS_READ,
    query=PageQuery,
    returns=ListOf[DeliveryAttemptView],
    summary="Delivery attempts to an endpoint, newest first: status, response, latency, retry",
)
def list_webhook_deliveries(call: Call, endpoint_id: str) -> ListOf[DeliveryAttemptView]:
    found, cursor = outbound.list_attempts(
        call.rt.outbound, call.merchant_id, endpoint_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/events",
    "GET",
    scope=Scope.WEBHOOKS_READ,
    query=EventQuery,
    returns=ListOf[Event],
    summary="Events of the last 30 days, newest first, by type and creation time",
)
def list_events(call: Call) -> ListOf[Event]:
    found, cursor = outbound.list_events(
        call.rt.outbound, call.merchant_id, call.query, call.page_size()
    )
    return listing(found, cursor)


@routes.route(
    "/v1/events/{event_id}",
    "GET",
    scope=Scope.WEBHOOKS_READ,
    returns=Event,
    summary="Get an event",
)
def get_event(call: Call, event_id: str) -> Event:
    return outbound.get_event(call.rt.outbound, call.merchant_id, event_id)


@routes.route(
    "/v1/events/{event_id}/redeliver",
    "POST",
    scope=Scope.WEBHOOKS_WRITE,
    body=RedeliverRequest,
    returns=RedeliverView,
    status=202,
    summary="Send an event again, to one endpoint or to every subscribed one",
)
def redeliver_event(call: Call, event_id: str) -> RedeliverView:
    return outbound.redeliver(call.rt.outbound, call.merchant_id, event_id, call.body)


@blueprint.on_dynamodb_record(
    stream_arn=OUTBOX_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON"
)
def on_outbox(event: DynamoDBEvent) -> dict[str, Any]:
    rt = runtime()

    def publish(records: list[dict[str, Any]]) -> None:
        outbound.publish_changes(rt.outbound, records, rt.event_consumers)
        channels.catalog_changed(rt.channels, records)

    return consume_stream(publish, event.to_dict())


@blueprint.on_sqs_message(queue=WEBHOOK_QUEUE, batch_size=4)
def on_webhook_attempt(event: SQSEvent) -> dict[str, Any]:
    return consume(runtime().webhook_handlers, event.to_dict())
