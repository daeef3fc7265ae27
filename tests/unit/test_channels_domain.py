"""Channels' pure rules: a listing's overall verdict, when a channel holds an older stock,
what a channel is told of a backordered variant, and how drift is read."""

from chalicelib.domain.channels import (
    CatalogChannel,
    ChannelItemState,
    ChannelListing,
    ListedVariant,
    ListingStatus,
    drift_of,
    overall_status,
    shown_available,
    stale,
)


def listed(status=ListingStatus.LIVE, reason=None, sku="A", version=3, external="x1"):
    return ListedVariant(variant_id=f"var_{sku}", sku=sku, external_id=external, status=status,
                         reason=reason, synced_version=version)  # fmt: skip


def listing(**variants):
    return ChannelListing(product_id="prod_1", merchant_id="mer_1", channel=CatalogChannel.META,
                          account_id="cat1", connection_id="conn_1", variants=variants)  # fmt: skip


def test_a_listing_is_rejected_if_one_item_is_live_once_all_are_else_pending():
    assert overall_status({"a": listed(), "b": listed()}) == (ListingStatus.LIVE, None)
    assert overall_status({"a": listed(), "b": listed(ListingStatus.PENDING)})[0] == "pending"
    rejected = listed(ListingStatus.REJECTED, "Image too small", sku="B")
    assert overall_status({"a": listed(), "b": rejected}) == (
        ListingStatus.REJECTED, "B: Image too small")  # fmt: skip
    assert overall_status({}) == (ListingStatus.PENDING, None)


def test_only_an_older_version_on_a_listed_item_needs_a_push():
    assert stale(listed(version=3), 4)
    assert not stale(listed(version=4), 4)
    assert not stale(listed(version=5), 4)  # a newer one was pushed already
    assert not stale(listed(version=-1, external=None), 0)  # not on the channel (yet)


def test_a_backordered_variant_shows_out_of_stock():
    assert shown_available(-2) == 0
    assert shown_available(3) == 3


def test_drift_names_each_field_that_differs():
    one = listing(a=listed())
    same = ChannelItemState(in_stock=True, quantity=2, price="49.00 EUR")
    assert drift_of(one, "var_A", 2, "49.00 EUR", same) == []
    found = drift_of(one, "var_A", 0, "45.00 EUR", same)
    assert [(d.field, d.ours, d.theirs) for d in found] == [
        ("availability", "out of stock", "in stock"),
        ("quantity", "0", "2"),
        ("price", "45.00 EUR", "49.00 EUR"),
    ]
    assert [d.field for d in drift_of(one, "var_A", 2, "49.00 EUR", None)] == ["missing"]
    unknown = ChannelItemState()  # a channel that says nothing of a field is not drift
    assert drift_of(one, "var_A", 0, "49.00 EUR", unknown) == []
