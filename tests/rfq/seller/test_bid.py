"""The carrier's sealed bid: draft, submit with a receipt, revise, withdraw, re-confirm, and the deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rfq import services
from rfq.models import Bid, BidAttachment, BidLine, BidRevision
from tests.conftest import client_for
from tests.factories import member_of
from tests.rfq import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def rfq(cast):  # type: ignore[no-untyped-def]
    return builders.published(cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org])


def _url(rfq) -> str:  # type: ignore[no-untyped-def]
    return reverse("rfq:seller_bid", args=[rfq.pk])


def test_the_form_has_a_row_per_line_with_site_label_service_and_features(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    response = client_for(cast.seller_sales).get(_url(rfq))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Site 1: Dedicated Internet access" in html
    assert "Site 2: Dedicated Internet access" in html
    assert "Meets Availability SLA: 99.9%" in html
    assert "Meets Bandwidth: 500 Mbps" in html


def test_save_draft_keeps_prices_sealed_and_unsent(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    assert not Bid.objects.exists()
    response = client_for(cast.seller_sales).post(_url(rfq), builders.bid_post(rfq, action="save"))
    assert response.status_code == 302
    bid = Bid.objects.get(rfq=rfq, carrier=cast.carrier_org)
    assert bid.status == Bid.Status.DRAFT
    assert bid.lines.count() == 2
    line = bid.lines.first()
    assert str(line.monthly_charge) == "300.00"
    assert line.compliance == {"bandwidth_mbps": True, "sla": True, "redundancy": False}
    assert not bid.revisions.exists()


def test_submit_shows_a_receipt_with_the_digest_and_time(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.seller_sales)
    response = client.post(_url(rfq), builders.bid_post(rfq))
    assert response.status_code == 302
    assert response["Location"] == reverse("rfq:seller_bid_receipt", args=[rfq.pk, 1])
    revision = BidRevision.objects.get(bid__rfq=rfq)
    assert revision.bid.status == Bid.Status.SUBMITTED
    page = client.get(response["Location"]).content.decode()
    assert revision.digest in page
    assert "Bid receipt" in page
    assert "Received" in page


def test_revising_keeps_every_revision_with_its_digest(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.seller_sales)
    client.post(_url(rfq), builders.bid_post(rfq, monthly="300.00"))
    client.post(_url(rfq), builders.bid_post(rfq, monthly="280.00"))
    revisions = list(BidRevision.objects.filter(bid__rfq=rfq).order_by("number"))
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].digest != revisions[1].digest
    page = client.get(_url(rfq)).content.decode()
    assert revisions[0].digest in page and revisions[1].digest in page
    assert str(BidLine.objects.filter(bid__rfq=rfq).first().monthly_charge) == "280.00"


def test_a_blank_row_means_not_priced(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    first, second = rfq.lines.order_by("pk")
    data = builders.bid_post(rfq)
    for name in ("monthly_charge", "one_time_charge", "term_months", "install_days"):
        data[f"line-{second.pk}-{name}"] = ""
    response = client_for(cast.seller_sales).post(_url(rfq), data)
    assert response.status_code == 302
    assert list(BidLine.objects.filter(bid__rfq=rfq).values_list("rfq_line_id", flat=True)) == [first.pk]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("monthly_charge", "-5", "greater than or equal to 0"),
        ("one_time_charge", "-1", "greater than or equal to 0"),
        ("term_months", "", "Enter the term for a priced line."),
        ("install_days", "", "Enter the install interval for a priced line."),
        ("monthly_charge", "", "Enter the monthly charge, or leave the whole row blank."),
        ("monthly_charge", "abc", "Enter a number."),
    ],
)
def test_bad_rows_show_errors_next_to_the_row_and_save_nothing(cast, rfq, field, value, message) -> None:  # type: ignore[no-untyped-def]
    line = rfq.lines.order_by("pk").first()
    data = builders.bid_post(rfq, **{f"line-{line.pk}-{field}": value})
    response = client_for(cast.seller_sales).post(_url(rfq), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    # The error sits in the row's field group, with the row's input marked.
    assert f'id="id_line-{line.pk}-{field}"' in html
    assert not Bid.objects.exists()


def test_submitting_nothing_priced_is_refused_with_a_message(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    data = {"action": "submit", "notes": ""}
    response = client_for(cast.seller_sales).post(_url(rfq), data)
    assert response.status_code == 400
    assert "Price at least one line before submitting." in response.content.decode()
    assert not Bid.objects.exists()


def test_withdraw_then_submit_again(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.seller_admin)
    client.post(_url(rfq), builders.bid_post(rfq))
    response = client.post(reverse("rfq:seller_bid_withdraw", args=[rfq.pk]))
    assert response.status_code == 302
    bid = Bid.objects.get(rfq=rfq)
    assert bid.status == Bid.Status.WITHDRAWN
    client.post(_url(rfq), builders.bid_post(rfq))
    bid.refresh_from_db()
    assert bid.status == Bid.Status.SUBMITTED
    assert bid.revisions.count() == 2


def test_an_addendum_asks_for_reconfirmation_and_the_button_gives_it(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.seller_sales)
    client.post(_url(rfq), builders.bid_post(rfq))
    services.addendum_create(
        actor=cast.buyer_owner,
        rfq=rfq,
        description="Site 2 needs a diverse path.",
        new_deadline=rfq.bid_deadline + timedelta(days=3),
    )
    bid = Bid.objects.get(rfq=rfq)
    assert bid.needs_reconfirmation
    page = client.get(reverse("rfq:seller_detail", args=[rfq.pk])).content.decode()
    assert "Your bid needs re-confirmation." in page
    assert "Site 2 needs a diverse path." in page
    response = client.post(reverse("rfq:seller_bid_reconfirm", args=[rfq.pk]))
    assert response["Location"] == reverse("rfq:seller_bid_receipt", args=[rfq.pk, 2])
    bid.refresh_from_db()
    assert not bid.needs_reconfirmation
    assert bid.revisions.count() == 2
    assert "needs re-confirmation" not in client.get(reverse("rfq:seller_detail", args=[rfq.pk])).content.decode()


def test_deadline_minus_one_second_is_accepted(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(rfq.bid_deadline - timedelta(seconds=1), tick=False):
        response = client_for(cast.seller_sales).post(_url(rfq), builders.bid_post(rfq))
    assert response.status_code == 302
    assert Bid.objects.get(rfq=rfq).status == Bid.Status.SUBMITTED


def test_deadline_plus_one_second_is_refused_though_status_is_still_open(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.seller_sales)
    client.post(_url(rfq), builders.bid_post(rfq, action="save"))
    with time_machine.travel(rfq.bid_deadline + timedelta(seconds=1), tick=False):
        rfq.refresh_from_db()
        assert rfq.status == "open"  # the closing task has not run
        bid = Bid.objects.get(rfq=rfq)
        response = client.post(_url(rfq), builders.bid_post(rfq, monthly="1.00"))
        assert response.status_code == 400
        assert "Bidding on this request has closed." in response.content.decode()
        # The refused submission changed nothing: the draft keeps its prices.
        assert str(bid.lines.first().monthly_charge) == "300.00"
        assert not bid.revisions.exists()
        for name in ("seller_bid_withdraw", "seller_bid_reconfirm", "seller_respond", "seller_ask"):
            client.post(reverse(f"rfq:{name}", args=[rfq.pk]), {"action": "intend", "text": "Late?"})
        bid.refresh_from_db()
        assert bid.status == Bid.Status.DRAFT
        assert not rfq.questions.exists()
        page = client.get(_url(rfq)).content.decode()
        assert "Bidding on this request has closed" in page
        assert "Submit bid" not in page


def test_billing_staff_read_the_bid_but_cannot_write(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    billing = member_of(cast.carrier_org, "billing", email="billing@carrier.test")
    client = client_for(billing)
    page = client.get(_url(rfq))
    assert page.status_code == 200
    assert "Submit bid" not in page.content.decode()
    assert client.post(_url(rfq), builders.bid_post(rfq)).status_code == 403
    assert not Bid.objects.exists()


def test_attachments_are_checked_by_content_and_kept(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.seller_sales)
    fake = SimpleUploadedFile("prices.pdf", b"MZ not a pdf at all", content_type="application/pdf")
    response = client.post(_url(rfq), {**builders.bid_post(rfq, action="save"), "attachments": [fake]})
    assert response.status_code == 400
    assert "is not a PDF, PNG, JPEG file" in response.content.decode()
    assert not Bid.objects.exists()

    good = SimpleUploadedFile("network map.pdf", builders.PDF, content_type="application/pdf")
    png = SimpleUploadedFile("diagram.png", builders.PNG, content_type="image/png")
    response = client.post(_url(rfq), {**builders.bid_post(rfq, action="save"), "attachments": [good, png]})
    assert response.status_code == 302
    names = sorted(BidAttachment.objects.filter(bid__rfq=rfq).values_list("original_name", flat=True))
    assert names == ["diagram.png", "network map.pdf"]
    attachment = BidAttachment.objects.get(original_name="network map.pdf")
    download = client.get(reverse("rfq:seller_attachment", args=[rfq.pk, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    # The other carrier reaches neither the request's attachment nor, through its own invitation, ours.
    other = client_for(cast.other_seller)
    assert other.get(reverse("rfq:seller_attachment", args=[rfq.pk, attachment.pk])).status_code == 404
