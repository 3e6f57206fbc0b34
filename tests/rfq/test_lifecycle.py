"""A request from draft to award through the services: distribution, sealing, addenda, award."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from marketplace import services as core_services
from marketplace.models import Notification, Organization
from marketplace.selectors import terms_current
from marketplace.services import DomainError
from rfq import services
from rfq.models import Award, Bid, Rfq, RfqInvitation
from rfq.selectors import comparison_for_rfq, digests_for_rfq
from tests.rfq import builders

pytestmark = pytest.mark.django_db


def test_publishing_invites_only_matching_verified_carriers(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    unverified = Organization.objects.create(kind="carrier", name="Shady Telecom", verification_status="pending")
    builders.criteria(unverified, "Everything")
    builders.criteria(world.carrier_org, "Paused", is_paused=True)
    with django_capture_on_commit_callbacks(execute=True):
        rfq = builders.published(world.buyer_owner, sites=world.sites)
    assert rfq.status == Rfq.Status.OPEN
    assert rfq.site_count == 3 and rfq.estimated_value == Decimal("400.00") * 3 * 24
    invited = set(rfq.invitations.values_list("carrier__name", flat=True))
    assert invited == {world.carrier_org.name, world.other_carrier_org.name}
    # The carriers hear of it without the buyer's name.
    carrier_mail = [m for m in mail.outbox if world.seller_sales.email in m.to]
    assert carrier_mail and all(world.buyer_org.name not in (m.subject + m.body) for m in carrier_mail)
    assert f"Buyer {world.buyer_org.alias}" in carrier_mail[0].body


def test_listed_request_reaches_only_the_listed_carriers(world) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(world.buyer_owner, [world.other_carrier_org], sites=world.sites)
    assert list(rfq.invitations.values_list("carrier_id", flat=True)) == [world.other_carrier_org.pk]


def test_unverified_buyer_waits_and_goes_out_when_verified(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    Organization.objects.filter(pk=world.buyer_org.pk).update(verification_status="pending")
    world.buyer_org.refresh_from_db()
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    assert rfq.status == Rfq.Status.AWAITING_VERIFICATION
    assert not rfq.invitations.exists()
    with django_capture_on_commit_callbacks(execute=True):
        core_services.organization_verify(actor=world.moderator, organization=world.buyer_org)
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.OPEN
    assert rfq.invitations.count() == 2


def test_draft_must_be_complete_and_deadlines_sane(world) -> None:  # type: ignore[no-untyped-def]
    rfq = services.rfq_create_draft(actor=world.buyer_owner, buyer=world.buyer_org, title="Half done")
    with pytest.raises(DomainError, match="Choose at least one site"):
        services.rfq_publish(actor=world.buyer_owner, rfq=rfq)
    now = timezone.now()
    with pytest.raises(DomainError, match="at least 24 hours"):
        services.rfq_set_schedule(
            actor=world.buyer_owner,
            rfq=rfq,
            bid_deadline=now + timedelta(hours=1),
            decision_deadline=now + timedelta(days=9),
            desired_start=None,
            term_months=12,
        )
    with pytest.raises(DomainError, match="after the bid deadline"):
        services.rfq_set_schedule(
            actor=world.buyer_owner,
            rfq=rfq,
            bid_deadline=now + timedelta(days=3),
            decision_deadline=now + timedelta(days=2),
            desired_start=None,
            term_months=12,
        )
    with pytest.raises(DomainError):
        services.rfq_set_sites(actor=world.other_buyer, rfq=rfq, sites=world.sites)
    other_site = builders.site(world.other_buyer_org, "Not mine")
    with pytest.raises(DomainError, match="cannot be part"):
        services.rfq_set_sites(actor=world.buyer_owner, rfq=rfq, sites=[other_site])


def test_bids_are_sealed_by_the_clock(world) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    deadline = rfq.bid_deadline
    with time_machine.travel(deadline - timedelta(seconds=1), tick=False):
        b = builders.bid(rfq, world.seller_sales)
        assert b.status == Bid.Status.SUBMITTED
        assert not rfq.bids_are_open and digests_for_rfq(rfq) == []
    with time_machine.travel(deadline + timedelta(seconds=1), tick=False):
        rfq.refresh_from_db()
        assert rfq.status == Rfq.Status.OPEN  # the closing task has not run
        with pytest.raises(DomainError, match="closed"):
            builders.bid(rfq, world.other_seller)
        assert rfq.bids_are_open
        assert [d["digest"] for d in digests_for_rfq(rfq)] == [b.digest]


def test_receipt_digest_matches_canonical_content_and_revisions_are_kept(world) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    first = builders.bid(rfq, world.seller_sales, monthly="300.00")
    second = builders.bid(rfq, world.seller_sales, monthly="280.00")
    revisions = list(second.revisions.order_by("number"))
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].digest == first.digest != second.digest == revisions[1].digest
    for revision in revisions:
        assert services.digest_of(revision.content) == revision.digest
    assert revisions[1].content["lines"][0]["monthly"] == "280.00"


def test_addendum_moves_deadline_and_forces_reconfirmation(world) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    b = builders.bid(rfq, world.seller_sales)
    with pytest.raises(DomainError, match="at least 48 hours"):
        services.addendum_create(
            actor=world.buyer_owner,
            rfq=rfq,
            description="Add a site",
            new_deadline=rfq.bid_deadline + timedelta(hours=47),
        )
    new_deadline = rfq.bid_deadline + timedelta(days=3)
    services.addendum_create(
        actor=world.buyer_owner, rfq=rfq, description="Site 2 needs 1 Gbps", new_deadline=new_deadline
    )
    rfq.refresh_from_db()
    b.refresh_from_db()
    assert rfq.bid_deadline == new_deadline and rfq.decision_deadline > new_deadline
    assert b.needs_reconfirmation
    builders.past_deadline(rfq)
    # A bid still waiting for re-confirmation cannot win.
    with pytest.raises(DomainError, match="valid, submitted bid"):
        services.rfq_select(actor=world.buyer_owner, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in b.lines.all()})


def test_questions_answered_to_every_invited_carrier_without_the_asker(
    world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    invitation = RfqInvitation.objects.get(rfq=rfq, carrier=world.carrier_org)
    question = services.question_ask(actor=world.seller_sales, invitation=invitation, text="Is there a lift?")
    with django_capture_on_commit_callbacks(execute=True):
        services.question_answer(actor=world.buyer_owner, question=question, answer="Yes, a goods lift.")
    answers = Notification.objects.filter(kind="rfq_answer")
    assert {n.recipient_id for n in answers} >= {world.seller_sales.pk, world.other_seller.pk}
    assert all(world.carrier_org.name not in n.body for n in answers)
    with pytest.raises(DomainError):
        services.question_ask(
            actor=world.seller_admin,
            invitation=RfqInvitation.objects.get(rfq=rfq, carrier=world.other_carrier_org),
            text="Not my invitation",
        )


def test_split_award_with_terms_notifies_winners_with_identity(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    cheap = builders.bid(rfq, world.seller_sales, monthly="250.00")
    partial = builders.bid(rfq, world.other_seller, monthly="200.00", unpriced=rfq.lines.order_by("pk")[:1])
    builders.past_deadline(rfq)

    comparison = comparison_for_rfq(rfq)
    totals = {t["bid"].pk: t for t in comparison.totals}
    assert totals[cheap.pk]["comparable"] and not totals[partial.pk]["comparable"]
    assert totals[partial.pk]["missing"] == 1
    assert totals[cheap.pk]["best"] and not totals[partial.pk]["best"]
    assert totals[cheap.pk]["saving"] == (Decimal("400") - Decimal("250")) * 24 * 3 - Decimal("500") * 3

    lines = list(rfq.lines.order_by("pk"))
    cheap_lines = {bl.rfq_line_id: bl.pk for bl in cheap.lines.all()}
    partial_lines = {bl.rfq_line_id: bl.pk for bl in partial.lines.all()}
    choices = {
        lines[0].pk: cheap_lines[lines[0].pk],
        lines[1].pk: partial_lines[lines[1].pk],
        lines[2].pk: partial_lines[lines[2].pk],
    }
    with pytest.raises(DomainError, match="every line"):
        services.rfq_select(actor=world.buyer_owner, rfq=rfq, choices={lines[0].pk: cheap_lines[lines[0].pk]})
    services.rfq_select(actor=world.buyer_owner, rfq=rfq, choices=choices)
    with pytest.raises(DomainError, match="already been chosen"):
        services.rfq_select(actor=world.buyer_owner, rfq=rfq, choices=choices)
    assert not Award.objects.exists()  # not final before the terms are accepted

    with django_capture_on_commit_callbacks(execute=True):
        awards = services.award_accept_terms(
            actor=world.buyer_member, rfq=rfq, organization=world.buyer_org, terms=terms_current()
        )
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.AWARDED
    assert {a.carrier_id: a.lines.count() for a in awards} == {world.carrier_org.pk: 1, world.other_carrier_org.pk: 2}
    award = awards[0]
    assert award.accepted_by == world.buyer_member and award.terms.version == terms_current().version
    assert award.lines.first().monthly_charge in (Decimal("250.00"), Decimal("200.00"))
    won = Notification.objects.filter(kind="award_won")
    assert won.count() == 3  # seller_admin + seller_sales, other_seller
    assert all(world.buyer_org.name in n.body for n in won)


def test_loser_is_told_without_details(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    winner = builders.bid(rfq, world.seller_sales, monthly="250.00")
    builders.bid(rfq, world.other_seller, monthly="260.00")
    builders.past_deadline(rfq)
    services.rfq_select(actor=world.buyer_owner, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in winner.lines.all()})
    with django_capture_on_commit_callbacks(execute=True):
        services.award_accept_terms(
            actor=world.buyer_owner, rfq=rfq, organization=world.buyer_org, terms=terms_current()
        )
    lost = Notification.objects.get(kind="award_lost", recipient=world.other_seller)
    assert world.buyer_org.name not in lost.body and "250" not in lost.body
    assert not Notification.objects.filter(kind="award_won", recipient=world.other_seller).exists()


def test_expiry_cancel_and_suspend(world) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    builders.past_deadline(rfq)
    Rfq.objects.filter(pk=rfq.pk).update(decision_deadline=timezone.now() - timedelta(seconds=1))
    assert services.rfqs_due_for_expiry() == [rfq.pk]
    assert services.rfq_expire(rfq_id=rfq.pk) and not services.rfq_expire(rfq_id=rfq.pk)
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.EXPIRED

    second = builders.published(world.buyer_owner, sites=world.sites[:1])
    with pytest.raises(DomainError, match="reason"):
        services.rfq_cancel(actor=world.buyer_owner, rfq=second, reason=" ")
    services.rfq_cancel(actor=world.buyer_owner, rfq=second, reason="Budget frozen")
    second.refresh_from_db()
    assert second.status == Rfq.Status.CANCELLED and second.closed_reason == "Budget frozen"

    third = builders.published(world.buyer_owner, sites=world.sites[:1])
    with pytest.raises(DomainError):
        services.rfq_suspend(actor=world.buyer_owner, rfq=third, reason="x")
    services.rfq_suspend(actor=world.moderator, rfq=third, reason="Duplicate of another request")
    third.refresh_from_db()
    assert third.status == Rfq.Status.SUSPENDED


def test_deadline_tick_opens_reminds_and_is_idempotent(world) -> None:  # type: ignore[no-untyped-def]
    from rfq.tasks import rfq_deadlines_tick

    rfq = builders.published(world.buyer_owner, sites=world.sites)
    with time_machine.travel(rfq.bid_deadline - timedelta(hours=20), tick=False):
        assert rfq_deadlines_tick() == {"opened": 0, "reminded": 1, "expired": 0}
        assert rfq_deadlines_tick()["reminded"] == 0
    with time_machine.travel(rfq.bid_deadline + timedelta(minutes=1), tick=False):
        assert rfq_deadlines_tick()["opened"] == 1
        assert rfq_deadlines_tick()["opened"] == 0
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.CLOSED and rfq.opened_at is not None


def test_listed_and_sent_mails_an_anonymous_pdf_once(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        rfq = builders.published(
            world.buyer_owner, [world.carrier_org], sites=world.sites, visibility=Rfq.Visibility.LISTED_SENT
        )
    with_pdf = [m for m in mail.outbox if m.attachments]
    assert {tuple(m.to) for m in with_pdf} == {(world.seller_admin.email,), (world.seller_sales.email,)}
    name, content, mimetype = with_pdf[0].attachments[0]
    assert name == f"{rfq.reference}.pdf" and mimetype == "application/pdf" and content.startswith(b"%PDF")
    assert world.buyer_org.name.encode() not in content
    assert not services.rfq_send_summary(rfq_id=rfq.pk, carrier_id=world.carrier_org.pk)


def test_buyer_chooses_site_precision_per_request(world) -> None:  # type: ignore[no-untyped-def]
    from rfq.selectors import rfq_seller_view

    rfq = builders.scheduled(world.buyer_owner, sites=world.sites[:1])
    services.rfq_set_visibility(
        actor=world.buyer_owner, rfq=rfq, visibility=Rfq.Visibility.OPEN, carriers=[], site_precision="city"
    )
    services.rfq_publish(actor=world.buyer_owner, rfq=rfq)
    rfq.refresh_from_db()
    location = rfq_seller_view(rfq).sites[0]["location"]
    assert location == "Leeds, West Yorkshire, GB"
    assert "LS1" not in location and world.sites[0].street not in location
    with pytest.raises(DomainError, match="street address, postcode or city"):
        services.rfq_set_visibility(
            actor=world.buyer_owner,
            rfq=builders.draft(world.buyer_owner, sites=world.sites[:1]),
            visibility="open",
            carriers=[],
            site_precision="gps",
        )


def test_attachments_are_part_of_the_digest(world) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    rfq = builders.published(world.buyer_owner, sites=world.sites[:1])
    b = builders.bid(rfq, world.seller_sales)
    before = b.digest
    services.bid_attachment_add(
        actor=world.seller_sales, bid=b, file=SimpleUploadedFile("spec.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    b.refresh_from_db()
    assert b.needs_reconfirmation and b.digest == before
    revision = services.bid_submit(actor=world.seller_sales, bid=b)
    assert revision.digest != before
    assert revision.content["attachments"][0]["name"] == "spec.pdf"
    assert len(revision.content["attachments"][0]["sha256"]) == 64
