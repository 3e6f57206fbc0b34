"""Build RFQ test worlds through the real services, the way buyers and carriers make them: one function per concept.

Every identifying field a built request carries (site names, streets and contacts, the purchase order number, the
prior bill's file name) holds a unique marker from MARKERS, and seed_identity() marks the buyer organisation and its
owner the same way, so any test can search a page, an e-mail or a PDF for the buyer's identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from buyers.models import BuyerProfile, BuyingGroup, Site
from marketplace.models import Organization, ServiceType, TermsDocument, User
from rfq import services
from rfq.models import Bid, Rfq, RfqInvitation, RfqLine
from sellers.models import CriteriaIndustry, CriteriaRegion, CriteriaSet
from tests.conftest import Cast

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# Unique strings seeded in every field that identifies the buyer; none may reach a carrier before award.
MARKERS = {
    "org_name": "Zqx Orgname Holdings",
    "trading_name": "Zqx Tradingname",
    "org_street": "17 Zqxorgstreet Lane",
    "org_phone": "+44 7700 900417",
    "org_email": "zqx-orgmail@zqx-buyer.test",
    "owner_first": "Zqxownerfirst",
    "owner_last": "Zqxownerlast",
    "owner_email": "zqx-owner@zqx-buyer.test",
    "site_a_name": "Zqx Sitename Alpha",
    "site_b_name": "Zqx Sitename Beta",
    "site_a_street": "3 Zqxsitestreet Alpha Road",
    "site_b_street": "9 Zqxsitestreet Beta Road",
    "site_contact_name": "Zqxonsite Person",
    "site_contact_phone": "+44 7700 900991",
    "site_contact_email": "zqx-onsite@zqx-buyer.test",
    "po_number": "ZQX-PO-77123",
}


# --- organisations, sites, criteria, terms ---------------------------------------------------------------------


def seed_identity(cast: Cast) -> None:
    """Give the buyer organisation and its owner identifying values that are easy to search for."""
    Organization.objects.filter(pk=cast.buyer_org.pk).update(
        name=MARKERS["org_name"],
        trading_name=MARKERS["trading_name"],
        street=MARKERS["org_street"],
        phone=MARKERS["org_phone"],
        contact_email=MARKERS["org_email"],
    )
    cast.buyer_org.refresh_from_db()
    User.objects.filter(pk=cast.buyer_owner.pk).update(
        first_name=MARKERS["owner_first"], last_name=MARKERS["owner_last"], email=MARKERS["owner_email"]
    )
    cast.buyer_owner.refresh_from_db()


def profile(org: Organization, **fields: Any) -> BuyerProfile:
    """Set the buyer's profile: a logistics firm of 50-249 people showing carriers its postcodes, unless told."""
    defaults = {"industry": "logistics", "employee_band": "50-249", "site_precision": "postcode", **fields}
    obj, _ = BuyerProfile.objects.update_or_create(organization=org, defaults=defaults)
    return obj


def site(
    org: Organization,
    name: str,
    *,
    street: str | None = None,
    city: str = "Leeds",
    region: str = "West Yorkshire",
    postcode: str = "LS1 4AP",
    country: str = "GB",
    **fields: Any,
) -> Site:
    """The organisation's site of that name, created in Leeds if it has none yet."""
    obj, _ = Site.objects.get_or_create(
        organization=org,
        name=name,
        defaults={
            "street": street if street is not None else f"{name} Street 1",
            "city": city,
            "region": region,
            "postcode": postcode,
            "country": country,
            **fields,
        },
    )
    return obj


def marked_sites(org: Organization) -> list[Site]:
    """Two sites, in Leeds and in Manchester, whose names, streets and on-site contact are markers."""
    contact = {
        "contact_name": MARKERS["site_contact_name"],
        "contact_phone": MARKERS["site_contact_phone"],
        "contact_email": MARKERS["site_contact_email"],
    }
    return [
        site(org, MARKERS["site_a_name"], street=MARKERS["site_a_street"], **contact),
        site(
            org,
            MARKERS["site_b_name"],
            street=MARKERS["site_b_street"],
            city="Manchester",
            region="Greater Manchester",
            postcode="M1 2AB",
            **contact,
        ),
    ]


def buying_group(lead: Organization, *members: Organization, **fields: Any) -> BuyingGroup:
    """A buying group led by lead, every organisation an active member."""
    defaults = {"name": "High Street", "region": "North", "contact_name": "L", "contact_email": "l@x.test"}
    group = BuyingGroup.objects.create(lead=lead, join_code_hash="x", **{**defaults, **fields})
    for org in (lead, *members):
        group.memberships.create(organization=org, status="active")
    return group


