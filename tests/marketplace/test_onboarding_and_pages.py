"""Onboarding, the catalogue, error pages and security headers."""

from __future__ import annotations

import pytest
from django.test import Client

from marketplace.catalogue import feature_form_class, validate_feature_schema
from marketplace.models import AuditEvent, Membership, ServiceCategory, ServiceType
from tests.factories import UserFactory


@pytest.mark.django_db
def test_onboarding_shows_errors_next_to_fields_and_saves_nothing() -> None:
    user = UserFactory()
    client = Client()
    client.force_login(user)
    response = client.post("/welcome/", {"kind": "buyer", "name": "X", "country": "Britain", "phone": "call me"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Enter the two-letter country code" in content
    assert "Enter a phone number" in content
    assert "This field is required" in content
    assert not Membership.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_onboarding_carrier_gets_admin_role_and_audit(cast) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory()
    client = Client()
    client.force_login(user)
    client.post(
        "/welcome/",
        {
            "kind": "carrier",
            "name": "Fresh Fibre Ltd",
            "street": "2 Cable St",
            "city": "Leeds",
            "postcode": "LS2 2AA",
            "country": "GB",
            "phone": "+44 113 000 0000",
            "contact_email": "hi@freshfibre.test",
        },
    )
    membership = Membership.objects.get(user=user)
    assert membership.role == "admin" and membership.organization.kind == "carrier"
    assert AuditEvent.objects.filter(action="organization.create", actor=user).exists()
    assert client.get("/welcome/")["Location"] == "/home/"


@pytest.mark.django_db
def test_catalogue_is_seeded_with_every_category() -> None:
    assert set(ServiceCategory.objects.values_list("code", flat=True)) == {
        "voice",
        "internet",
        "mobile",
        "data",
        "routes",
    }
    names = set(ServiceType.objects.values_list("name", flat=True))
    assert {"SIP trunking", "Dedicated Internet access", "Paging", "MPLS", "Voice termination"} <= names
    assert ServiceType.objects.count() == 20
    page = Client().get("/catalogue/")
    assert b"SD-WAN" in page.content and b"bandwidth" in page.content and b"(Mbps)" in page.content


@pytest.mark.django_db
def test_feature_schema_builds_a_validating_form() -> None:
    dia = ServiceType.objects.get(code="internet-dedicated")
    form_class = feature_form_class(dia)
    good = form_class({"bandwidth_mbps": "500", "sla": "99.9%", "static_ips": "8"})
    assert good.is_valid(), good.errors
    assert good.cleaned_data["bandwidth_mbps"] == 500
    bad = form_class({"bandwidth_mbps": "0", "sla": "100%"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"bandwidth_mbps", "sla"}
    assert validate_feature_schema([{"name": "a", "type": "colour"}, {"name": "a", "type": "choice"}]) == [
        "Feature 'a' has an unknown type 'colour'.",
        "Feature 'a' is declared twice.",
        "Feature 'a' is a choice with no choices.",
    ]


@pytest.mark.django_db
def test_friendly_404_and_security_headers() -> None:
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    assert b"couldn't find that page" in response.content
    page = Client().get("/")
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "http" not in csp  # nothing from another origin
    assert page["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_landing_explains_both_sides() -> None:
    content = Client().get("/").content.decode()
    assert "For buyers" in content and "For carriers" in content
    assert "cdn" not in content.lower()


@pytest.mark.django_db
def test_a_new_organisation_never_draws_an_alias_already_taken(monkeypatch) -> None:
    import itertools

    from marketplace import models as marketplace_models
    from tests.factories import OrganizationFactory

    OrganizationFactory(alias="AAAAAA")
    # The dice come up with the taken alias first, then a free one.
    draws = itertools.chain(["A"] * 6, itertools.repeat("B"))
    monkeypatch.setattr(marketplace_models.secrets, "choice", lambda alphabet: next(draws))
    assert OrganizationFactory().alias == "BBBBBB"
