"""Build requests, criteria and bids through the real services, for the RFQ tests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from buyers.models import BuyerProfile, Site
from marketplace.models import Organization, ServiceType, User
from rfq import services
from rfq.models import Bid, Rfq, RfqInvitation
from sellers.models import CriteriaIndustry, CriteriaRegion, CriteriaSet


def profile(org: Organization, **fields: Any) -> BuyerProfile:
    defaults = {"industry": "logistics", "employee_band": "50-249", "site_precision": "postcode"}
    defaults.update(fields)
    obj, _ = BuyerProfile.objects.update_or_create(organization=org, defaults=defaults)
    return obj


def site(
    org: Organization,
    name: str,
    *,
    postcode: str = "LS1 4AP",
    region: str = "West Yorkshire",
    city: str = "Leeds",
    country: str = "GB",
    **extra: Any,
) -> Site:
    return Site.objects.create(
        organization=org,
        name=name,
        street=extra.pop("street", f"{name} Street 1"),
        city=city,
        region=region,
        postcode=postcode,
        country=country,
        **extra,
    )


def criteria(
    carrier: Organization,
    name: str = "All UK",
    *,
    service_codes: tuple[str, ...] = (),
    regions: tuple[tuple[str, str, str], ...] = (),
    industries: tuple[str, ...] = (),
    **fields: Any,
) -> CriteriaSet:
    cs = CriteriaSet.objects.create(organization=carrier, name=name, **fields)
    if service_codes:
        cs.service_types.set(ServiceType.objects.filter(code__in=service_codes))
    for country, region, prefix in regions:
        CriteriaRegion.objects.create(criteria=cs, country=country, region=region, postcode_prefix=prefix)
    for industry in industries:
        CriteriaIndustry.objects.create(criteria=cs, industry=industry)
    return cs


def draft(
    actor: User,
    buyer: Organization,
    sites: list[Site],
    *,
    services_per_site: tuple[str, ...] = ("internet-dedicated",),
    spend: Decimal | None = Decimal("400.00"),
    hours: int = 48,
    term: int = 24,
    visibility: str = Rfq.Visibility.OPEN,
    listed: list[Organization] | None = None,
    group: Any = None,
    title: str = "Connect our sites",
) -> Rfq:
    rfq = services.rfq_create_draft(actor=actor, buyer=buyer, title=title, group=group)
    rfq = services.rfq_set_sites(actor=actor, rfq=rfq, sites=sites)
    lines = []
    for rfq_site in rfq.rfq_sites.all():
        for code in services_per_site:
            lines.append(
                {
                    "rfq_site": rfq_site,
                    "service_type": ServiceType.objects.get(code=code),
                    "quantity": 1,
                    "features": {"bandwidth_mbps": 100, "sla": "99.9%"},
                }
            )
    rfq = services.rfq_set_lines(actor=actor, rfq=rfq, lines=lines)
    if spend is not None:
        services.rfq_set_usage(
            actor=actor,
            rfq=rfq,
            usage={
                line.pk: {"current_carrier": "OldTel", "prior_monthly_spend": spend, "prior_volume": "n/a"}
                for line in rfq.lines.all()
            },
        )
    services.rfq_set_visibility(actor=actor, rfq=rfq, visibility=visibility, carriers=listed or [])
    now = timezone.now()
    services.rfq_set_schedule(
        actor=actor,
        rfq=rfq,
        bid_deadline=now + timedelta(hours=hours),
        decision_deadline=now + timedelta(hours=hours + 24 * 14),
        desired_start=None,
        term_months=term,
    )
    rfq.refresh_from_db()
    return rfq


def published(actor: User, buyer: Organization, sites: list[Site], **kwargs: Any) -> Rfq:
    rfq = draft(actor, buyer, sites, **kwargs)
    services.rfq_publish(actor=actor, rfq=rfq)
    rfq.refresh_from_db()
    return rfq


def bid(
    actor: User,
    rfq: Rfq,
    carrier: Organization,
    *,
    monthly: str = "300.00",
    one_time: str = "500.00",
    skip: int = 0,
    submit: bool = True,
) -> Bid:
    invitation = RfqInvitation.objects.get(rfq=rfq, carrier=carrier)
    lines = [
        {
            "rfq_line": line,
            "monthly_charge": Decimal(monthly),
            "one_time_charge": Decimal(one_time),
            "term_months": rfq.term_months,
            "install_days": 30,
            "compliance": {"sla": True},
        }
        for line in list(rfq.lines.order_by("pk"))[skip:]
    ]
    b = services.bid_save_draft(actor=actor, invitation=invitation, lines=lines)
    if submit:
        services.bid_submit(actor=actor, bid=b)
    b.refresh_from_db()
    return b


def open_now(rfq: Rfq) -> Rfq:
    """Move the deadline into the past and open the bids, as the beat task would."""
    Rfq.objects.filter(pk=rfq.pk).update(bid_deadline=timezone.now() - timedelta(seconds=1))
    services.rfq_open_bids(rfq_id=rfq.pk)
    rfq.refresh_from_db()
    return rfq