def criteria(
    carrier: Organization,
    name: str = "All UK",
    *,
    service_codes: tuple[str, ...] = (),
    regions: tuple[tuple[str, str, str], ...] = (),
    industries: tuple[str, ...] = (),
    **fields: Any,
) -> CriteriaSet:
    """A carrier's matching criteria; with no services, regions or industries it matches everything."""
    cs = CriteriaSet.objects.create(organization=carrier, name=name, **fields)
    if service_codes:
        cs.service_types.set(ServiceType.objects.filter(code__in=service_codes))
    for country, region, prefix in regions:
        CriteriaRegion.objects.create(criteria=cs, country=country, region=region, postcode_prefix=prefix)
    for industry in industries:
        CriteriaIndustry.objects.create(criteria=cs, industry=industry)
    return cs


def service_type(code: str) -> ServiceType:
    """The catalogue's service type with that code."""
    return ServiceType.objects.get(code=code)


def terms() -> TermsDocument:
    """The marketplace terms, version 1."""
    doc, _ = TermsDocument.objects.get_or_create(
        version=1, defaults={"title": "Marketplace terms", "body": "Be fair.", "published_at": timezone.now()}
    )
    return doc


# --- requests ----------------------------------------------------------------------------------------------------


def _features(code: str) -> dict[str, Any]:
    if code.startswith("internet"):
        return {"bandwidth_mbps": 500, "sla": "99.9%", "redundancy": True}
    return {"handsets": 25}


def draft(
    owner: User,
    *,
    title: str = "Connect our sites",
    sites: list[Site] | None = None,
    group: BuyingGroup | None = None,
    services_per_site: tuple[str, ...] = ("internet-dedicated",),
    features: dict[str, Any] | None = None,
    spend: str = "400.00",
    volume: str = "",
    prior_bill: bool = False,
) -> Rfq:
    """A draft of the owner's organisation filled up to the visibility step: sites, a line per service per site,
    billing and prior usage. Sites default to the marked ones; features to what the service asks for."""
    buyer = owner.membership.organization  # type: ignore[attr-defined]
    if not BuyerProfile.objects.filter(organization=buyer).exists():
        profile(buyer)
    rfq = services.rfq_create_draft(actor=owner, buyer=buyer, title=title, group=group)
    rfq = services.rfq_set_sites(actor=owner, rfq=rfq, sites=sites if sites is not None else marked_sites(buyer))
    lines = [
        {
            "rfq_site": rfq_site,
            "service_type": service_type(code),
            "quantity": 1,
            "features": features if features is not None else _features(code),
        }
        for rfq_site in rfq.rfq_sites.order_by("site__name")
        for code in services_per_site
    ]
    rfq = services.rfq_set_lines(actor=owner, rfq=rfq, lines=lines)
    if group is not None:
        # Each member organisation confirms its own sites, as its owner would; the request can then be published.
        for org_id in set(rfq.rfq_sites.exclude(organization=buyer).values_list("organization_id", flat=True)):
            member = User.objects.filter(membership__organization_id=org_id, membership__role="owner").first()
            site_ids = list(rfq.rfq_sites.filter(organization_id=org_id).values_list("site_id", flat=True))
            services.rfq_confirm_sites(
                actor=member, rfq=rfq, organization=member.membership.organization, site_ids=site_ids
            )  # type: ignore[union-attr]
    services.rfq_set_billing(actor=owner, rfq=rfq, po_number=MARKERS["po_number"])
    services.rfq_set_usage(
        actor=owner,
        rfq=rfq,
        usage={
            line.pk: {"current_carrier": "OldTel", "prior_monthly_spend": Decimal(spend), "prior_volume": volume}
            for line in rfq.lines.all()
        },
    )
    if prior_bill:
        upload = SimpleUploadedFile(f"{MARKERS['org_name']} bill.pdf", PDF, content_type="application/pdf")
        services.prior_bill_add(actor=owner, rfq=rfq, file=upload)
    rfq.refresh_from_db()
    return rfq


def scheduled(
    owner: User,
    carriers: list[Organization] | None = None,
    *,
    visibility: str | None = None,
    site_precision: str | None = None,
    hours: int = 72,
    term: int = 24,
    desired_start: date | None = None,
    **draft_fields: Any,
) -> Rfq:
    """A draft ready to publish: listed to the carriers (open to every matching carrier if none are given), bids
    due in `hours`, the decision two weeks later, service from `desired_start` (the award's day if None)."""
    rfq = draft(owner, **draft_fields)
    if visibility is None:
        visibility = Rfq.Visibility.LISTED_ACCESS if carriers else Rfq.Visibility.OPEN
    services.rfq_set_visibility(
        actor=owner, rfq=rfq, visibility=visibility, carriers=carriers or [], site_precision=site_precision
    )
    now = timezone.now()
    services.rfq_set_schedule(
        actor=owner,
        rfq=rfq,
        bid_deadline=now + timedelta(hours=hours),
        decision_deadline=now + timedelta(hours=hours + 24 * 14),
        desired_start=desired_start,
        term_months=term,
    )
    rfq.refresh_from_db()
    return rfq


