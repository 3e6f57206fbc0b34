"""Requests and bids for the carrier-side tests, made through the real services like real users make them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from buyers.models import BuyerProfile, Site
from marketplace.models import Organization, ServiceType, TermsDocument, User
from rfq import services
from rfq.models import Bid, Rfq, RfqInvitation
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


def buyer_profile(org: Organization, precision: str = "postcode") -> BuyerProfile:
    profile, _ = BuyerProfile.objects.update_or_create(
        organization=org,
        defaults={"industry": "logistics", "employee_band": "50-249", "site_precision": precision},
    )
    return profile


def make_sites(org: Organization) -> list[Site]:
    common = {
        "contact_name": MARKERS["site_contact_name"],
        "contact_phone": MARKERS["site_contact_phone"],
        "contact_email": MARKERS["site_contact_email"],
        "country": "GB",
    }
    a, _ = Site.objects.get_or_create(
        organization=org,
        name=MARKERS["site_a_name"],
        defaults={
            "street": MARKERS["site_a_street"],
            "city": "Leeds",
            "region": "West Yorkshire",
            "postcode": "LS1 4AP",
            **common,
        },
    )
    b, _ = Site.objects.get_or_create(
        organization=org,
        name=MARKERS["site_b_name"],
        defaults={
            "street": MARKERS["site_b_street"],
            "city": "Manchester",
            "region": "Greater Manchester",
            "postcode": "M1 2AB",
            **common,
        },
    )
    return [a, b]


def make_request(
    cast: Cast,
    *,
    carriers: list[Organization] | None = None,
    precision: str = "postcode",
    title: str = "Connect our depots",
    hours: int = 72,
    services_per_site: tuple[str, ...] = ("internet-dedicated",),
    prior_bill: bool = False,
    visibility: str = Rfq.Visibility.LISTED_ACCESS,
) -> Rfq:
    """Draft, fill and publish a request of the cast's buyer, listed to the given carriers (default: carrier_org)."""
    actor = cast.buyer_owner
    buyer_profile(cast.buyer_org, precision)
    sites = make_sites(cast.buyer_org)
    rfq = services.rfq_create_draft(actor=actor, buyer=cast.buyer_org, title=title)
    rfq = services.rfq_set_sites(actor=actor, rfq=rfq, sites=sites)
    lines = [
        {
            "rfq_site": rs,
            "service_type": ServiceType.objects.get(code=code),
            "quantity": 1,
            "features": {"bandwidth_mbps": 500, "sla": "99.9%", "redundancy": True}
            if code.startswith("internet")
            else {"handsets": 25},
        }
        for rs in rfq.rfq_sites.order_by("site__name")
        for code in services_per_site
    ]
    rfq = services.rfq_set_lines(actor=actor, rfq=rfq, lines=lines)
    services.rfq_set_usage(
        actor=actor,
        rfq=rfq,
        usage={
            line.pk: {"current_carrier": "OldTel", "prior_monthly_spend": Decimal("410.00"), "prior_volume": "2 TB"}
            for line in rfq.lines.all()
        },
    )
    if prior_bill:
        upload = SimpleUploadedFile(f"{MARKERS['org_name']} bill.pdf", PDF, content_type="application/pdf")
        services.prior_bill_add(actor=actor, rfq=rfq, file=upload)
    services.rfq_set_billing(actor=actor, rfq=rfq, po_number=MARKERS["po_number"], currency="GBP")
    services.rfq_set_visibility(
        actor=actor,
        rfq=rfq,
        visibility=visibility,
        carriers=carriers if carriers is not None else [cast.carrier_org],
    )
    now = timezone.now()
    services.rfq_set_schedule(
        actor=actor,
        rfq=rfq,
        bid_deadline=now + timedelta(hours=hours),
        decision_deadline=now + timedelta(hours=hours + 24 * 14),
        desired_start=(now + timedelta(days=60)).date(),
        term_months=24,
    )
    services.rfq_publish(actor=actor, rfq=rfq)
    rfq.refresh_from_db()
    return rfq


def invitation(rfq: Rfq, carrier: Organization) -> RfqInvitation:
    return RfqInvitation.objects.select_related("rfq").get(rfq=rfq, carrier=carrier)


def bid_post(rfq: Rfq, *, monthly: str = "300.00", action: str = "submit", **overrides: Any) -> dict[str, Any]:
    """POST data for the bid form pricing every line."""
    data: dict[str, Any] = {"action": action, "notes": "Fibre on our own network."}
    for line in rfq.lines.all():
        p = f"line-{line.pk}-"
        data.update(
            {
                p + "monthly_charge": monthly,
                p + "one_time_charge": "950.00",
                p + "usage_rate": "",
                p + "usage_unit": "",
                p + "term_months": "24",
                p + "install_days": "30",
                p + "notes": "",
                p + "comply_bandwidth_mbps": "on",
                p + "comply_sla": "on",
            }
        )
    data.update(overrides)
    return data


def submit_bid(rfq: Rfq, carrier: Organization, actor: User, *, monthly: str = "300.00") -> Bid:
    inv = invitation(rfq, carrier)
    lines = [
        {
            "rfq_line": line,
            "monthly_charge": Decimal(monthly),
            "one_time_charge": Decimal("950.00"),
            "term_months": 24,
            "install_days": 30,
            "compliance": {"sla": True},
        }
        for line in rfq.lines.order_by("pk")
    ]
    bid = services.bid_save_draft(actor=actor, invitation=inv, lines=lines)
    services.bid_submit(actor=actor, bid=bid)
    bid.refresh_from_db()
    return bid


def open_bids(rfq: Rfq) -> Rfq:
    """Put the deadline a second in the past and open the bids, as the beat task would."""
    Rfq.objects.filter(pk=rfq.pk).update(bid_deadline=timezone.now() - timedelta(seconds=1))
    services.rfq_open_bids(rfq_id=rfq.pk)
    rfq.refresh_from_db()
    return rfq


def award(rfq: Rfq, cast: Cast, winner: Organization) -> Rfq:
    """Open the bids, select the winner's bid for every line and accept the terms."""
    if rfq.status == Rfq.Status.OPEN:
        rfq = open_bids(rfq)
    bid = Bid.objects.get(rfq=rfq, carrier=winner)
    choices = {bl.rfq_line_id: bl.pk for bl in bid.lines.all()}
    services.rfq_select(actor=cast.buyer_owner, rfq=rfq, choices=choices)
    terms, _ = TermsDocument.objects.get_or_create(
        version=1, defaults={"title": "Marketplace terms", "body": "Terms.", "published_at": timezone.now()}
    )
    services.award_accept_terms(actor=cast.buyer_owner, rfq=rfq, organization=cast.buyer_org, terms=terms)
    rfq.refresh_from_db()
    return rfq


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, as pdftotext (poppler-utils) extracts it."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(  # noqa: S603
            ["/usr/bin/pdftotext", "-layout", f.name, "-"], check=True, capture_output=True, text=True
        ).stdout
