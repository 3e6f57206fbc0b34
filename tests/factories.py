"""Factories for the test cast and its objects."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from marketplace.models import Membership, Organization, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    kind = Organization.Kind.BUYER
    name = factory.Sequence(lambda n: f"Organisation {n} Ltd")
    street = factory.Sequence(lambda n: f"{n} High Street")
    city = "Leeds"
    region = "West Yorkshire"
    postcode = "LS1 1AA"
    country = "GB"
    phone = "+44 113 496 0000"
    contact_email = factory.Sequence(lambda n: f"org{n}@example.test")
    verification_status = Organization.Verification.VERIFIED
    verified_at = factory.LazyFunction(timezone.now)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.OWNER


def member_of(org: Organization, role: str, **user_fields: object) -> User:
    """Create a user who holds role in org, or return the cast's user with that e-mail who already does."""
    email = user_fields.get("email")
    if email:
        # Tests written before the cast had a carrier billing user make billing@carrier.test themselves.
        existing = Membership.objects.filter(user__email=str(email).lower(), organization=org, role=role).first()
        if existing is not None:
            return existing.user
    return MembershipFactory(organization=org, role=role, user=UserFactory(**user_fields)).user
