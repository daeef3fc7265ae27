"""The storefront widget's files and its demo page: static, public, served by the API function
(chalicelib/storefront_widget)."""

from chalice import Response
from pydantic import ConfigDict, Field

from .. import storefront_widget
from ..domain.base import Model
from ..services import posts
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/widget/{file_name}",
    "GET",
    public=True,
    summary="The storefront widget: shoppable.js and client.js (ES modules), shoppable.css",
)
def get_widget_file(call: Call, file_name: str) -> Response:
    return storefront_widget.asset(file_name, call.headers.get("if-none-match"))


class DemoPageQuery(Model):
    """A shared link carries what the sharer adds (`ref`, `utm_source`, a platform's click
    id): the page ignores it all; the widget reads `ref` and the source from the URL."""

    model_config = ConfigDict(extra="ignore")

    ref: str | None = Field(None, max_length=64, description="a creator's link ref")


@routes.route(
    "/demo/posts/{post_id}",
    "GET",
    public=True,
    query=DemoPageQuery,
    summary="A demo page (HTML): the storefront widget showing the post, ready to buy from",
)
def get_demo_page(call: Call, post_id: str) -> Response:
    settings = call.rt.settings
    post = posts.visible_post(call.rt.posts, post_id)
    return storefront_widget.demo_page(
        post, settings.stripe_publishable_key, settings.stripe_js_url
    )
