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


def _pdf(template: str, context: dict) -> bytes:  # type: ignore[type-arg]
    from weasyprint import HTML

    html = render_to_string(template, {**context, "moderator": settings.MODERATOR_DETAILS})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    from billing.selectors import invoice_context

    return _pdf("billing/pdf/invoice.html", invoice_context(invoice))


@transaction.atomic
def invoice_publish(*, invoice_id: int) -> str:
    """Render, store and e-mail an issued invoice; running it again sends nothing twice."""
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("buyer").get(pk=invoice_id)
    if invoice.status == Invoice.Status.DRAFT:
        return "draft"
    if not invoice.pdf:
        data = invoice_pdf_bytes(invoice)
        invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(data), save=False)
        invoice.pdf_sha256 = hashlib.sha256(data).hexdigest()
        invoice.save(update_fields=["pdf", "pdf_sha256"])
    if invoice.emailed_at is None and invoice.buyer.contact_email:
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
    return settlement.statement_pdf.name or ""
