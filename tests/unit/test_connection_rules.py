"""The pure rules of connecting accounts: the signed state, PKCE, when tokens are renewed, which
token acts for an account, Meta's signed_request, and a merchant's comment-to-buy settings."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.adapters.platforms.meta import parse_signed_request, sign_request
from chalicelib.domain.connections import (
    AuthorizationState,
    Connection,
    Platform,
    StateRefused,
    Tokens,
    access_for,
    pkce_challenge,
    pkce_verifier,
    read_state,
    renewal_time,
    sign_state,
)
from chalicelib.domain.settings import (
    CommentToBuy,
    MerchantSettings,
    SettingsUpdate,
    render_reply,
    updated,
)

SECRET = b"a-server-secret"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STATE = AuthorizationState("mer_1", Platform.X, "nonce1", 1_000)


def test_a_state_reads_back_only_with_its_secret_platform_and_time():
    signed = sign_state(SECRET, STATE)
    assert read_state(SECRET, signed, Platform.X, 999) == STATE
    for secret, platform, now, code in [
        (b"another-secret", Platform.X, 999, "state_invalid"),
        (SECRET, Platform.TIKTOK, 999, "state_invalid"),
        (SECRET, Platform.X, 1_000, "state_expired"),
    ]:
        with pytest.raises(StateRefused) as refused:
            read_state(secret, signed, platform, now)
        assert refused.value.code == code


@pytest.mark.parametrize("change", ["payload", "signature", "dot", "empty", "junk"])
def test_an_altered_state_is_invalid(change):
    body, signature = sign_state(SECRET, STATE).split(".")
    forged = {
        "payload": sign_state(SECRET, AuthorizationState("mer_2", Platform.X, "n", 1_000)).split(
            "."
        )[0]
        + "."
        + signature,
        "signature": body + "." + signature[:-2] + "AA",
        "dot": body + signature,
        "empty": "",
        "junk": "!!.??",
    }[change]
    with pytest.raises(StateRefused) as refused:
        read_state(SECRET, forged, Platform.X, 0)
    assert refused.value.code == "state_invalid"


def test_pkce_follows_rfc_7636():
    # RFC 7636, appendix B
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    verifier = pkce_verifier(SECRET, "nonce1")
    assert len(verifier) == 43 and verifier == pkce_verifier(SECRET, "nonce1")
    assert verifier != pkce_verifier(SECRET, "nonce2")
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    ("lifetime", "renewed_after"),
    [
        (timedelta(hours=2), timedelta(hours=1, minutes=30)),  # X
        (timedelta(days=60), timedelta(days=45)),  # Meta's long-lived token
        (timedelta(days=7), timedelta(days=5, hours=6)),  # TikTok Shop
        (timedelta(minutes=20), timedelta(0)),  # already inside the margin: now
        (-timedelta(minutes=5), timedelta(0)),  # expired: now
    ],
)
def test_tokens_are_renewed_a_quarter_of_their_life_early_at_least_30_minutes(
    lifetime, renewed_after
):
    tokens = Tokens(access_token="t", access_expires_at=NOW + lifetime)
    assert renewal_time(tokens, NOW) == NOW + renewed_after


def test_the_first_expiry_decides_and_nothing_expiring_is_never_renewed():
    both = Tokens(
        access_token="t",
        access_expires_at=NOW + timedelta(days=30),
        refresh_token="r",
        refresh_expires_at=NOW + timedelta(hours=2),
    )
    assert renewal_time(both, NOW) == NOW + timedelta(hours=1, minutes=30)
    assert renewal_time(Tokens(access_token="t"), NOW) is None


def test_pages_and_their_instagram_accounts_act_with_the_pages_token():
    tokens = Tokens(access_token="user", account_tokens={"p1": "page-1", "p2": "page-2"})

    def connection(platform, account_id, **details):
        return Connection(
            id="conn_1", merchant_id="mer_1", platform=platform, account_id=account_id,
            grant_id="grt_1", details=details, created_at=NOW, updated_at=NOW,
        )  # fmt: skip

    assert access_for(connection(Platform.FACEBOOK, "p2"), tokens).token == "page-2"
    assert access_for(connection(Platform.INSTAGRAM, "ig1", page_id="p1"), tokens).token == "page-1"
    assert access_for(connection(Platform.X, "u1"), Tokens(access_token="x")).token == "x"
    assert "page-1" not in repr(tokens) and "user" not in repr(access_for(
        connection(Platform.X, "u1"), tokens))  # fmt: skip


# Meta's signed_request

PAYLOAD = {"algorithm": "HMAC-SHA256", "issued_at": 1717000000, "user_id": "10158000000000001"}


def test_a_signed_request_is_read_with_the_app_secret():
    signed = sign_request("app-secret", PAYLOAD)
    assert "=" not in signed  # base64url without padding, as Meta sends it
    assert parse_signed_request("app-secret", signed) == PAYLOAD


@pytest.mark.parametrize(
    "signed",
    [
        sign_request("other-secret", PAYLOAD),
        sign_request("app-secret", {**PAYLOAD, "algorithm": "HMAC-SHA1"}),
        sign_request("app-secret", {k: v for k, v in PAYLOAD.items() if k != "user_id"}),
        sign_request("app-secret", PAYLOAD).replace(".", ".e"),
        "a.b.c",
        "%%%.%%%",
        None,
    ],
)
def test_anything_else_is_refused(signed):
    assert parse_signed_request("app-secret", signed) is None
    assert parse_signed_request("", sign_request("", PAYLOAD)) is None  # no secret set


# A merchant's comment-to-buy


def test_a_reply_fills_only_its_two_placeholders():
    template = "{title} → {link} {0} {__class__}"
    assert (
        render_reply(template, "Tee {x}", "https://s/p") == "Tee {x} → https://s/p {0} {__class__}"
    )


@pytest.mark.parametrize("template", ["no link", "{link} {price}", "{link} {title.upper}"])
def test_a_template_without_the_link_or_with_other_placeholders_is_refused(template):
    with pytest.raises(ValidationError):
        SettingsUpdate(reply_template=template)


def test_a_posts_override_takes_what_it_sets_and_inherits_the_rest():
    settings = MerchantSettings(
        comment_keywords=["buy"],
        reply_template="Here: {link}",
        posts={"post_1": CommentToBuy(comment_keywords=["dispo"])},
    )
    assert settings.comment_to_buy("post_1") == (["dispo"], "Here: {link}")
    assert settings.comment_to_buy("post_2") == (["buy"], "Here: {link}")
    assert settings.comment_to_buy(None) == (["buy"], "Here: {link}")


def test_an_update_changes_only_what_it_sends():
    current = MerchantSettings(pinterest_board_id="b1", posts={"post_1": CommentToBuy()})
    changed = updated(
        current,
        SettingsUpdate.model_validate(
            {"comment_keywords": ["x"], "meta_commerce_account_id": None, "posts": {"post_1": None}}
        ),
        NOW,
    )
    assert changed.comment_keywords == ["x"]
    assert changed.pinterest_board_id == "b1"
    assert changed.posts == {}
    assert changed.updated_at == NOW
