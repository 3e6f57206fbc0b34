"""Coverage: where a carrier delivers each service type."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sellers.models import CoverageArea
from tests.sellers import helpers

pytestmark = pytest.mark.django_db


def test_sales_adds_areas_once_and_removes_one(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    client = as_role("seller_sales")
    st = helpers.service_type("voice-sip-trunking")
    response = client.post(reverse("sellers:coverage"), {"service_type": st.pk, "areas": "GB, Bristol, BS\ngb"})
    assert response.status_code == 302
    assert sorted(str(a) for a in CoverageArea.objects.filter(organization=cast.carrier_org)) == [
        "GB",
        "GB · Bristol · BS",
    ]
    again = client.post(reverse("sellers:coverage"), {"service_type": st.pk, "areas": "GB"})
    assert again.status_code == 400 and "already listed" in again.context["form"].errors["areas"][0]
    assert CoverageArea.objects.count() == 2
    area = CoverageArea.objects.get(region="Bristol")
    client.post(reverse("sellers:coverage_delete", args=[area.pk]))
    assert CoverageArea.objects.count() == 1


def test_bad_postcode_prefix_is_a_field_error(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    response = as_role("seller_admin").post(
        reverse("sellers:coverage"), {"service_type": helpers.service_type().pk, "areas": "GB, London, EC-1"}
    )
    assert response.status_code == 400
    assert "not a postcode prefix" in response.context["form"].errors["areas"][0]
    assert not CoverageArea.objects.exists()


def test_other_carrier_cannot_remove_coverage(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    area = helpers.make_coverage(cast.carrier_org, cast.seller_admin)
    assert as_role("other_seller").post(reverse("sellers:coverage_delete", args=[area.pk])).status_code == 404
    assert CoverageArea.objects.filter(pk=area.pk).exists()


def test_coverage_at_an_address_lists_verified_carriers_only(cast) -> None:  # type: ignore[no-untyped-def]
    from sellers.selectors import coverage_at
    from tests.factories import OrganizationFactory, member_of

    helpers.make_coverage(cast.carrier_org, cast.seller_admin)  # GB, Greater London, EC
    unverified = OrganizationFactory(kind="carrier", verification_status="unverified", verified_at=None)
    helpers.make_coverage(unverified, member_of(unverified, "admin"))
    found = coverage_at(country="gb", region="greater london", postcode="EC1A 1BB")
    assert [(a.organization, a.service_type.code) for a in found] == [(cast.carrier_org, "internet-dedicated")]
    assert not coverage_at(country="GB", region="Greater London", postcode="N1 9GU").exists()
    assert not coverage_at(country="FR", postcode="EC1A 1BB").exists()


def test_coverage_is_paged_and_keeps_areas_grouped(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    from sellers.models import CoverageArea
    from sellers.views import COVERAGE_PAGE_SIZE

    st = helpers.service_type()
    CoverageArea.objects.bulk_create(
        CoverageArea(organization=cast.carrier_org, service_type=st, country="GB", postcode_prefix=f"Z{i:03d}")
        for i in range(COVERAGE_PAGE_SIZE + 5)
    )
    client = as_role("seller_sales")
    first = client.get(reverse("sellers:coverage")).content.decode()
    assert first.count('id="area-') == COVERAGE_PAGE_SIZE
    assert "Page 1 of 2" in first and "Z000" in first and "Z054" not in first
    second = client.get(reverse("sellers:coverage"), {"page": 2}).content.decode()
    assert second.count('id="area-') == 5 and "Z054" in second
    assert st.name in second  # the service type's heading repeats on the page that continues it
