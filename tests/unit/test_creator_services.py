"""The creators' and the funnel's consumers of order events, and the beacon, against in-memory
fakes of their ports (tests/fakes.py): replays, stale events, caps."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.attribution import Attribution, Channel, Referral, ReferralKind, Via
from chalicelib.domain.creators import CommissionRules, Creator, CreatorStatus, MaskedCreator
from chalicelib.domain.funnel import BeaconRequest
from chalicelib.domain.money import Money
from chalicelib.domain.orders import Amounts, Order, OrderLine, OrderStatus
from chalicelib.domain.outbound import EventType, OrderEventData, new_event
from chalicelib.domain.posts import Media, Post, PostStatus
from chalicelib.errors import NotFound
from chalicelib.services import analytics, creators
from chalicelib.services.analytics import Analytics
from chalicelib.services.creators import Creators, CreatorSettings
from tests.fakes import (
    FakeClock,
    FakeCreators,
    FakeFunnel,
    FakeLedger,
    FakeOrders,
    FakePosts,
    FakeProducts,
    FakeReferrals,
    FakeVault,
)

MERCHANT = "mer_1"
TOTAL = 9800


class Merchants:
    def get(self, merchant_id):
        return None


def world(status: CreatorStatus = CreatorStatus.ACTIVE):
    clock = FakeClock()
    orders = FakeOrders(FakeProducts())
    line = OrderLine(
        variant_id="var_1",
        product_id="prod_1",
        sku="S",
        title="Shirt",
        quantity=2,
        unit_price=Money(amount=4900, currency="EUR"),
        total=Money(amount=TOTAL, currency="EUR"),
    )
    orders.orders_by_id["ord_1"] = Order(
        id="ord_1",
        merchant_id=MERCHANT,
        status=OrderStatus.PAID,
        lines=[line],
        amounts=Amounts(currency="EUR", subtotal=TOTAL, total=TOTAL),
        history=[],
        created_at=clock.now(),
        expires_at=clock.now(),
    )
    people = FakeCreators()
    people.add(
        Creator(
            id="cr_jane",
            merchant_id=MERCHANT,
            customer_token="cus_1",
            masked=MaskedCreator(name="J***", email="j***@example.com"),
            commission=CommissionRules(rate_bps=1000),
            status=status,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
    )
    posts = FakePosts()
    posts.add(
        Post(
            id="post_1",
            merchant_id=MERCHANT,
            media=Media(url="https://x.test/a.jpg", width=1, height=1),
            caption="",
            tags=[],
            status=PostStatus.ACTIVE,
            created_at=clock.now(),
            creator_id="cr_collab",
        )
    )
    referrals = FakeReferrals()
    referrals.add(
        Referral(
            code="K3J9XQ2A7B",
            kind=ReferralKind.LINK,
            merchant_id=MERCHANT,
            creator_id="cr_jane",
            post_id="post_1",
            platform=Channel.INSTAGRAM,
            created_at=clock.now(),
        )
    )
    ledger, funnel = FakeLedger(), FakeFunnel()
    made = Creators(
        creators=people,
        referrals=referrals,
        ledger=ledger,
        orders=orders,
        posts=posts,
        vault=FakeVault(),
        clock=clock,
        settings=CreatorSettings(storefront_url="https://shop.test"),
    )
    counted = Analytics(
        funnel=funnel,
        posts=posts,
        referrals=referrals,
        merchants=Merchants(),
        clock=clock,
        daily_cap=3,
    )
    return made, counted, clock


ATTRIBUTED = Attribution(creator_id="cr_jane", via=Via.LINK, platform=Channel.INSTAGRAM)


def order_event(clock, sequence, kind, status, refunded=0, amount=None, attribution=ATTRIBUTED):
    data = OrderEventData(
        order_id="ord_1",
        status=status,
        source="storefront",
        currency="EUR",
        total=TOTAL,
        refunded=refunded,
        amount=amount,
        post_id="post_1",
        attribution=attribution,
    )
    event = new_event(
        f"evt_{sequence}",
        EventType(f"order.{kind}"),
        MERCHANT,
        "ord_1",
        data,
        clock.now() + timedelta(minutes=sequence),
    )
    return event.model_copy(update={"sequence": sequence})


def both(made, counted, event):
    analytics.funnel_on_order_event(counted, event)
    creators.commission_on_order_event(made, event)


def net(made) -> int:
    return sum(e.amount for e in made.ledger.entries_by_id.values())


@settings(max_examples=60, deadline=None)
@given(
    refunds=st.lists(st.integers(1, TOTAL), max_size=8),
    replays=st.lists(st.integers(0, 20), max_size=10),
)
def test_the_ledger_never_loses_or_makes_a_cent_whatever_is_replayed(refunds, replays):
    """Paid, then partial refunds (each capped to what is left), the events delivered again
    at random points (as a retried stream batch would): the entries always add up to the
    commission minus the proportional clawback of what was refunded."""
    made, counted, clock = world()
    events = [
        order_event(clock, 1, "created", "pending_payment"),
        order_event(clock, 2, "paid", "paid"),
    ]
    refunded = 0
    for cut in refunds:
        if refunded >= TOTAL:
            break
        refunded = min(TOTAL, refunded + cut)
        kind = "refunded" if refunded == TOTAL else "partially_refunded"
        events.append(order_event(clock, len(events) + 1, kind, kind, refunded=refunded))
    delivered = []
    for index, event in enumerate(events):
        delivered.append(event)
        delivered += [events[r % (index + 1)] for r in replays if r % len(events) == index]
    for event in delivered:
        both(made, counted, event)
    earned = 980
    assert net(made) == earned - creators.clawback(earned, TOTAL, refunded)
    if refunded == TOTAL:
        assert net(made) == 0
    cells = counted.funnel.cells(MERCHANT, clock.now().date(), clock.now().date() + timedelta(1))
    assert sum(c.checkouts for _, c in cells) == 1 and sum(c.paid_orders for _, c in cells) == 1
    assert sum(c.refunds.get("EUR", 0) for _, c in cells) == refunded
    assert sum(c.revenue.get("EUR", 0) for _, c in cells) == TOTAL


def test_a_chargeback_holds_back_its_share_and_a_won_dispute_gives_it_back():
    made, counted, clock = world()
    both(made, counted, order_event(clock, 1, "paid", "paid"))
    both(made, counted, order_event(clock, 2, "disputed", "disputed", amount=4900))
    assert net(made) == 980 - 490
    both(made, counted, order_event(clock, 3, "paid", "paid"))  # won: back to paid
    assert net(made) == 980
    kinds = sorted(e.kind.value for e in made.ledger.entries_by_id.values())
    assert kinds == ["clawback", "earned", "reinstated"]
    # A lost dispute refunds the whole order: all of it comes back.
    both(made, counted, order_event(clock, 4, "disputed", "disputed", amount=TOTAL))
    both(made, counted, order_event(clock, 5, "refunded", "refunded", refunded=TOTAL))
    assert net(made) == 0
    # The payment was counted once in the funnel, although the order was paid twice.
    assert sum(c.paid_orders for c in counted.funnel.cells_by_key.values()) == 1


def test_a_stale_event_after_a_newer_one_moves_nothing():
    made, counted, clock = world()
    paid = order_event(clock, 1, "paid", "paid")
    partial = order_event(clock, 2, "partially_refunded", "partially_refunded", refunded=1400)
    fulfilled = order_event(clock, 3, "fulfilled", "partially_refunded", refunded=1400)
    for event in (paid, partial, fulfilled, paid, partial):
        both(made, counted, event)
    assert net(made) == 980 - 140
    assert len(made.ledger.entries_by_id) == 2


def test_a_paused_creator_earns_nothing_and_unattributed_orders_are_not_in_the_ledger():
    made, counted, clock = world(CreatorStatus.PAUSED)
    both(made, counted, order_event(clock, 1, "paid", "paid"))
    assert made.ledger.entries_by_id == {} and "ord_1" in made.ledger.commissions
    made, counted, clock = world()
    both(made, counted, order_event(clock, 1, "paid", "paid", attribution=None))
    assert made.ledger.commissions == {}
    assert sum(c.paid_orders for c in counted.funnel.cells_by_key.values()) == 1


def test_the_beacon_counts_up_to_the_cap_and_ignores_refs_that_are_not_the_merchants():
    _, counted, _ = world()
    for _ in range(5):
        analytics.record_beacon(
            counted, BeaconRequest(post_id="post_1", kind="view", ref="K3J9XQ2A7B")
        )
    analytics.record_beacon(counted, BeaconRequest(post_id="post_1", kind="click", ref="NOPE1"))
    cells = {
        (cell.creator_id, cell.channel): c for (_, cell), c in counted.funnel.cells_by_key.items()
    }
    assert cells[("cr_jane", Channel.INSTAGRAM)].views == 3  # capped at the daily cap
    assert cells[("cr_collab", Channel.WEB)].clicks == 1  # unknown ref: the collab post's
    with pytest.raises(NotFound):
        analytics.record_beacon(counted, BeaconRequest(post_id="post_404", kind="view"))
