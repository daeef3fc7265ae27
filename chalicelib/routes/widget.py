"""The storefront widget's files and its demo page: static, public, served by the API function
(chalicelib/storefront_widget)."""

from chalice import Response

from .. import storefront_widget
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


@routes.route(
    "/demo/posts/{post_id}",
    "GET",
    public=True,
    summary="A demo page (HTML): the storefront widget showing the post, ready to buy from",
)
def get_demo_page(call: Call, post_id: str) -> Response:
    settings = call.rt.settings
    post = posts.visible_post(call.rt.posts, post_id)
    return storefront_widget.demo_page(
        post, settings.stripe_publishable_key, settings.stripe_js_url
    )
