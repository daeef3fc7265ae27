"""Creators: who they are (their personal data in the vault), their links and codes, and the
statement of the commissions they earned."""

from chalice import Response

from ..domain.creators import (
    CodeCreate,
    CreatorCreate,
    CreatorUpdate,
    CreatorView,
    LinkCreate,
    ReferralUpdate,
    ReferralView,
    Statement,
)
from ..domain.funnel import DayRangeQuery
from ..domain.listing import ListOf, ListQuery, listing
from ..domain.scopes import Scope
from ..services import creators
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/creators",
    "POST",
    scope=Scope.CREATORS_WRITE,
    body=CreatorCreate,
    returns=CreatorView,
    status=201,
    idempotent=True,
    summary="Add a creator: name, e-mail, handles and payout details go to the vault",
)
def create_creator(call: Call) -> CreatorView:
    return creators.create_creator(
        call.rt.creators, call.merchant_id, call.body, by_key=_key_id(call)
    )


@routes.route(
    "/v1/creators",
    "GET",
    scope=Scope.CREATORS_READ,
    query=ListQuery,
    returns=ListOf[CreatorView],
    summary="List creators, newest first",
)
def list_creators(call: Call) -> ListOf[CreatorView]:
    found, cursor = creators.list_creators(
        call.rt.creators, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/creators/{creator_id}",
    "GET",
    scope=Scope.CREATORS_READ,
    returns=CreatorView,
    summary="Get a creator (personal data as masked values and a vault token)",
)
def get_creator(call: Call, creator_id: str) -> CreatorView:
    return creators.get_creator(call.rt.creators, call.merchant_id, creator_id)


@routes.route(
    "/v1/creators/{creator_id}",
    "PATCH",
    scope=Scope.CREATORS_WRITE,
    body=CreatorUpdate,
    returns=CreatorView,
    summary="Change a creator's commission, hold, status or (with name and e-mail) details",
)
def update_creator(call: Call, creator_id: str) -> CreatorView:
    return creators.update_creator(
        call.rt.creators, call.merchant_id, creator_id, call.body, by_key=_key_id(call)
    )


@routes.route(
    "/v1/creators/{creator_id}/links",
    "POST",
    scope=Scope.CREATORS_WRITE,
    body=LinkCreate,
    returns=ReferralView,
    status=201,
    idempotent=True,
    summary="A link for the creator to share: the post's page with a generated ref",
)
def create_link(call: Call, creator_id: str) -> ReferralView:
    return creators.create_link(call.rt.creators, call.merchant_id, creator_id, call.body)


@routes.route(
    "/v1/creators/{creator_id}/codes",
    "POST",
    scope=Scope.CREATORS_WRITE,
    body=CodeCreate,
    returns=ReferralView,
    status=201,
    idempotent=True,
    summary="A referral code buyers type at checkout (no discount), unique in the shop",
)
def create_code(call: Call, creator_id: str) -> ReferralView:
    return creators.create_code(call.rt.creators, call.merchant_id, creator_id, call.body)


@routes.route(
    "/v1/creators/{creator_id}/referrals",
    "GET",
    scope=Scope.CREATORS_READ,
    query=ListQuery,
    returns=ListOf[ReferralView],
    summary="A creator's links and codes, newest first",
)
def list_referrals(call: Call, creator_id: str) -> ListOf[ReferralView]:
    found, cursor = creators.list_referrals(
        call.rt.creators, call.merchant_id, creator_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/creators/{creator_id}/referrals/{code}",
    "PATCH",
    scope=Scope.CREATORS_WRITE,
    body=ReferralUpdate,
    returns=ReferralView,
    summary="Switch a link or code off (or on again): it then attributes nothing",
)
def update_referral(call: Call, creator_id: str, code: str) -> ReferralView:
    return creators.update_referral(call.rt.creators, call.merchant_id, creator_id, code, call.body)


@routes.route(
    "/v1/creators/{creator_id}/statement",
    "GET",
    scope=Scope.CREATORS_READ,
    query=DayRangeQuery,
    returns=Statement,
    summary="Commissions earned, clawed back and reinstated over days (UTC), with totals",
)
def get_statement(call: Call, creator_id: str) -> Statement:
    return creators.statement(call.rt.creators, call.merchant_id, creator_id, call.query)


@routes.route(
    "/v1/creators/{creator_id}/statement.csv",
    "GET",
    scope=Scope.CREATORS_READ,
    query=DayRangeQuery,
    produces="text/csv",
    summary="The statement as CSV (text/csv), one line per ledger entry",
)
def get_statement_csv(call: Call, creator_id: str) -> Response:
    text = creators.statement_csv(call.rt.creators, call.merchant_id, creator_id, call.query)
    return csv_response(text, f"statement-{creator_id}.csv")


def csv_response(text: str, file_name: str) -> Response:
    return Response(
        body=text,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{file_name}"',
            "Cache-Control": "no-store",
        },
    )


def _key_id(call: Call) -> str:
    assert call.key is not None, "creators' routes are authenticated"
    return call.key.id
