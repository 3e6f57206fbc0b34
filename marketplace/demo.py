"""Demo data for the core: the cast of accounts and their organisations. Idempotent."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from marketplace.models import Membership, Organization, User

DEMO_PASSWORD = "switchboard-demo"  # noqa: S105  (documented demo password)

ORGANIZATIONS = {
    "Acme Logistics": dict(
        kind="buyer",
        street="12 Harbour Road",
        city="Leeds",
        region="West Yorkshire",
        postcode="LS1 4AP",
        country="GB",
        phone="+44 113 496 0000",
        contact_email="accounts@acme-logistics.example",
        verification_status="verified",
    ),
    "Birch Dental Group": dict(
        kind="buyer",
        street="3 Birch Lane",
        city="Manchester",
        region="Greater Manchester",
        postcode="M1 2AB",
        country="GB",
        phone="+44 161 496 0101",
        contact_email="office@birchdental.example",
        verification_status="verified",
    ),
    "Northwind Telecom": dict(
        kind="carrier",
        street="200 Fibre Way",
        city="London",
        region="Greater London",
        postcode="EC1A 1BB",
        country="GB",
        phone="+44 20 7946 0200",
        contact_email="sales@northwind.example",
        verification_status="verified",
    ),
    "Bluewave Networks": dict(
        kind="carrier",
        street="8 Quay Street",
        city="Bristol",
        region="Bristol",
        postcode="BS1 4DJ",
        country="GB",
        phone="+44 117 496 0300",
        contact_email="bids@bluewave.example",
        verification_status="verified",
    ),
    "Cobalt Fiber": dict(
        kind="carrier",
        street="55 Mill Road",
        city="Birmingham",
        region="West Midlands",
        postcode="B1 1AA",
        country="GB",
        phone="+44 121 496 0400",
        contact_email="hello@cobaltfiber.example",
        verification_status="unverified",
    ),
    "Ledger & Co Billing Bureau": dict(
        kind="bureau",
        street="1 Counting House Lane",
        city="London",
        region="Greater London",
        postcode="EC2N 2DB",
        country="GB",
        phone="+44 20 7946 0500",
        contact_email="ops@ledgerco.example",
        verification_status="verified",
    ),
}

ACCOUNTS = [
    # email, first, last, organisation, role, staff
    ("moderator@example.com", "Morgan", "Moderator", None, None, True),
    ("buyer@example.com", "Alice", "Archer", "Acme Logistics", "owner", False),
    ("member@example.com", "Mo", "Member", "Acme Logistics", "member", False),
    ("buyer2@example.com", "Bea", "Birch", "Birch Dental Group", "owner", False),
    ("seller@example.com", "Nina", "North", "Northwind Telecom", "admin", False),
    ("seller2@example.com", "Ben", "Blue", "Bluewave Networks", "sales", False),
    ("seller3@example.com", "Cole", "Cobalt", "Cobalt Fiber", "admin", False),
    ("billing@example.com", "Lee", "Ledger", "Ledger & Co Billing Bureau", "agent", False),
]


def demo_user(email: str, *, first_name: str = "", last_name: str = "", staff: bool = False) -> User:
    """Create or fetch a demo user with a verified e-mail address and the demo password."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=DEMO_PASSWORD,
            first_name=first_name,
            last_name=last_name,
            is_staff=staff,
            is_superuser=staff,
        )
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def demo_organization(name: str) -> Organization:
    """Create or fetch one of the demo organisations by name."""
    fields = dict(ORGANIZATIONS[name])
    status = fields.pop("verification_status")
    org, created = Organization.objects.get_or_create(name=name, defaults=fields)
    if created and status == "verified":
        org.verification_status = status
        org.verified_at = timezone.now()
        org.save(update_fields=["verification_status", "verified_at"])
    return org


@transaction.atomic
def seed() -> list[str]:
    """Create the demo cast; return what was done, for the command to print."""
    done = []
    for email, first, last, org_name, role, staff in ACCOUNTS:
        user = demo_user(email, first_name=first, last_name=last, staff=staff)
        if org_name and role:
            org = demo_organization(org_name)
            Membership.objects.get_or_create(user=user, defaults={"organization": org, "role": role})
        done.append(email)
    return done
