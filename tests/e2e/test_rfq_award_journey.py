"""After award the winner learns who the buyer is and the loser does not; a group request end to end."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from buyers.models import BuyingGroup, GroupMembership
from marketplace.selectors import terms_current
from rfq import services
from rfq.models import Award, Rfq
from tests.conftest import make_cast
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.rfq import builders

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_out(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("summary", has_text=email).click()
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign Out").click()


def _world():  # type: ignore[no-untyped-def]
    cast = make_cast()
    builders.profile(cast.buyer_org)
    builders.profile(cast.other_buyer_org, industry="healthcare")
    builders.criteria(cast.carrier_org, "UK data")
    builders.criteria(cast.other_carrier_org, "Everything")
    return cast


def test_winner_sees_the_buyer_and_loser_does_not(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    cast = _world()
    sites = [
        builders.site(cast.buyer_org, "Head office", postcode="LS1 4AP"),
        builders.site(cast.buyer_org, "Depot", postcode="LS9 8AA"),
    ]
    rfq = builders.published(cast.buyer_owner, sites=sites)
    winner = builders.bid(rfq, cast.seller_sales, monthly="250.00")
    builders.bid(rfq, cast.other_seller, monthly="260.00")
    builders.past_deadline(rfq)
    services.rfq_select(actor=cast.buyer_owner, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in winner.lines.all()})
    services.award_accept_terms(actor=cast.buyer_owner, rfq=rfq, organization=cast.buyer_org, terms=terms_current())

    base = live_server.url
    sign_in(page, base, cast.seller_sales.email, PASSWORD)
    page.goto(f"{base}/rfq/seller/{rfq.pk}/")
    expect(page.get_by_role("heading", name="Your customer")).to_be_visible()
    expect(page.get_by_text(cast.buyer_org.name).first).to_be_visible()
    shot("rfq-award-01-winner-sees-buyer")
    _sign_out(page, cast.seller_sales.email)

    sign_in(page, base, cast.other_seller.email, PASSWORD)
    page.goto(f"{base}/rfq/seller/{rfq.pk}/")
    expect(page.get_by_text("The buyer selected another offer.")).to_be_visible()
    assert cast.buyer_org.name not in page.content()
    assert "Head office" not in page.content() and sites[0].street not in page.content()
    shot("rfq-award-02-loser-sees-alias-only")


def test_group_request_members_confirm_compare_and_each_accept(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    cast = _world()
    group = BuyingGroup.objects.create(
        name="Main Street Test Group",
        region="Yorkshire",
        contact_name="Lead",
        contact_email="lead@buyer.test",
        lead=cast.buyer_org,
        join_code_hash="x",
    )
    GroupMembership.objects.create(group=group, organization=cast.buyer_org, status="active")
    GroupMembership.objects.create(group=group, organization=cast.other_buyer_org, status="active")
    lead_sites = [builders.site(cast.buyer_org, "Lead shop", postcode="LS1 4AP")]
    member_sites = [
        builders.site(cast.other_buyer_org, "Member clinic", postcode="LS2 7AB"),
        builders.site(cast.other_buyer_org, "Member annex", postcode="LS2 7AC"),
    ]
    rfq = builders.scheduled(
        cast.buyer_owner, sites=lead_sites + member_sites, group=group, title="Group broadband 2027"
    )
    base = live_server.url

    # The member organisation confirms which of its sites take part (it drops the annex).
    sign_in(page, base, cast.other_buyer.email, PASSWORD)
    page.goto(f"{base}/rfq/{rfq.pk}/")
    expect(page.get_by_role("heading", name="Confirm your sites")).to_be_visible()
    page.get_by_label("Member annex").uncheck()
    shot("rfq-group-01-member-confirms")
    page.get_by_role("button", name="Confirm sites").click()
    assert sorted(rfq.rfq_sites.values_list("site__name", flat=True)) == ["Lead shop", "Member clinic"]
    _sign_out(page, cast.other_buyer.email)

    # The lead publishes; carriers see one anonymous group request; both bid; the deadline passes.
    services.rfq_publish(actor=cast.buyer_owner, rfq=rfq)
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.OPEN and rfq.invitations.count() == 2
    usage = {
        "usage_rate": Decimal("0.02"),
        "usage_unit": "GB",
        "tiers": [(Decimal("1000"), Decimal("0.015"))],
        "minimum_commitment": Decimal("50.00"),
    }
    builders.bid(rfq, cast.seller_sales, monthly="120.00", terms={"internet-dedicated": usage})
    builders.bid(rfq, cast.other_seller, monthly="135.00")
    sign_in(page, base, cast.seller_sales.email, PASSWORD)
    page.goto(f"{base}/rfq/seller/{rfq.pk}/")
    expect(page.get_by_text(f"Buyer group {group.reference}").first).to_be_visible()
    assert cast.buyer_org.name not in page.content() and cast.other_buyer_org.name not in page.content()
    shot("rfq-group-02-carrier-sees-group-alias")
    _sign_out(page, cast.seller_sales.email)
    builders.past_deadline(rfq)

    # The lead compares and chooses one carrier for the whole request, then accepts for its own site.
    sign_in(page, base, cast.buyer_owner.email, PASSWORD)
    page.goto(f"{base}/rfq/{rfq.pk}/compare/")
    # The first carrier's usage terms sit beside its prices.
    expect(page.get_by_text("above 1000 GB: 0.015").first).to_be_visible()
    expect(page.get_by_text("minimum 50.00 a month").first).to_be_visible()
    shot("rfq-group-03-lead-compares")
    page.goto(f"{base}/rfq/{rfq.pk}/award/")
    page.get_by_role("button", name="for all lines").first.click()
    page.get_by_label("I accept these terms").check()
    page.get_by_role("button", name="Accept the terms").click()
    expect(page.get_by_text("Waiting for:")).to_be_visible()
    shot("rfq-group-04-lead-accepted-waiting")
    _sign_out(page, cast.buyer_owner.email)

    # The member sees the comparison too, and accepts the terms for its own site.
    sign_in(page, base, cast.other_buyer.email, PASSWORD)
    page.goto(f"{base}/rfq/{rfq.pk}/compare/")
    expect(page.get_by_role("heading").first).to_be_visible()
    page.goto(f"{base}/rfq/{rfq.pk}/terms/")
    # The member bills to its own accounts: its PO number and how it wants its invoices.
    page.get_by_label("Your purchase order number").fill("CLINIC-PO-77")
    page.get_by_label("How your organisation receives its invoices").select_option("portal")
    page.get_by_label("I accept these terms").check()
    shot("rfq-group-04b-member-terms-form")
    page.get_by_role("button", name="Accept the terms").click()
    expect(page.get_by_text("The award is final: every organisation accepted the terms.")).to_be_visible()
    shot("rfq-group-05-member-accepted-final")
    member_award = Award.objects.get(rfq=rfq, buyer=cast.other_buyer_org)
    assert (member_award.po_number, member_award.invoice_delivery) == ("CLINIC-PO-77", "portal")

    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.AWARDED
    assert sorted(Award.objects.filter(rfq=rfq).values_list("buyer__name", flat=True)) == sorted(
        [cast.buyer_org.name, cast.other_buyer_org.name]
    )
