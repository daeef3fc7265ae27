"""The funnel: the storefront's public beacon (views, hotspot clicks), and the merchant's
reports of what each post, platform and creator sells, as JSON, CSV and a picture."""

from chalice import Response

from ..domain.funnel import BeaconAnswer, BeaconRequest, FunnelQuery, FunnelReport
from ..domain.scopes import Scope
from ..services import analytics
from ..web import Call, Routes
from .creators import csv_response

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/storefront/beacon",
    "POST",
    public=True,
    body=BeaconRequest,
    returns=BeaconAnswer,
    status=202,
    summary="The widget reports a post seen or a hotspot clicked: no cookie, nothing personal",
)
def send_beacon(call: Call) -> BeaconAnswer:
    return analytics.record_beacon(call.rt.analytics, call.body)


routes.preflight("/v1/storefront/beacon")


@routes.route(
    "/v1/analytics/funnel",
    "GET",
    scope=Scope.ANALYTICS_READ,
    query=FunnelQuery,
    returns=FunnelReport,
    summary="Views, clicks, checkouts, paid orders, revenue, refunds by post, platform or creator",
)
def get_funnel(call: Call) -> FunnelReport:
    return analytics.report(call.rt.analytics, call.merchant_id, call.query)


@routes.route(
    "/v1/analytics/funnel.csv",
    "GET",
    scope=Scope.ANALYTICS_READ,
    query=FunnelQuery,
    produces="text/csv",
    summary="The funnel as CSV (text/csv): one line per day and group",
)
def get_funnel_csv(call: Call) -> Response:
    text = analytics.report_csv(call.rt.analytics, call.merchant_id, call.query)
    return csv_response(text, "funnel.csv")


@routes.route(
    "/v1/analytics/funnel.svg",
    "GET",
    scope=Scope.ANALYTICS_READ,
    query=FunnelQuery,
    produces="image/svg+xml",
    summary="The funnel and revenue per day as a picture (image/svg+xml)",
)
def get_funnel_svg(call: Call) -> Response:
    svg = analytics.report_svg(call.rt.analytics, call.merchant_id, call.query)
    return Response(
        body=svg,
        status_code=200,
        headers={
            "Content-Type": "image/svg+xml; charset=utf-8",
            "Cache-Control": "private, max-age=60",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )
