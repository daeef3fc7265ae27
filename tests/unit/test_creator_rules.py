"""The creators' pure rules: attribution, commissions and their rounding, codes, IBANs, the
funnel's report and its picture."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.attribution import (
    AttributionClaim,
    Channel,
    Referral,
    ReferralKind,
    Via,
    attribute,
    channel_of,
)
from chalicelib.domain.charts import funnel_svg
from chalicelib.domain.creators import (
    BankTransfer,
    CommissionRules,
    CreatorUpdate,
    LinkCreate,
    clawback,
    earned_commission,
)
from chalicelib.domain.funnel import (
    Cell,
    CellCounts,
    FunnelQuery,
    funnel_csv,
    funnel_report,
    spreadsheet_safe,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def referral(code: str, kind: ReferralKind, creator: str, **extra) -> Referral:
    return Referral(
        code=code, kind=kind, merchant_id="mer_1", creator_id=creator, created_at=NOW, **extra
    )


CODE = referral("JANE10", ReferralKind.CODE, "cr_jane")
LINK = referral(
    "K3J9XQ2A7B", ReferralKind.LINK, "cr_sam", post_id="post_1", platform=Channel.TIKTOK
)


# Attribution


def test_a_code_beats_a_link():
    found = attribute(CODE, (LINK, NOW, None), "cr_collab", NOW)
    assert (found.creator_id, found.via, found.code) == ("cr_jane", Via.CODE, "JANE10")


def test_the_last_click_counts_within_the_window_only():
    inside = attribute(None, (LINK, NOW - timedelta(days=6, hours=23), None), None, NOW)
    assert (inside.creator_id, inside.via, inside.post_id) == ("cr_sam", Via.LINK, "post_1")
    assert inside.platform == Channel.TIKTOK  # the link's platform beats the page's claim
    assert attribute(None, (LINK, NOW - timedelta(days=7, seconds=1), None), None, NOW) is None
    assert (
        attribute(None, (LINK, NOW - timedelta(days=2), None), None, NOW, window=timedelta(days=1))
        is None
    )
    # A click "from the future" beyond a browser's clock skew is not a click.
    assert attribute(None, (LINK, NOW + timedelta(hours=1), None), None, NOW) is None


def test_a_collab_post_is_the_fallback_and_nothing_is_nobody():
    stale = (LINK, NOW - timedelta(days=30), None)
    assert attribute(None, stale, "cr_collab", NOW).via == Via.COLLAB
    assert attribute(None, None, None, NOW) is None


def test_an_inactive_referral_or_a_link_typed_as_a_code_attributes_nothing():
    off = CODE.model_copy(update={"active": False})
    assert attribute(off, None, None, NOW) is None
    assert attribute(LINK, None, None, NOW) is None  # a link's ref is not a code to type
    assert attribute(None, (CODE, NOW, Channel.INSTAGRAM), None, NOW).via == Via.LINK


def test_codes_are_compared_without_case_and_checked():
    assert AttributionClaim(ref=" jane10 ").ref == "JANE10"
    for bad in ("a", "-JANE", "JANE 10", "JANÉ10", "X" * 33, "JANE\x0010"):
        with pytest.raises(ValidationError):
            AttributionClaim(ref=bad)


def test_a_click_time_without_an_offset_is_utc():
    claim = AttributionClaim(ref="JANE10", clicked_at="2026-11-30T10:00:00")
    assert claim.clicked_at == datetime(2026, 11, 30, 10, tzinfo=UTC)


def test_the_funnels_platform_is_where_the_shopper_came_from_else_the_seller():
    link = attribute(None, (LINK, NOW, None), None, NOW)
    assert channel_of("storefront", link) == Channel.TIKTOK
    assert channel_of("tiktok", None) == Channel.TIKTOK
    assert channel_of("storefront", None) == Channel.WEB


# Commissions


def test_commission_uses_the_products_own_rate_and_rounds_once_half_up():
    rules = CommissionRules(rate_bps=1000, products={"prod_hat": 1550})
    # 10 % of 4900 + 15.5 % of 2500 = 490 + 387.5 -> 878 (half up, once per order)
    assert earned_commission([("prod_shirt", 4900), ("prod_hat", 2500)], rules) == 878
    assert earned_commission([("prod_shirt", 5)], CommissionRules(rate_bps=1000)) == 1  # .5 up
    assert earned_commission([("prod_shirt", 4)], CommissionRules(rate_bps=1000)) == 0


def test_a_full_refund_claws_back_exactly_what_was_earned():
    assert clawback(980, 9800, 9800) == 980
    assert clawback(980, 9800, 0) == 0
    assert clawback(980, 9800, 20_000) == 980  # never more than earned
    assert clawback(0, 9800, 9800) == 0


@given(
    earned=st.integers(0, 10**7),
    total=st.integers(1, 10**8),
    cuts=st.lists(st.integers(0, 10**8), max_size=30),
)
def test_no_cent_is_lost_or_created_over_any_sequence_of_partial_refunds(earned, total, cuts):
    """The entries made after each partial refund (the cumulative clawback minus what was
    clawed back before) add up to the proportional clawback of the total refunded; none is
    negative; and once all is refunded, exactly what was earned has come back."""
    refunds = sorted({min(c, total) for c in cuts})  # cumulative refunded totals, rising
    refunds = [r for r in refunds if r > 0]
    clawed, entries = 0, []
    for refunded in refunds:
        entry = clawback(earned, total, refunded) - clawed
        assert entry >= 0
        entries.append(entry)
        clawed += entry
    last = refunds[-1] if refunds else 0
    assert sum(entries) == clawback(earned, total, last)
    # The exact proportional share, rounded half up: |clawed - earned*last/total| <= 1/2.
    assert abs(2 * total * sum(entries) - 2 * earned * last) <= total
    assert clawback(earned, total, total) - clawed + sum(entries) == earned


@given(
    earned=st.integers(0, 10**6),
    total=st.integers(1, 10**7),
    exposures=st.lists(st.integers(0, 10**7), max_size=20),
)
def test_chargebacks_opened_and_won_give_back_exactly_what_they_took(earned, total, exposures):
    clawed = 0
    for exposure in [*exposures, 0]:  # ... and in the end every dispute is won
        clawed += clawback(earned, total, exposure) - clawed
    assert clawed == 0


def test_personal_fields_change_together_and_a_link_opens_a_post():
    with pytest.raises(ValidationError):
        CreatorUpdate(handles={"instagram": "jane"})
    assert CreatorUpdate(name="Jane", email="jane@example.com", handles={}).personal
    assert not CreatorUpdate(status="paused").personal
    with pytest.raises(ValidationError):
        LinkCreate.model_validate({"code": "JANE", "post_id": "post_1"})
    with pytest.raises(ValidationError):
        LinkCreate.model_validate({})


def test_an_iban_is_checked_and_its_value_never_echoed():
    assert BankTransfer(account_holder="J", iban="gb82 west 1234 5698 7654 32").iban == (
        "GB82WEST12345698765432"
    )
    with pytest.raises(ValidationError) as refused:
        BankTransfer(account_holder="J", iban="GB82WEST12345698765433")
    assert "12345698765433" not in str(refused.value.errors(include_input=False))


# The funnel


def cells() -> list[tuple[Cell, CellCounts]]:
    monday, tuesday = date(2026, 11, 23), date(2026, 11, 24)
    return [
        (
            Cell(monday, "post_a", Channel.INSTAGRAM, "cr_jane"),
            CellCounts(
                views=100,
                clicks=20,
                checkouts=4,
                paid_orders=2,
                revenue={"EUR": 9800},
                refunds={"EUR": 1400},
            ),
        ),
        (Cell(tuesday, "post_a", Channel.WEB, None), CellCounts(views=50, clicks=5)),
        (
            Cell(tuesday, "post_b", Channel.TIKTOK, "cr_sam"),
            CellCounts(views=10, checkouts=1, paid_orders=1, revenue={"EUR": 2500, "USD": 99}),
        ),
    ]


def test_a_report_adds_up_cells_by_group_and_by_day():
    report = funnel_report(cells(), "post", date(2026, 11, 22), date(2026, 11, 24), "EUR")
    assert report.totals.views == 160 and report.totals.paid_orders == 3
    assert report.totals.revenue.amount == 12300  # USD is left out of an EUR report
    assert [(r.key, r.views, r.revenue.amount) for r in report.rows] == [
        ("post_a", 150, 9800),
        ("post_b", 10, 2500),
    ]
    assert [d.day.isoformat() for d in report.days] == ["2026-11-22", "2026-11-23", "2026-11-24"]
    assert [d.views for d in report.days] == [0, 100, 60]
    by_creator = funnel_report(cells(), "creator", date(2026, 11, 22), date(2026, 11, 24), "EUR")
    assert {r.key for r in by_creator.rows} == {"cr_jane", "cr_sam", None}
    by_platform = funnel_report(cells(), "platform", date(2026, 11, 24), date(2026, 11, 24), "EUR")
    assert {r.key: r.views for r in by_platform.rows} == {"web": 50, "tiktok": 10}


def test_the_csv_has_one_line_per_day_and_group_with_exact_decimals():
    text = funnel_csv(cells(), "creator", date(2026, 11, 22), date(2026, 11, 24), "EUR")
    lines = text.splitlines()
    assert lines[0] == "day,creator,views,clicks,checkouts,paid_orders,currency,revenue,refunds"
    assert lines[1] == "2026-11-23,cr_jane,100,20,4,2,EUR,98.00,14.00"
    assert len(lines) == 4
    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"


def test_a_query_covers_at_most_a_year():
    with pytest.raises(ValidationError):
        FunnelQuery.model_validate({"from": "2025-01-01", "to": "2026-11-30"})
    with pytest.raises(ValidationError):
        FunnelQuery.model_validate({"from": "2026-11-30", "to": "2026-11-01"})
    assert FunnelQuery().days(date(2026, 11, 30)) == (date(2026, 11, 1), date(2026, 11, 30))


def test_the_picture_escapes_what_it_is_given_and_is_the_same_every_time():
    report = funnel_report(cells(), "post", date(2026, 11, 22), date(2026, 11, 24), "EUR")
    svg = funnel_svg(report, title='<script>alert("x")</script> & co')
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; co" in svg
    assert svg == funnel_svg(report, title='<script>alert("x")</script> & co')
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "123.00 EUR" in svg and "5  (20.0 %)" in svg  # 5 checkouts of 25 clicks


def test_an_empty_report_still_draws():
    report = funnel_report([], "post", date(2026, 11, 30), date(2026, 11, 30), "JPY")
    svg = funnel_svg(report)
    assert "n/a" in svg and "</svg>" in svg
