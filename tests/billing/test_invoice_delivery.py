"""Invoices reach buyers the way they asked (e-mail, portal only, post), carry their PO number and how to pay,
and carriers hear when their settlement statement is ready."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from billing import services
from billing.models import Contract, Invoice, Settlement
from marketplace.models import AuditEvent, Notification
from tests.billing import world
from tests.conftest import Cast, client_for

pytestmark = pytest.mark.django_db


def issue(cast: Cast, capture, *, delivery: str = "email", po_number: str = "") -> Invoice:  # type: ignore[no-untyped-def]
    """October billed and finalised for the cast's buyer, with the given preferences; PDFs rendered on commit."""
    Contract.objects.filter(pk=world.contract(cast).pk).update(invoice_delivery=delivery, po_number=po_number)
    world.upload(cast)
    services.bill_run_execute(period=world.OCT, actor=cast.moderator)
    with capture(execute=True):
        services.bill_run_finalize(actor=cast.moderator, period=world.OCT)
    return Invoice.objects.get(period=world.OCT, buyer=cast.buyer_org)


def pdf_text(invoice: Invoice, tmp_path: Path) -> str:
    path = tmp_path / "invoice.pdf"
    with invoice.pdf.open("rb") as f:
        path.write_bytes(f.read())
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_emailed_invoice_sends_the_pdf_once_and_files_an_inbox_entry_without_a_second_mail(
    cast, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    invoice = issue(cast, django_capture_on_commit_callbacks)
    to_contact = [m for m in mail.outbox if m.to == [cast.buyer_org.contact_email]]
    assert len(to_contact) == 1 and to_contact[0].attachments[0][0] == f"{invoice.number}.pdf"
    entry = Notification.objects.get(recipient=cast.buyer_owner, kind="invoice_issued")
    assert invoice.number in entry.subject and entry.url == f"/billing/invoices/{invoice.pk}/"
    assert entry.emailed_at is None and not [m for m in mail.outbox if m.to == [cast.buyer_owner.email]]
    # Publishing again sends nothing twice.
    from billing.pdf import invoice_publish

    count = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_publish(invoice_id=invoice.pk)
    assert len(mail.outbox) == count


def test_portal_only_invoice_is_not_emailed_but_the_owners_get_a_notice(
    cast, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    invoice = issue(cast, django_capture_on_commit_callbacks, delivery="portal")
    invoice.refresh_from_db()
    assert invoice.pdf and invoice.emailed_at is None
    assert not [m for m in mail.outbox if m.attachments]
    notice = [m for m in mail.outbox if m.to == [cast.buyer_owner.email]]
    assert len(notice) == 1 and invoice.number in notice[0].subject
    page = client_for(cast.buyer_owner).get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "Portal only" in page


def test_paper_invoices_wait_in_the_staff_list_until_recorded_as_posted(
    cast, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    invoice = issue(cast, django_capture_on_commit_callbacks, delivery="post")
    staff = client_for(cast.billing_agent)
    to_post = reverse("billing:invoice_list") + "?to_post=on"
    assert invoice.number in staff.get(to_post).content.decode()
    assert "paper invoice(s) to post" in staff.get(reverse("billing:home")).content.decode()
    url = reverse("billing:invoice_mark_posted", args=[invoice.pk])
    # Buyers and carriers cannot record it; the invoice is out of their scope for this action.
    assert client_for(cast.buyer_owner).post(url).status_code == 404
    assert client_for(cast.seller_admin).post(url).status_code == 404
    invoice.refresh_from_db()
    assert invoice.posted_at is None

    response = staff.post(url, follow=True)
    assert "recorded as posted" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.posted_at is not None and invoice.posted_by == cast.billing_agent
    assert AuditEvent.objects.filter(action="invoice.posted", object_id=str(invoice.pk)).count() == 1
    assert invoice.number not in staff.get(to_post).content.decode()
    again = staff.post(url, follow=True).content.decode()
    assert "already posted" in again
    buyer_page = client_for(cast.buyer_owner).get(reverse("billing:invoice_detail", args=[invoice.pk]))
    assert "posted " in buyer_page.content.decode() and "Record the paper copy" not in buyer_page.content.decode()


def test_an_emailed_invoice_cannot_be_recorded_as_posted(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    invoice = issue(cast, django_capture_on_commit_callbacks)
    response = client_for(cast.moderator).post(reverse("billing:invoice_mark_posted", args=[invoice.pk]), follow=True)
    assert "did not ask for invoices by post" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.posted_at is None


def test_po_number_and_how_to_pay_are_on_the_page_and_the_pdf(
    cast, django_capture_on_commit_callbacks, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    invoice = issue(cast, django_capture_on_commit_callbacks, po_number="PO-4500012345")
    iban = settings.MODERATOR_DETAILS["iban"]
    page = client_for(cast.buyer_owner).get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "PO-4500012345" in page and iban in page
    text = pdf_text(invoice, tmp_path)
    assert "PO-4500012345" in text and iban in text
    assert f"Quote {invoice.number} as the payment reference" in " ".join(text.split())


def test_carrier_billing_staff_hear_when_the_statement_is_ready(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    issue(cast, django_capture_on_commit_callbacks)
    settlement = Settlement.objects.get(carrier=cast.carrier_org, period=world.OCT)
    assert settlement.statement_pdf
    entry = Notification.objects.get(recipient=cast.seller_admin, kind="settlement_statement")
    assert str(settlement.net) in entry.body and entry.url == f"/billing/settlements/{settlement.pk}/"
    # Sales staff and other carriers hear nothing of it.
    outsiders = [cast.seller_sales, cast.other_seller, cast.buyer_owner]
    assert not Notification.objects.filter(kind="settlement_statement", recipient__in=outsiders).exists()
