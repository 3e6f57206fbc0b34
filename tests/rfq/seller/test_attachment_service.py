"""bid_attachment_add: the carrier's staff attach checked files to their own bid before the deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.models import AuditEvent
from rfq import services
from tests.factories import member_of
from tests.rfq import builders

pytestmark = pytest.mark.django_db


def _pdf(name: str = "map.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, builders.PDF, content_type="application/pdf")


def test_adds_a_checked_file_with_a_safe_name_and_an_audit_event(cast) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    bid = builders.bid(rfq, cast.seller_sales)
    attachment = services.bid_attachment_add(actor=cast.seller_sales, bid=bid, file=_pdf("../../etc/map.pdf"))
    assert attachment.original_name == "map.pdf"
    assert attachment.content_type == "application/pdf"
    assert AuditEvent.objects.filter(action="bid.attachment_add", object_id=str(bid.pk)).exists()


def test_refuses_late_files_wrong_content_and_read_only_staff(cast) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    bid = builders.bid(rfq, cast.seller_sales)
    with pytest.raises(ValidationError):
        services.bid_attachment_add(
            actor=cast.seller_sales, bid=bid, file=SimpleUploadedFile("x.pdf", b"GIF89a", content_type="image/gif")
        )
    billing = member_of(cast.carrier_org, "billing", email="billing@carrier.test")
    with pytest.raises(services.DomainError):
        services.bid_attachment_add(actor=billing, bid=bid, file=_pdf())
    with pytest.raises(services.DomainError):
        services.bid_attachment_add(actor=cast.other_seller, bid=bid, file=_pdf())
    with time_machine.travel(rfq.bid_deadline + timedelta(seconds=1), tick=False):
        with pytest.raises(services.DomainError, match="closed"):
            services.bid_attachment_add(actor=cast.seller_sales, bid=bid, file=_pdf())
    assert not bid.attachments.exists()
