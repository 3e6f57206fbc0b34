"""The buyer's request page: progress counts only before the deadline, answers, addenda, cancelling, group sites."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from rfq import services
from rfq.models import Bid, Rfq, RfqInvitation
from tests.conftest import client_for
from tests.factories import OrganizationFactory, member_of
from tests.rfq import builders


def detail(rfq: Rfq) -> str:
    return reverse("rfq:detail", args=[rfq.pk])


def test_before_the_deadline_only_invited_and_viewed_counts(cast) -> None:
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org])
    services.invitation_mark_viewed(actor=cast.seller_sales, invitation=rfq.invitations.get(carrier=cast.carrier_org))
    builders.bid(rfq, cast.seller_sales, monthly="81.23")
    body = client_for(cast.buyer_member).get(detail(rfq)).content.decode()
    assert "2 carriers invited, 1 has viewed." in body
    assert "81.23" not in body and "Bid 1" not in body and cast.carrier_org.name not in body
    assert Bid.objects.get(rfq=rfq).digest not in body


def test_answer_a_question(cast) -> None:
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    invitation = RfqInvitation.objects.get(rfq=rfq)
    question = services.question_ask(actor=cast.seller_sales, invitation=invitation, text="Is there a lift?")
    client = client_for(cast.buyer_member)
    url = reverse("rfq:question_answer", args=[rfq.pk, question.pk])
    assert "Is there a lift?" in client.get(detail(rfq)).content.decode()
    empty = client.post(url, {f"q{question.pk}-answer": "  "})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    assert client.post(url, {f"q{question.pk}-answer": "Yes, a goods lift."}).status_code == 302
    question.refresh_from_db()
    assert question.answer == "Yes, a goods lift." and question.answered_at
    again = client.post(url, {f"q{question.pk}-answer": "Changed my mind"}, follow=True)
    assert again.status_code == 200 and "already answered" in again.content.decode()
    stale = client.post(url, {f"q{question.pk}-answer": ""}, follow=True)  # a second tab, sent empty
    assert "already answered" in stale.content.decode()
    question.refresh_from_db()
    assert question.answer == "Yes, a goods lift."


def test_addendum_shows_the_minimum_and_moves_the_deadline(cast) -> None:
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    client = client_for(cast.buyer_owner)
    assert "moves the bid deadline out to" in client.get(detail(rfq)).content.decode()
    too_soon = (rfq.bid_deadline + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(
        reverse("rfq:addendum_create", args=[rfq.pk]), {"description": "More sites", "new_deadline": too_soon}
    )
    assert refused.status_code == 400 and "at least 48 hours" in refused.content.decode()
    assert (
        client.post(reverse("rfq:addendum_create", args=[rfq.pk]), {"description": "", "new_deadline": "x"}).status_code
        == 400
    )
    far = client.post(
        reverse("rfq:addendum_create", args=[rfq.pk]), {"description": "x", "new_deadline": "9999-12-31T23:59"}
    )
    assert far.status_code == 400 and "within the next two years" in far.content.decode()
    later = (rfq.bid_deadline + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")  # the cast's zone is UTC
    ok = client.post(
        reverse("rfq:addendum_create", args=[rfq.pk]), {"description": "More sites", "new_deadline": later}
    )
    assert ok.status_code == 302
    old = rfq.bid_deadline
    rfq.refresh_from_db()
    assert rfq.addenda.count() == 1 and rfq.bid_deadline > old


def test_cancel_needs_a_reason(cast) -> None:
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    client = client_for(cast.buyer_owner)
    assert client.post(reverse("rfq:cancel", args=[rfq.pk]), {"reason": ""}).status_code == 400
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.OPEN
    assert client.post(reverse("rfq:cancel", args=[rfq.pk]), {"reason": "Budget frozen"}).status_code == 302
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.CANCELLED and rfq.closed_reason == "Budget frozen"
    again = client.post(reverse("rfq:cancel", args=[rfq.pk]), {"reason": "Again"}, follow=True)
    assert again.status_code == 200 and "cannot become cancelled" in again.content.decode()


def test_detail_opens_bids_lazily_after_the_deadline_and_shows_digests(cast) -> None:
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    bid = builders.bid(rfq, cast.seller_sales, monthly="80.00")
    rfq = builders.past_deadline(rfq, open_bids=False)
    assert rfq.status == Rfq.Status.OPEN
    body = client_for(cast.buyer_owner).get(detail(rfq)).content.decode()
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.CLOSED
    assert bid.digest in body and "Compare bids" in body


def _group_request(cast):  # type: ignore[no-untyped-def]
    member_org = OrganizationFactory(kind="buyer", name="Member Bakery")
    member_user = member_of(member_org, "member", email="baker@member.test")
    group = builders.buying_group(cast.buyer_org, member_org)
    rfq = services.rfq_create_draft(actor=cast.buyer_owner, buyer=cast.buyer_org, title="Group deal", group=group)
    own = builders.site(cast.buyer_org, "Lead shop")
    theirs = [builders.site(member_org, "Bakery 1"), builders.site(member_org, "Bakery 2")]
    services.rfq_set_sites(actor=cast.buyer_owner, rfq=rfq, sites=[own, *theirs])
    return rfq, member_user, theirs


def test_group_lead_sees_member_sites_in_the_wizard(cast) -> None:
    rfq, _, theirs = _group_request(cast)
    body = client_for(cast.buyer_owner).get(reverse("rfq:step", args=[rfq.pk, "sites"])).content.decode()
    assert "Bakery 1" in body and "Member Bakery" in body


def test_group_member_confirms_its_sites(cast) -> None:
    rfq, member_user, theirs = _group_request(cast)
    client = client_for(member_user)
    page = client.get(detail(rfq)).content.decode()
    assert "Confirm your sites" in page
    assert client.get(reverse("rfq:step", args=[rfq.pk, "sites"])).status_code == 404  # only the lead edits
    assert client.post(reverse("rfq:confirm_sites", args=[rfq.pk]), {"sites": []}).status_code == 400
    assert client.post(reverse("rfq:confirm_sites", args=[rfq.pk]), {"sites": [theirs[0].pk]}).status_code == 302
    mine = rfq.rfq_sites.filter(organization=member_user.membership.organization)
    assert list(mine.values_list("site_id", flat=True)) == [theirs[0].pk]
    assert mine.get().confirmed_at is not None
    assert "Every member organisation must confirm" not in services.rfq_missing(rfq)
    Rfq.objects.filter(pk=rfq.pk).update(status=Rfq.Status.OPEN)  # the lead published meanwhile
    stale = client.post(reverse("rfq:confirm_sites", args=[rfq.pk]), {"sites": []}, follow=True)
    assert "its sites can no longer change" in stale.content.decode()
    assert mine.count() == 1
    assert timezone.now()