def published(owner: User, carriers: list[Organization] | None = None, **fields: Any) -> Rfq:
    """A published request of the owner's organisation (see scheduled() for the choices)."""
    rfq = services.rfq_publish(actor=owner, rfq=scheduled(owner, carriers, **fields))
    rfq.refresh_from_db()
    return rfq


def invitation(rfq: Rfq, carrier: Organization) -> RfqInvitation:
    """The carrier's invitation to the request."""
    return RfqInvitation.objects.select_related("rfq").get(rfq=rfq, carrier=carrier)


def bid(
    rfq: Rfq,
    seller: User,
    *,
    monthly: str = "300.00",
    one_time: str = "500.00",
    unpriced: Iterable[RfqLine] = (),
    terms: dict[str, dict[str, Any]] | None = None,
) -> Bid:
    """The submitted bid of the seller's carrier: every line but the unpriced ones, for the request's term, meeting
    every feature asked for. `terms` replaces or adds fields per service code, e.g. a usage rate with its tiers,
    increment and minimum commitment. A second call revises it."""
    carrier = seller.membership.organization  # type: ignore[attr-defined]
    term = Rfq.objects.values_list("term_months", flat=True).get(pk=rfq.pk)  # the caller's copy may predate it
    skipped = {line.pk for line in unpriced}
    lines = [
        {
            "rfq_line": line,
            "monthly_charge": Decimal(monthly),
            "one_time_charge": Decimal(one_time),
            "term_months": term,
            "install_days": 30,
            "compliance": dict.fromkeys(line.features, True),
            **(terms or {}).get(line.service_type.code, {}),
        }
        for line in rfq.lines.select_related("service_type").order_by("pk")
        if line.pk not in skipped
    ]
    saved = services.bid_save_draft(actor=seller, invitation=invitation(rfq, carrier), lines=lines)
    services.bid_submit(actor=seller, bid=saved)
    saved.refresh_from_db()
    return saved


def bid_post(rfq: Rfq, *, monthly: str = "300.00", action: str = "submit", **overrides: Any) -> dict[str, Any]:
    """POST data for the carrier's bid form, pricing every line."""
    data: dict[str, Any] = {"action": action, "notes": "Fibre on our own network."}
    for line in rfq.lines.all():
        p = f"line-{line.pk}-"
        data.update(
            {
                p + "monthly_charge": monthly,
                p + "one_time_charge": "950.00",
                p + "usage_rate": "",
                p + "usage_unit": "",
                p + "increment": "",
                p + "tiers": "",
                p + "minimum_commitment": "",
                p + "term_months": "24",
                p + "install_days": "30",
                p + "notes": "",
                p + "comply_bandwidth_mbps": "on",
                p + "comply_sla": "on",
            }
        )
    data.update(overrides)
    return data


def past_deadline(rfq: Rfq, *, open_bids: bool = True) -> Rfq:
    """Move the bid deadline a minute into the past, as if time passed, and open the bids as the beat task would."""
    Rfq.objects.filter(pk=rfq.pk).update(bid_deadline=timezone.now() - timedelta(minutes=1))
    if open_bids:
        services.rfq_open_bids(rfq_id=rfq.pk)
    rfq.refresh_from_db()
    return rfq


def with_bids(cast: Cast) -> Rfq:
    """A 12-month request of the cast's buyer for two sites at 100 a month each, bids open: carrier_org priced both
    lines at 80 a month, the other carrier the first site only at 70; 50 one-time each."""
    rfq = published(cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org], spend="100.00", term=12)
    bid(rfq, cast.seller_sales, monthly="80.00", one_time="50.00")
    last = rfq.lines.order_by("rfq_site__site__name", "position").last()
    bid(rfq, cast.other_seller, monthly="70.00", one_time="50.00", unpriced=[last] if last else [])
    return past_deadline(rfq)


def awarded(rfq: Rfq, *, winner: Organization) -> Rfq:
    """Open the bids if need be, select the winner's bid for every line and accept the terms as the buyer."""
    if rfq.status == Rfq.Status.OPEN:
        rfq = past_deadline(rfq)
    chosen = Bid.objects.get(rfq=rfq, carrier=winner)
    services.rfq_select(actor=rfq.created_by, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in chosen.lines.all()})
    services.award_accept_terms(actor=rfq.created_by, rfq=rfq, organization=rfq.buyer, terms=terms())
    rfq.refresh_from_db()
    return rfq
