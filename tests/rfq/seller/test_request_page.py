"""The carrier's request page: anonymous facts, intend/decline, questions, outcome and the digests."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rfq import services
from rfq.models import Question, RfqInvitation
from tests.conftest import client_for
from tests.factories import member_of
from tests.rfq import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def rfq(cast):  # type: ignore[no-untyped-def]
    return builders.published(
        cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org], spend="410.00", volume="2 TB"
    )


def _url(rfq, name: str = "seller_detail") -> str:  # type: ignore[no-untyped-def]
    return reverse(f"rfq:{name}", args=[rfq.pk])


def test_first_view_marks_the_invitation_viewed(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    invitation = builders.invitation(rfq, cast.carrier_org)
    assert invitation.viewed_at is None
    assert client_for(cast.seller_sales).get(_url(rfq)).status_code == 200
    invitation.refresh_from_db()
    assert invitation.viewed_at is not None
    assert invitation.state == RfqInvitation.State.VIEWED
    first = invitation.viewed_at
    client_for(cast.seller_admin).get(_url(rfq))
    invitation.refresh_from_db()
    assert invitation.viewed_at == first


def test_shows_the_anonymous_facts_lines_usage_and_billing(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    html = client_for(cast.seller_sales).get(_url(rfq)).content.decode()
    for text in (
        f"Buyer {cast.buyer_org.alias}",
        "Transport and logistics",
        "50–249",
        "Greater Manchester, West Yorkshire",
        "Site 1",
        "Site 2",
        "LS1 4AP, Leeds, GB",
        "M1 2AB, Manchester, GB",
        "Dedicated Internet access",
        "Bandwidth: 500 Mbps",
        "Availability SLA: 99.9%",
        "Diverse, redundant path: Yes",
        "OldTel",
        "GBP 410.00 a month",
        "2 TB",
        "One consolidated invoice",
        "30 days",
        "24 months",
    ):
        assert text in html, text


def test_other_carriers_and_strangers_get_404(cast) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])  # only carrier_org is listed
    for user in (cast.other_seller, cast.buyer_owner, cast.moderator, cast.billing_agent):
        for name in ("seller_detail", "seller_bid", "seller_summary_pdf"):
            assert client_for(user).get(_url(rfq, name)).status_code == 404, (user, name)
    assert client_for(cast.seller_sales).get(reverse("rfq:seller_detail", args=[rfq.pk + 999])).status_code == 404


def test_intend_then_decline_with_a_reason(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.seller_sales)
    client.post(_url(rfq, "seller_respond"), {"action": "intend"})
    invitation = builders.invitation(rfq, cast.carrier_org)
    assert invitation.state == RfqInvitation.State.INTENDS
    response = client.post(_url(rfq, "seller_respond"), {"action": "decline", "reason": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.state == RfqInvitation.State.INTENDS
    client.post(_url(rfq, "seller_respond"), {"action": "decline", "reason": "No coverage in Manchester."})
    invitation.refresh_from_db()
    assert invitation.state == RfqInvitation.State.DECLINED
    assert invitation.decline_reason == "No coverage in Manchester."


def test_ask_a_question_and_see_the_published_answer_without_the_asker(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.seller_sales)
    assert client.post(_url(rfq, "seller_ask"), {"text": ""}).status_code == 400
    response = client.post(_url(rfq, "seller_ask"), {"text": "Is there a comms room at site 2?"})
    assert response.status_code == 302
    question = Question.objects.get(rfq=rfq)
    mine = client.get(_url(rfq)).content.decode()
    assert "waiting for the buyer" in mine
    services.question_answer(actor=cast.buyer_owner, question=question, answer="Yes, on the ground floor.")
    other = client_for(cast.other_seller).get(_url(rfq)).content.decode()
    assert "Is there a comms room at site 2?" in other
    assert "Yes, on the ground floor." in other
    assert cast.carrier_org.name not in other


def test_billing_staff_read_but_every_write_is_403(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    billing = client_for(member_of(cast.carrier_org, "billing", email="billing@carrier.test"))
    page = billing.get(_url(rfq))
    assert page.status_code == 200
    assert "I intend to bid" not in page.content.decode()
    assert billing.post(_url(rfq, "seller_respond"), {"action": "intend"}).status_code == 403
    assert billing.post(_url(rfq, "seller_ask"), {"text": "Hello?"}).status_code == 403
    assert builders.invitation(rfq, cast.carrier_org).state != RfqInvitation.State.INTENDS
    assert not Question.objects.exists()


def test_after_opening_digests_show_with_own_bid_marked(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    mine = builders.bid(rfq, cast.seller_sales, monthly="300.00")
    theirs = builders.bid(rfq, cast.other_seller, monthly="250.00")
    before = client_for(cast.seller_sales).get(_url(rfq)).content.decode()
    assert theirs.digest not in before
    assert "Published bid digests" not in before
    builders.past_deadline(rfq)
    html = client_for(cast.seller_sales).get(_url(rfq)).content.decode()
    assert "Published bid digests" in html
    assert mine.digest in html and theirs.digest in html
    assert "(your bid)" in html
    rows = html[html.index("Published bid digests") :].split("<tr")
    marked = [row for row in rows if "(your bid)" in row]
    assert len(marked) == 1
    assert mine.digest in marked[0] and theirs.digest not in marked[0]
    # Never the other bid's content or carrier.
    assert "250.00" not in html
    assert cast.other_carrier_org.name not in html


def test_an_overdue_request_is_opened_when_a_carrier_looks(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    import time_machine

    builders.bid(rfq, cast.seller_sales)
    with time_machine.travel(rfq.bid_deadline + timedelta(minutes=1), tick=False):
        html = client_for(cast.seller_sales).get(_url(rfq)).content.decode()
    rfq.refresh_from_db()
    assert rfq.status == "closed"
    assert "Published bid digests" in html


def test_after_award_the_winner_sees_the_buyer_and_the_loser_does_not(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    builders.seed_identity(cast)
    builders.bid(rfq, cast.seller_sales)
    builders.bid(rfq, cast.other_seller)
    builders.awarded(rfq, winner=cast.carrier_org)
    winner = client_for(cast.seller_sales).get(_url(rfq)).content.decode()
    assert "You won this request." in winner
    for key in ("org_name", "org_street", "org_phone", "org_email", "owner_email", "site_a_name", "po_number"):
        assert builders.MARKERS[key] in winner, key
    loser = client_for(cast.other_seller).get(_url(rfq)).content.decode()
    assert "The buyer selected another offer." in loser
    for value in builders.MARKERS.values():
        assert value not in loser


def test_prior_bills_go_to_the_winner_only_after_award(cast) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org], prior_bill=True)
    bill = rfq.prior_bills.get()
    url = reverse("rfq:seller_prior_bill", args=[rfq.pk, bill.pk])
    builders.bid(rfq, cast.seller_sales)
    builders.bid(rfq, cast.other_seller)
    assert client_for(cast.seller_sales).get(url).status_code == 404  # before award: nobody
    builders.awarded(rfq, winner=cast.carrier_org)
    response = client_for(cast.seller_sales).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_for(cast.other_seller).get(url).status_code == 404
    assert "Prior bills" not in client_for(cast.other_seller).get(_url(rfq)).content.decode()
