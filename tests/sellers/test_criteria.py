"""Filtering criteria: named sets, contradictory ranges refused, pause, plain-words description, matching."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sellers.models import CriteriaSet
from sellers.selectors import criteria_set_describe, criteria_sets_for
from tests.sellers import helpers

pytestmark = pytest.mark.django_db


def test_sales_creates_a_criteria_set_with_regions_and_industries(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    response = as_role("seller_sales").post(
        reverse("sellers:criteria_create"),
        helpers.criteria_post_data(areas="GB, West Yorkshire, ls1 ls2\nGB, Greater London"),
    )
    assert response.status_code == 302
    criteria = CriteriaSet.objects.get(organization=cast.carrier_org)
    assert criteria.name == "Northern SMEs" and not criteria.is_paused
    assert sorted(str(r) for r in criteria.regions.all()) == [
        "GB · Greater London",
        "GB · West Yorkshire · LS1",
        "GB · West Yorkshire · LS2",
    ]
    assert [i.industry for i in criteria.industries.all()] == ["healthcare"]
    assert criteria.takes_group_requests and not criteria.takes_reseller_buyers


@pytest.mark.parametrize(
    ("low", "high", "fields"),
    [
        ("value_min", "value_max", {"value_min": "90000", "value_max": "1000"}),
        ("sites_min", "sites_max", {"sites_min": "30", "sites_max": "2"}),
        ("term_min_months", "term_max_months", {"term_min_months": "48", "term_max_months": "12"}),
    ],
)
def test_contradictory_ranges_are_refused_beside_the_fields(cast, as_role, low, high, fields) -> None:  # type: ignore[no-untyped-def]
    response = as_role("seller_admin").post(reverse("sellers:criteria_create"), helpers.criteria_post_data(**fields))
    assert response.status_code == 400
    form = response.context["form"]
    assert "above the maximum" in form.errors[low][0]
    assert "below the minimum" in form.errors[high][0]
    assert not CriteriaSet.objects.exists()


def test_bad_regions_and_missing_service_types_are_field_errors(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    response = as_role("seller_admin").post(
        reverse("sellers:criteria_create"), helpers.criteria_post_data(areas="United Kingdom", service_types=[])
    )
    assert response.status_code == 400
    assert "two-letter country code" in response.context["form"].errors["areas"][0]
    assert "service_types" in response.context["form"].errors
    assert not CriteriaSet.objects.exists()


def test_a_name_is_used_once_per_carrier(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    helpers.make_criteria(cast.carrier_org, cast.seller_admin, name="Northern SMEs")
    response = as_role("seller_admin").post(reverse("sellers:criteria_create"), helpers.criteria_post_data())
    assert response.status_code == 400
    assert "already have" in response.context["form"].errors["name"][0]
    assert CriteriaSet.objects.count() == 1


def test_edit_replaces_the_conditions(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    criteria = helpers.make_criteria(cast.carrier_org, cast.seller_admin)
    response = as_role("seller_sales").post(
        reverse("sellers:criteria_edit", args=[criteria.pk]),
        helpers.criteria_post_data(name="Bristol", areas="GB, Bristol, BS", industries=[], value_max=""),
    )
    assert response.status_code == 302
    criteria.refresh_from_db()
    assert criteria.name == "Bristol" and criteria.value_max is None
    assert [str(r) for r in criteria.regions.all()] == ["GB · Bristol · BS"]
    assert not criteria.industries.exists()


def test_pause_and_resume(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    criteria = helpers.make_criteria(cast.carrier_org, cast.seller_admin)
    client = as_role("seller_sales")
    response = client.post(reverse("sellers:criteria_pause", args=[criteria.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Resume" in response.content
    criteria.refresh_from_db()
    assert criteria.is_paused
    client.post(reverse("sellers:criteria_resume", args=[criteria.pk]))
    criteria.refresh_from_db()
    assert not criteria.is_paused


def test_delete(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    criteria = helpers.make_criteria(cast.carrier_org, cast.seller_admin)
    assert as_role("other_seller").post(reverse("sellers:criteria_delete", args=[criteria.pk])).status_code == 404
    assert CriteriaSet.objects.filter(pk=criteria.pk).exists()
    as_role("seller_admin").post(reverse("sellers:criteria_delete", args=[criteria.pk]))
    assert not CriteriaSet.objects.filter(pk=criteria.pk).exists()


def test_each_set_is_explained_in_plain_words(cast) -> None:  # type: ignore[no-untyped-def]
    helpers.make_criteria(cast.carrier_org, cast.seller_admin)
    criteria = criteria_sets_for(organization=cast.carrier_org).get()
    assert criteria_set_describe(criteria) == (
        "Matches requests for Dedicated Internet access with a site in GB (West Yorkshire, postcodes LS), "
        "with an estimated contract value of 1,000 to 50,000 GBP, 1 to 20 sites and a contract term of "
        "12 to 36 months, from buyers in Healthcare and dental, but not from resellers."
    )
    criteria.is_paused = True
    assert criteria_set_describe(criteria).startswith("Paused")


def test_new_set_starts_from_the_coverage(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    helpers.make_coverage(cast.carrier_org, cast.seller_admin)
    response = as_role("seller_sales").get(reverse("sellers:criteria_create"))
    assert response.context["form"].initial["areas"] == "GB, Greater London, EC"
    assert b"start as your coverage" in response.content


def test_list_query_count_does_not_grow_with_sets(cast, as_role, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(8):
        helpers.make_criteria(cast.carrier_org, cast.seller_admin, name=f"Set {n}")
    client = as_role("seller_admin")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sellers:criteria_list"))
    assert response.content.count(b"Matches requests for") == 8
