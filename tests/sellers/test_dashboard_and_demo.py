"""The seller dashboard and the demo data."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from marketplace.models import Organization
from sellers.models import CoverageArea, CriteriaSet, StandingOffer
from tests.sellers import helpers

pytestmark = pytest.mark.django_db


def test_dashboard_shows_status_staff_criteria_and_offers_about_to_expire(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    helpers.make_offer(cast.carrier_org, cast.seller_admin, title="Ends soon", valid_until=today + timedelta(days=10))
    helpers.make_offer(
        cast.carrier_org, cast.seller_admin, title="Ends next year", valid_until=today + timedelta(days=300)
    )
    helpers.make_offer(cast.carrier_org, cast.seller_admin, title="Open ended", valid_until=None)
    retired = helpers.make_offer(cast.carrier_org, cast.seller_admin, title="Retired soon", valid_until=today)
    retired.status, retired.retired_at = "retired", timezone.now()
    retired.save()
    helpers.make_criteria(cast.carrier_org, cast.seller_admin)
    response = as_role("seller_sales").get(reverse("sellers:dashboard"))
    body = response.content.decode()
    assert "Verified" in body and cast.seller_sales.email in body and cast.seller_admin.email in body
    assert "Northern SMEs" in body and "Matches requests for" in body
    assert [o.current_version.title for o in response.context["expiring"]] == ["Ends soon"]
    assert "Open the requests inbox" in body


def test_dashboard_query_count_is_flat(cast, as_role, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(6):
        helpers.make_offer(cast.carrier_org, cast.seller_admin, title=f"Offer {n}", valid_until=timezone.localdate())
        helpers.make_criteria(cast.carrier_org, cast.seller_admin, name=f"Set {n}")
    client = as_role("seller_admin")
    with django_assert_max_num_queries(16):
        client.get(reverse("sellers:dashboard"))


def test_coverage_page_query_count_is_flat(cast, as_role, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for code in ("internet-dedicated", "internet-broadband", "voice-sip-trunking", "data-mpls"):
        helpers.make_coverage(cast.carrier_org, cast.seller_admin, code=code)
    client = as_role("seller_admin")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("sellers:coverage"))
    assert response.content.count(b"GB \xc2\xb7 Greater London \xc2\xb7 EC") == 4


def test_demo_data_is_complete_and_idempotent() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    counts = (StandingOffer.objects.count(), CriteriaSet.objects.count(), CoverageArea.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (StandingOffer.objects.count(), CriteriaSet.objects.count(), CoverageArea.objects.count()) == counts
    assert counts[0] >= 20
    categories = set(StandingOffer.objects.values_list("service_type__category__code", flat=True))
    assert {"voice", "internet", "data"} <= categories
    for name in ("Northwind Telecom", "Bluewave Networks", "Cobalt Fiber"):
        org = Organization.objects.get(name=name)
        assert org.standing_offers.exists() and org.criteria_sets.exists() and org.coverage_areas.exists()
    prefixes = set(StandingOffer.objects.values_list("current_version__regions__postcode_prefix", flat=True))
    assert {"LS", "M", "EC", "BS", "B"} <= prefixes
