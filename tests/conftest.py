"""The fixed cast every test can use, and shared fixtures."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from celery.result import _set_task_join_will_block
from django.test import Client

from buyers.models import Site
from marketplace.models import Organization, User
from tests.factories import OrganizationFactory, UserFactory, member_of

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _celery_join_allowed() -> None:
    """Each test starts outside any task, as far as Celery can tell.

    An eager task marks the whole process as "inside a task" while it runs and restores the mark afterwards; two
    threads doing that at once (the live server's, or a concurrency test's) can leave the mark set for good, and
    every later `.get()` on a result then raises "Never call result.get() within a task!".
    """
    _set_task_join_will_block(False)


@dataclass
class Cast:
    buyer_org: Organization
    other_buyer_org: Organization
    carrier_org: Organization
    other_carrier_org: Organization
    bureau_org: Organization
    buyer_owner: User
    buyer_member: User
    other_buyer: User
    seller_admin: User
    seller_sales: User
    seller_billing: User
    other_seller: User
    moderator: User
    billing_agent: User
    sites: list[Site] = field(default_factory=list)  # filled by the `world` fixture

    def user(self, role: str) -> User | None:
        return None if role == "visitor" else getattr(self, role)


ROLES = (
    "buyer_owner",
    "buyer_member",
    "other_buyer",
    "seller_admin",
    "seller_sales",
    "seller_billing",
    "other_seller",
    "moderator",
    "billing_agent",
    "visitor",
)


def make_cast() -> Cast:
    buyer_org = OrganizationFactory(name="Acme Test Logistics", kind=Organization.Kind.BUYER)
    other_buyer_org = OrganizationFactory(name="Other Buyer Ltd", kind=Organization.Kind.BUYER)
    carrier_org = OrganizationFactory(name="Northwind Test Telecom", kind=Organization.Kind.CARRIER)
    other_carrier_org = OrganizationFactory(name="Other Carrier plc", kind=Organization.Kind.CARRIER)
    bureau_org = OrganizationFactory(name="Test Billing Bureau", kind=Organization.Kind.BUREAU)
    return Cast(
        buyer_org=buyer_org,
        other_buyer_org=other_buyer_org,
        carrier_org=carrier_org,
        other_carrier_org=other_carrier_org,
        bureau_org=bureau_org,
        buyer_owner=member_of(buyer_org, "owner", email="owner@buyer.test"),
        buyer_member=member_of(buyer_org, "member", email="member@buyer.test"),
        other_buyer=member_of(other_buyer_org, "owner", email="owner@other-buyer.test"),
        seller_admin=member_of(carrier_org, "admin", email="admin@carrier.test"),
        seller_sales=member_of(carrier_org, "sales", email="sales@carrier.test"),
        seller_billing=member_of(carrier_org, "billing", email="billing@carrier.test"),
        other_seller=member_of(other_carrier_org, "admin", email="admin@other-carrier.test"),
        moderator=UserFactory(email="moderator@switchboard.test", is_staff=True, is_superuser=True),
        billing_agent=member_of(bureau_org, "agent", email="agent@bureau.test"),
    )


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_role(cast: Cast):  # type: ignore[no-untyped-def]
    """Return a function giving a signed-in client for a role of the cast."""
    return lambda role: client_for(cast.user(role))


@pytest.fixture
def world(cast: Cast) -> Cast:
    """The cast plus buyer profiles, three Leeds/Manchester sites and a criteria set per carrier."""
    from tests.rfq import builders as rfq_builders  # the builders import this module

    rfq_builders.profile(cast.buyer_org)
    rfq_builders.profile(cast.other_buyer_org, industry="healthcare")
    sites = [
        rfq_builders.site(cast.buyer_org, "Head office", postcode="LS1 4AP"),
        rfq_builders.site(cast.buyer_org, "Depot", postcode="LS9 8AA"),
        rfq_builders.site(
            cast.buyer_org, "Manchester branch", postcode="M1 2AB", region="Greater Manchester", city="Manchester"
        ),
    ]
    rfq_builders.criteria(cast.carrier_org, "UK data", service_codes=("internet-dedicated", "data-mpls"))
    rfq_builders.criteria(cast.other_carrier_org, "Everything")
    cast.sites = sites
    return cast
