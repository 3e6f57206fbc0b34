"""The anonymous request summary, as a PDF made by WeasyPrint."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone


def rfq_summary_pdf(rfq) -> bytes:  # type: ignore[no-untyped-def]
    """Render the carrier-facing summary: the buyer appears only as its alias."""
    from weasyprint import HTML

    from rfq.selectors import rfq_seller_view

    html = render_to_string("rfq/pdf/summary.html", {"view": rfq_seller_view(rfq), "generated": timezone.now()})
    return HTML(string=html).write_pdf()
