"""Invoice and settlement PDFs by WeasyPrint: rendered once, stored with their SHA-256, e-mailed once."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billing.models import Invoice, Settlement
from marketplace.models import User
from marketplace.services import notify


def _pdf(template: str, context: dict) -> bytes:  # type: ignore[type-arg]
    from weasyprint import HTML

    html = render_to_string(template, {**context, "moderator": settings.MODERATOR_DETAILS})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    from billing.selectors import invoice_context

    return _pdf("billing/pdf/invoice.html", invoice_context(invoice))


@transaction.atomic
def invoice_publish(*, invoice_id: int) -> str:
    """Render and store an issued invoice, post it in the buyer's portal and e-mail it if the buyer asked for that.

    Running it again sends nothing twice.
    """
    from billing.selectors import invoice_delivery

    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("buyer").get(pk=invoice_id)
    if invoice.status == Invoice.Status.DRAFT:
        return "draft"
    if not invoice.pdf:
        data = invoice_pdf_bytes(invoice)
        invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(data), save=False)
        invoice.pdf_sha256 = hashlib.sha256(data).hexdigest()
        invoice.save(update_fields=["pdf", "pdf_sha256"])
    delivery = invoice_delivery(invoice)
    by_email = "email" in delivery and bool(invoice.buyer.contact_email)
    # Owners find every invoice in their inbox; the notice is e-mailed too unless the PDF itself is.
    notify(
        recipients=list(User.objects.filter(membership__organization=invoice.buyer, membership__role="owner")),
        key=f"invoice-issued:{invoice.pk}",
        kind="invoice_issued",
        subject=f"Invoice {invoice.number} for {invoice.period:%B %Y}",
        body=(
            f"Invoice {invoice.number} of {invoice.total} {invoice.currency} is in your portal, due "
            f"{invoice.due_date:%d %B %Y}." + (" A paper copy follows by post." if "post" in delivery else "")
        ),
        url=f"/billing/invoices/{invoice.pk}/",
        email=not by_email,
    )
    if by_email and invoice.emailed_at is None:
        invoice.pdf.open("rb")
        data = invoice.pdf.read()
        invoice.pdf.close()
        message = EmailMessage(
            subject=f"[Switchboard] Invoice {invoice.number} for {invoice.period:%B %Y}",
            body=(
                f"Invoice {invoice.number} of {invoice.total} {invoice.currency} is attached, due "
                f"{invoice.due_date:%d %B %Y}.\nIt is also in your portal: {settings.SITE_URL}/billing/invoices/"
            ),
            to=[invoice.buyer.contact_email],
        )
        message.attach(f"{invoice.number}.pdf", data, "application/pdf")
        message.send()
        invoice.emailed_at = timezone.now()
        invoice.save(update_fields=["emailed_at"])
    return invoice.pdf_sha256


@transaction.atomic
def settlement_statement_render(*, settlement_id: int) -> str:
    """Render the carrier's settlement statement once."""
    from billing.selectors import settlement_context

    settlement = Settlement.objects.select_for_update(of=("self",)).select_related("carrier").get(pk=settlement_id)
    if not settlement.statement_pdf:
        data = _pdf("billing/pdf/statement.html", settlement_context(settlement))
        settlement.statement_pdf.save(f"statement-{settlement.period:%Y-%m}.pdf", ContentFile(data), save=False)
        settlement.save(update_fields=["statement_pdf"])
    # The carrier's admins and billing staff learn that the month's statement is ready (once, by key).
    notify(
        recipients=list(
            User.objects.filter(membership__organization=settlement.carrier, membership__role__in=["admin", "billing"])
        ),
        key=f"settlement-statement:{settlement.pk}",
        kind="settlement_statement",
        subject=f"Settlement statement for {settlement.period:%B %Y}",
        body=(
            f"Your statement for {settlement.period:%B %Y} is ready: {settlement.gross} {settlement.currency} billed,"
            f" {settlement.commission} commission, {settlement.net} {settlement.currency} to be paid to you."
        ),
        url=f"/billing/settlements/{settlement.pk}/",
    )
    return settlement.statement_pdf.name or ""
