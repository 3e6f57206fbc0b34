"""Before award, nothing a carrier can reach names the buyer: pages, e-mails, notifications, the PDF.

Every identifying buyer field carries a unique marker string (builders.MARKERS); after award only the winner
learns them.
"""

from __future__ import annotations

import subprocess
import tempfile
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from marketplace.models import Notification
from rfq import services
from rfq.models import Question, Rfq
from tests.conftest import client_for
from tests.rfq import builders

pytestmark = pytest.mark.django_db


def _pdf_text(pdf: bytes) -> str:
    """The text of a PDF, as pdftotext (poppler-utils) extracts it."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(  # noqa: S603
            ["/usr/bin/pdftotext", "-layout", f.name, "-"], check=True, capture_output=True, text=True
        ).stdout


def _leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [key for key, value in builders.MARKERS.items() if value.lower() in lowered]


def _carrier_mail(cast, carrier_emails: set[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Every part of every e-mail a carrier received: subject, bodies, attachment names and PDF text."""
    parts = []
    for message in mail.outbox:
        if not set(message.to) & carrier_emails:
            continue
        parts += [message.subject, message.body]
        parts += [content for content, _ in getattr(message, "alternatives", [])]
        for name, content, mimetype in message.attachments:
            parts.append(name)
            if mimetype == "application/pdf":
                parts.append(_pdf_text(content))
    return parts


@pytest.mark.parametrize("precision", ["postcode", "city"])
def test_nothing_a_carrier_reaches_before_award_names_the_buyer(
    cast, django_capture_on_commit_callbacks, precision
) -> None:  # type: ignore[no-untyped-def]
    builders.seed_identity(cast)
    carriers = {cast.seller_admin.email, cast.seller_sales.email, cast.other_seller.email}
    with django_capture_on_commit_callbacks(execute=True):
        rfq = builders.published(
            cast.buyer_owner,
            [cast.carrier_org, cast.other_carrier_org],
            site_precision=precision,
            visibility=Rfq.Visibility.LISTED_SENT,
        )
    summaries = [m for m in mail.outbox if m.attachments]
    assert len(summaries) == 3  # the listed-and-sent summary reached each carrier's admin and sales staff
    assert summaries[0].attachments[0][0] == f"{rfq.reference}.pdf"

    seller = client_for(cast.seller_sales)
    pages = [seller.get(reverse("rfq:seller_inbox")), seller.get(reverse("rfq:seller_detail", args=[rfq.pk]))]
    with django_capture_on_commit_callbacks(execute=True):
        seller.post(reverse("rfq:seller_ask", args=[rfq.pk]), {"text": "Which floor is the comms room on?"})
        services.question_answer(actor=cast.buyer_owner, question=Question.objects.get(), answer="Second floor.")
        pages.append(seller.get(reverse("rfq:seller_bid", args=[rfq.pk])))
        pages.append(seller.post(reverse("rfq:seller_bid", args=[rfq.pk]), builders.bid_post(rfq, monthly="-1")))
        submitted = seller.post(reverse("rfq:seller_bid", args=[rfq.pk]), builders.bid_post(rfq), follow=True)
        pages.append(submitted)
        services.addendum_create(
            actor=cast.buyer_owner,
            rfq=rfq,
            description="Both sites need a diverse path.",
            new_deadline=rfq.bid_deadline + timedelta(days=3),
        )
        pages.append(seller.get(reverse("rfq:seller_detail", args=[rfq.pk])))
        pages.append(seller.post(reverse("rfq:seller_bid_reconfirm", args=[rfq.pk]), follow=True))
        builders.bid(rfq, cast.other_seller, monthly="280.00")
        builders.past_deadline(rfq)
    pages.append(seller.get(reverse("rfq:seller_detail", args=[rfq.pk])))
    pages.append(client_for(cast.other_seller).get(reverse("rfq:seller_detail", args=[rfq.pk])))
    assert "Bid receipt" in submitted.content.decode()

    for response in pages:
        assert response.status_code in (200, 400)
        assert _leaks(response.content.decode()) == [], response.request["PATH_INFO"]
    pdf = seller.get(reverse("rfq:seller_summary_pdf", args=[rfq.pk]))
    assert pdf["Content-Disposition"] == f'attachment; filename="{rfq.reference}.pdf"'
    pdf_text = _pdf_text(pdf.content)
    assert rfq.reference in pdf_text and f"Buyer {cast.buyer_org.alias}" in pdf_text
    assert "Second floor." in pdf_text and "Both sites need a diverse path." in pdf_text
    assert _leaks(pdf_text) == []

    mails = _carrier_mail(cast, carriers)
    assert len(mails) > 10
    assert _leaks("\n".join(mails)) == []
    inbox = Notification.objects.filter(recipient__email__in=carriers)
    assert {"rfq_invited", "rfq_answer", "rfq_addendum", "bid_receipt", "rfq_opened"} <= set(
        inbox.values_list("kind", flat=True)
    )
    assert _leaks("\n".join(f"{n.subject}\n{n.body}\n{n.url}" for n in inbox)) == []

    # After award the winner learns who the buyer is; the loser still does not.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        builders.awarded(rfq, winner=cast.carrier_org)
    winner_page = seller.get(reverse("rfq:seller_detail", args=[rfq.pk])).content.decode()
    assert {"org_name", "org_street", "org_phone", "org_email", "owner_email", "site_a_name"} <= set(
        _leaks(winner_page)
    )
    winner_mail = "\n".join(_carrier_mail(cast, {cast.seller_sales.email}))
    assert builders.MARKERS["org_name"] in winner_mail
    loser = client_for(cast.other_seller)
    assert _leaks(loser.get(reverse("rfq:seller_detail", args=[rfq.pk])).content.decode()) == []
    assert _leaks(loser.get(reverse("rfq:seller_inbox")).content.decode()) == []
    assert _leaks("\n".join(_carrier_mail(cast, {cast.other_seller.email}))) == []
    # The PDF stays anonymous even for the winner: it is the summary that went out to every carrier.
    assert _leaks(_pdf_text(seller.get(reverse("rfq:seller_summary_pdf", args=[rfq.pk])).content)) == []


def test_street_precision_shows_streets_but_still_no_names(cast) -> None:  # type: ignore[no-untyped-def]
    builders.seed_identity(cast)
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org], site_precision="street")
    html = client_for(cast.seller_sales).get(reverse("rfq:seller_detail", args=[rfq.pk])).content.decode()
    assert builders.MARKERS["site_a_street"] in html  # the buyer chose to show street addresses
    assert set(_leaks(html)) == {"site_a_street", "site_b_street"}


def test_city_precision_hides_postcodes(cast) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org], site_precision="city")
    html = client_for(cast.seller_sales).get(reverse("rfq:seller_detail", args=[rfq.pk])).content.decode()
    assert "Leeds, West Yorkshire, GB" in html
    assert "LS1 4AP" not in html and "M1 2AB" not in html
