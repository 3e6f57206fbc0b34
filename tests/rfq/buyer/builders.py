"""Requests built through the services, for the buyer tests and the access table."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from buyers.models import Site
from marketplace.models import Organization, ServiceType, TermsDocument, User
from rfq import services
from rfq.models import Bid, Rfq, RfqInvitation


def make_site(org: Organization, name: str, **fields: Any) -> Site:
    defaults = {"street": "1 Road", "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"}
    return Site.objects.create(organization=org, name=name, **{**defaults, **fields})


def broadband() -> ServiceType:
    return ServiceType.objects.get(code="internet-broadband")


def sip() -> ServiceType:
    return ServiceType.objects.get(code="voice-sip-trunking")


def draft(owner: User, title: str = "Offices 2027", sites: int = 2) -> Rfq:
    """A draft with sites and one broadband line per site, prior spend 100 a month each."""
    org = owner.membership.organization  # type: ignore[attr-defined]
    rfq = services.rfq_create_draft(actor=owner, buyer=org, title=title)
    chosen = [make_site(org, f"{title} site {chr(65 + i)}") for i in range(sites)]
    services.rfq_set_sites(actor=owner, rfq=rfq, sites=chosen)
    rfq_sites = list(rfq.rfq_sites.order_by("site__name"))
    services.rfq_set_lines(
        actor=owner,
        rfq=rfq,
        lines=[
            {
                "rfq_site": rs,
                "service_type": broadband(),
                "quantity": 1,
                "features": {"bandwidth_mbps": 100, "sla": "99.9%"},
            }
            for rs in rfq_sites
        ],
    )
    services.rfq_set_usage(
        actor=owner,
        rfq=rfq,
        usage={
            line.pk: {"current_carrier": "OldTel", "prior_monthly_spend": Decimal("100.00")} for line in rfq.lines.all()
        },
    )
    rfq.refresh_from_db()
    return rfq


def scheduled(owner: User, carriers: list[Organization], **kwargs: Any) -> Rfq:
    rfq = draft(owner, **kwargs)
    services.rfq_set_visibility(actor=owner, rfq=rfq, visibility=Rfq.Visibility.LISTED_ACCESS, carriers=carriers)
    now = timezone.now()
    services.rfq_set_schedule(
        actor=owner,
        rfq=rfq,
        bid_deadline=now + timedelta(days=3),
        decision_deadline=now + timedelta(days=10),
        desired_start=None,
        term_months=12,
    )
    rfq.refresh_from_db()
    return rfq


def published(owner: User, carriers: list[Organization], **kwargs: Any) -> Rfq:
    rfq = services.rfq_publish(actor=owner, rfq=scheduled(owner, carriers, **kwargs))
    rfq.refresh_from_db()
    return rfq


def bid(rfq: Rfq, seller: User, monthly: str, *, skip_last: bool = False, one_time: str = "50.00") -> Bid:
    carrier_id = seller.membership.organization_id  # type: ignore[attr-defined]
    invitation = RfqInvitation.objects.get(rfq=rfq, carrier_id=carrier_id)
    lines = list(rfq.lines.order_by("rfq_site__site__name", "position"))
    if skip_last:
        lines = lines[:-1]
    saved = services.bid_save_draft(
        actor=seller,
        invitation=invitation,
        lines=[
            {
                "rfq_line": line,
                "monthly_charge": Decimal(monthly),
                "one_time_charge": Decimal(one_time),
                "term_months": 12,
                "install_days": 30,
                "compliance": {"bandwidth_mbps": True, "sla": True},
            }
            for line in lines
        ],
    )
    services.bid_submit(actor=seller, bid=saved)
    saved.refresh_from_db()
    return saved


def past_deadline(rfq: Rfq, *, open_bids: bool = True) -> Rfq:
    """Move the deadline into the past (as if time passed) and open the bids."""
    now = timezone.now()
    Rfq.objects.filter(pk=rfq.pk).update(
        bid_deadline=now - timedelta(minutes=1), decision_deadline=now + timedelta(days=7)
    )
    if open_bids:
        services.rfq_open_bids(rfq_id=rfq.pk)
    rfq.refresh_from_db()
    return rfq


def with_bids(cast: Any, *, sites: int = 2) -> Rfq:
    """A request of the cast's buyer, bid on by both carriers (the other one skips a line), bids open."""
    rfq = published(cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org], sites=sites)
    bid(rfq, cast.seller_sales, "80.00")
    bid(rfq, cast.other_seller, "70.00", skip_last=True)
    return past_deadline(rfq)


def terms() -> TermsDocument:
    doc, _ = TermsDocument.objects.get_or_create(
        version=1, defaults={"title": "Marketplace terms", "body": "Be fair.", "published_at": timezone.now()}
    )
    return doc
