"""Demo data of the buyers app, called by seed_demo after the core cast exists. Idempotent."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from buyers.models import BuyerProfile, BuyingGroup, EndCustomer, GroupMembership, Site
from marketplace.demo import demo_user
from marketplace.models import Membership, Organization

# The demo group's join code is fixed so the README and demos can use it; real groups get random ones.
DEMO_GROUP_CODE = "MSMRC-DEMO-JOIN-CODE"  # noqa: S105

PROFILES: dict[str, dict[str, Any]] = {
    "Acme Logistics": dict(
        industry="logistics",
        employee_band="250-999",
        revenue_band="50m-250m",
        site_count=6,
        telecom_spend_band="250k-1m",
        registration_number="04512877",
        tax_number="GB 451 2877 31",
        site_precision="postcode",
    ),
    "Birch Dental Group": dict(
        industry="healthcare",
        employee_band="50-249",
        revenue_band="10m-50m",
        site_count=3,
        telecom_spend_band="50k-250k",
        registration_number="09233471",
        tax_number="GB 923 3471 02",
        site_precision="city",
    ),
    "Harbor Voice Partners": dict(
        industry="telecom",
        employee_band="10-49",
        revenue_band="1m-10m",
        site_count=1,
        telecom_spend_band="250k-1m",
        registration_number="11873402",
        tax_number="GB 118 7340 25",
        is_reseller=True,
        site_precision="street",
    ),
    "Corner Bakery Co": dict(
        industry="retail",
        employee_band="10-49",
        revenue_band="1m-10m",
        site_count=2,
        telecom_spend_band="<10k",
        registration_number="12004561",
        site_precision="city",
    ),
    "Fernside Veterinary Practice": dict(
        industry="healthcare",
        employee_band="10-49",
        revenue_band="1m-10m",
        site_count=2,
        telecom_spend_band="10k-50k",
        registration_number="10344120",
        tax_number="GB 103 4412 08",
        site_precision="postcode",
    ),
}

NEW_ORGS: dict[str, dict[str, Any]] = {
    "Harbor Voice Partners": dict(
        owner=("reseller@example.com", "Hana", "Harbor"),
        status="verified",
        fields=dict(
            street="7 Quayside",
            city="Newcastle upon Tyne",
            region="Tyne and Wear",
            postcode="NE1 3DX",
            phone="+44 191 496 0700",
            contact_email="billing@harborvoice.example",
        ),
    ),
    "Corner Bakery Co": dict(
        owner=("buyer3@example.com", "Cara", "Corner"),
        status="verified",
        fields=dict(
            street="21 King Street",
            city="Manchester",
            region="Greater Manchester",
            postcode="M2 4LQ",
            phone="+44 161 496 0222",
            contact_email="accounts@cornerbakery.example",
        ),
    ),
    "Fernside Veterinary Practice": dict(
        owner=("buyer4@example.com", "Felix", "Fern"),
        status="pending",
        fields=dict(
            street="88 Fernside Road",
            city="Bristol",
            region="Bristol",
            postcode="BS6 5JG",
            phone="+44 117 496 0888",
            contact_email="practice@fernsidevets.example",
        ),
    ),
}

SITES: dict[str, list[tuple[str, str, str, str, str, str]]] = {
    # name, street, city, region, postcode, contact
    "Acme Logistics": [
        ("Leeds head office", "12 Harbour Road", "Leeds", "West Yorkshire", "LS1 4AP", "Alice Archer"),
        ("Bradford depot", "4 Canal Road", "Bradford", "West Yorkshire", "BD1 4SJ", "Dev Patel"),
        ("Manchester hub", "90 Trafford Park Road", "Manchester", "Greater Manchester", "M17 1HG", "Rose Quinn"),
        ("Stockport warehouse", "2 Hempshaw Lane", "Stockport", "Greater Manchester", "SK1 4LG", "Tom Hale"),
        ("London office", "30 Finsbury Square", "London", "Greater London", "EC2A 1AG", "Priya Shah"),
        ("Heathrow cargo bay", "Shoreham Road East", "Hounslow", "Greater London", "TW6 3UA", "Sam Cole"),
    ],
    "Birch Dental Group": [
        ("Birch Lane practice", "3 Birch Lane", "Manchester", "Greater Manchester", "M1 2AB", "Bea Birch"),
        ("Didsbury practice", "120 Wilmslow Road", "Manchester", "Greater Manchester", "M20 5AP", "Omar Reed"),
        ("Salford practice", "15 Chapel Street", "Salford", "Greater Manchester", "M3 7AJ", "Ivy Lowe"),
    ],
    "Harbor Voice Partners": [
        ("Harbor office", "7 Quayside", "Newcastle upon Tyne", "Tyne and Wear", "NE1 3DX", "Hana Harbor"),
    ],
    "Corner Bakery Co": [
        ("King Street shop", "21 King Street", "Manchester", "Greater Manchester", "M2 4LQ", "Cara Corner"),
        ("Bakehouse", "5 Pollard Street", "Manchester", "Greater Manchester", "M4 7DS", "Jon Bell"),
    ],
}

END_CUSTOMERS = [
    # reference, name, contact, sites
    (
        "HVP-001",
        "Tyne Taxis Ltd",
        "ops@tynetaxis.example",
        [("Tyne Taxis dispatch", "40 Pilgrim Street", "Newcastle upon Tyne", "Tyne and Wear", "NE1 6QF", "Gail Ross")],
    ),
    (
        "HVP-002",
        "Quayside Hotels",
        "it@quaysidehotels.example",
        [
            ("Quayside Hotel", "1 Sandhill", "Newcastle upon Tyne", "Tyne and Wear", "NE1 3JF", "Leo Marsh"),
            ("Gateshead Inn", "9 Hills Street", "Gateshead", "Tyne and Wear", "NE8 2AR", "Mia Hart"),
        ],
    ),
]


def _org(name: str) -> Organization:
    existing = Organization.objects.filter(name=name).first()
    if existing is not None:
        return existing
    spec = NEW_ORGS[name]
    org = Organization.objects.create(name=name, kind=Organization.Kind.BUYER, country="GB", **spec["fields"])
    email, first, last = spec["owner"]
    user = demo_user(email, first_name=first, last_name=last)
    Membership.objects.get_or_create(user=user, defaults={"organization": org, "role": Membership.Role.OWNER})
    now = timezone.now()
    org.verification_status = spec["status"]
    org.submitted_at = now
    org.verified_at = now if spec["status"] == "verified" else None
    org.save(update_fields=["verification_status", "submitted_at", "verified_at"])
    return org


def _profile(org: Organization) -> None:
    BuyerProfile.objects.get_or_create(
        organization=org, defaults={**PROFILES[org.name], "registration_completed_at": timezone.now()}
    )


def _site(org: Organization, row: tuple[str, str, str, str, str, str], customer: EndCustomer | None = None) -> None:
    name, street, city, region, postcode, contact = row
    Site.objects.get_or_create(
        organization=org,
        name=name,
        archived_at=None,
        defaults=dict(
            street=street,
            city=city,
            region=region,
            postcode=postcode,
            country="GB",
            contact_name=contact,
            contact_phone="+44 20 7946 0999",
            end_customer=customer,
        ),
    )


@transaction.atomic
def seed() -> list[str]:
    """Create the buyers demo data; return lines describing what is there."""
    acme = Organization.objects.get(name="Acme Logistics")
    birch = Organization.objects.get(name="Birch Dental Group")
    harbor = _org("Harbor Voice Partners")
    corner = _org("Corner Bakery Co")
    fernside = _org("Fernside Veterinary Practice")
    for org in (acme, birch, harbor, corner, fernside):
        _profile(org)
        for row in SITES.get(org.name, []):
            _site(org, row)
    for reference, name, email, sites in END_CUSTOMERS:
        customer, _ = EndCustomer.objects.get_or_create(
            reseller=harbor, reference=reference, defaults={"name": name, "contact_email": email}
        )
        for row in sites:
            _site(harbor, row, customer)

    owner = Membership.objects.select_related("user").filter(organization=acme, role="owner").first()
    group = BuyingGroup.objects.filter(name="Main Street Merchants").first()
    if group is None:
        group = BuyingGroup.objects.create(
            name="Main Street Merchants",
            reference="MSMRC",
            description="Independent businesses of the North West buying voice and broadband together.",
            region="North West England",
            contact_name="Alice Archer",
            contact_email="groups@acme-logistics.example",
            contact_phone="+44 113 496 0000",
            lead=acme,
            join_code_hash=make_password(DEMO_GROUP_CODE),
            created_by=owner.user if owner else None,
        )
    now = timezone.now()
    for org, status in ((acme, "active"), (birch, "active"), (corner, "requested")):
        GroupMembership.objects.get_or_create(
            group=group,
            organization=org,
            status=status,
            defaults={"joined_at": now if status == "active" else None},
        )
    return [
        "Acme Logistics: profile and 6 sites in 3 regions",
        "Birch Dental Group: 3 sites",
        "Harbor Voice Partners (reseller@example.com): 2 end customers",
        f"Main Street Merchants, led by Acme, join code {DEMO_GROUP_CODE}; Corner Bakery Co (buyer3@example.com) "
        "waits for approval",
        "Fernside Veterinary Practice (buyer4@example.com) waits in the verification queue",
    ]
