"""The merchant's own settings: comment-to-buy, the Pinterest board, the Meta commerce
account."""

from ..domain.scopes import Scope
from ..domain.settings import MerchantSettings, SettingsUpdate
from ..services import merchant_settings
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/settings",
    "GET",
    scope=Scope.SETTINGS_READ,
    returns=MerchantSettings,
    summary="The merchant's settings (the defaults until it changes them)",
)
def get_settings(call: Call) -> MerchantSettings:
    return merchant_settings.get_settings(call.rt.social, call.merchant_id)


@routes.route(
    "/v1/settings",
    "PATCH",
    scope=Scope.SETTINGS_WRITE,
    body=SettingsUpdate,
    returns=MerchantSettings,
    summary="Change settings: comment-to-buy keywords and reply (also per post), the "
    "Pinterest board, the Meta commerce account",
)
def update_settings(call: Call) -> MerchantSettings:
    return merchant_settings.update_settings(call.rt.social, call.merchant_id, call.body)
