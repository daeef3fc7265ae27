"""Shoppable posts: the merchant's side, publishing, and what shoppers see."""

from ..domain.listing import ListOf, ListQuery, listing
from ..domain.posts import PostCreate, PostView, StorefrontPost
from ..domain.publications import PublishRequest
from ..domain.scopes import Scope
from ..services import posts, publishing
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/posts",
    "POST",
    scope=Scope.POSTS_WRITE,
    body=PostCreate,
    returns=PostView,
    status=201,
    idempotent=True,
    summary="Create a shoppable post",
)
def create_post(call: Call) -> PostView:
    return posts.create_post(call.rt.posts, call.merchant_id, call.body)


@routes.route(
    "/v1/posts",
    "GET",
    scope=Scope.POSTS_READ,
    query=ListQuery,
    returns=ListOf[PostView],
    summary="List posts, newest first",
)
def list_posts(call: Call) -> ListOf[PostView]:
    found, cursor = posts.list_posts(
        call.rt.posts, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/posts/{post_id}",
    "GET",
    scope=Scope.POSTS_READ,
    returns=PostView,
    summary="Get a post",
)
def get_post(call: Call, post_id: str) -> PostView:
    return posts.get_post(call.rt.posts, call.merchant_id, post_id)


@routes.route(
    "/v1/posts/{post_id}/publish",
    "POST",
    scope=Scope.POSTS_WRITE,
    body=PublishRequest,
    returns=PostView,
    status=202,
    summary="Publish to the platforms: one queued job each; per-platform status on the post",
)
def publish_post(call: Call, post_id: str) -> PostView:
    return publishing.request_publication(call.rt.social, call.merchant_id, post_id, call.body)


@routes.route(
    "/v1/storefront/posts/{post_id}",
    "GET",
    public=True,
    returns=StorefrontPost,
    summary="A post as shoppers see it, each tag with title, price and availability",
)
def get_storefront_post(call: Call, post_id: str) -> StorefrontPost:
    return posts.shoppable_post(call.rt.posts, post_id)


routes.preflight("/v1/storefront/posts/{post_id}")
