"""The merchant's own settings: comment-to-buy, the Pinterest board, the Meta commerce
account, the limits on anonymous checkouts."""

from ..domain.scopes import Scope
from ..domain.settings import SettingsUpdate, SettingsView
from ..services import merchant_settings
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/settings",
    "GET",
    scope=Scope.SETTINGS_READ,
    returns=SettingsView,
    summary="The merchant's settings (the defaults until it changes them)",
)
def get_settings(call: Call) -> SettingsView:
    return merchant_settings.get_settings(call.rt.social, call.rt.shop_settings, call.merchant_id)


@routes.route(
    "/v1/settings",
    "PATCH",
    scope=Scope.SETTINGS_WRITE,
    body=SettingsUpdate,
    returns=SettingsView,
    summary="Change settings: comment-to-buy keywords and reply (also per post), the "
    "Pinterest board, the Meta commerce account, the checkout limits",
)
def update_settings(call: Call) -> SettingsView:
    return merchant_settings.update_settings(
        call.rt.social, call.rt.shop_settings, call.merchant_id, call.body
    )
