"""Standing offers: create, contradictory input refused, editing makes a new version, retire."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.models import AuditEvent
from sellers import services
from sellers.models import OfferVersion, StandingOffer
from tests.sellers import helpers

pytestmark = pytest.mark.django_db


def test_sales_creates_an_offer_with_rates_and_coverage(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    response = as_role("seller_sales").post(
        reverse("sellers:offer_create"),
        helpers.offer_post_data(usage_rates="0.012 per minute; 1.5 per GB", areas="GB, Greater London, EC E"),
    )
    assert response.status_code == 302
    offer = StandingOffer.objects.get(organization=cast.carrier_org)
    version = offer.current_version
    assert version is not None and version.number == 1 and version.created_by == cast.seller_sales
    assert offer.service_type.code == "internet-dedicated"
    assert version.monthly_charge == Decimal("325.00") and version.currency == "GBP"
    assert sorted((r.unit, r.rate) for r in version.rates.all()) == [
        ("GB", Decimal("1.5")),
        ("minute", Decimal("0.012")),
    ]
    assert sorted(str(r) for r in version.regions.all()) == ["GB · Greater London · E", "GB · Greater London · EC"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"capacity_min": "1000", "capacity_max": "100"}, "capacity_min", "above the maximum"),
        ({"monthly_charge": "-1.00"}, "monthly_charge", "cannot be negative"),
        ({"one_time_charge": "-0.01"}, "one_time_charge", "cannot be negative"),
        ({"usage_rates": "-0.01 per minute"}, "usage_rates", "not a rate"),
        ({"term_months": "0"}, "term_months", "greater than or equal to 1"),
        ({"areas": ""}, "areas", "required"),
        ({"service_type": "no-such-service"}, "service_type", "valid choice"),
    ],
)
def test_bad_offers_are_refused_beside_the_fields(cast, as_role, fields, field, message) -> None:  # type: ignore[no-untyped-def]
    response = as_role("seller_admin").post(reverse("sellers:offer_create"), helpers.offer_post_data(**fields))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not StandingOffer.objects.exists() and not OfferVersion.objects.exists()


def test_validity_cannot_end_before_it_starts(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    response = as_role("seller_admin").post(
        reverse("sellers:offer_create"),
        helpers.offer_post_data(valid_from=today.isoformat(), valid_until=(today - timedelta(days=1)).isoformat()),
    )
    assert response.status_code == 400
    assert "before it starts" in response.context["form"].errors["valid_until"][0]
    assert not StandingOffer.objects.exists()


def test_the_database_refuses_what_the_form_refuses(cast) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), transaction.atomic():
        helpers.make_offer(cast.carrier_org, cast.seller_admin, monthly_charge=Decimal("-5"))
    assert not StandingOffer.objects.exists()


def test_editing_creates_a_new_version_and_keeps_the_old_one(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    first = offer.current_version
    assert first is not None
    client = as_role("seller_sales")
    form = client.get(reverse("sellers:offer_edit", args=[offer.pk])).context["form"]
    assert form.initial["monthly_charge"] == Decimal("325.00") and form.initial["areas"] == "GB, Greater London, EC"
    response = client.post(
        reverse("sellers:offer_edit", args=[offer.pk]),
        helpers.offer_post_data(monthly_charge="299.00", areas="GB, Greater London, EC", usage_rates="0.5 per GB"),
    )
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.versions.count() == 2
    current = offer.current_version
    assert current is not None and current.number == 2 and current.monthly_charge == Decimal("299.00")
    first.refresh_from_db()
    assert first.monthly_charge == Decimal("325.00") and not first.rates.exists()
    assert [str(r) for r in first.regions.all()] == ["GB · Greater London · EC"]
    page = client.get(reverse("sellers:offer_detail", args=[offer.pk]))
    assert b"Version 2" in page.content and b"Version 1" in page.content
    assert AuditEvent.objects.filter(action="offer.revise", object_id=str(offer.pk)).exists()


def test_saving_the_same_terms_makes_no_version(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    version = offer.current_version
    assert version is not None
    response = as_role("seller_sales").post(
        reverse("sellers:offer_edit", args=[offer.pk]),
        helpers.offer_post_data(
            areas="GB, Greater London, EC",
            valid_from=version.valid_from.isoformat(),
            valid_until=version.valid_until.isoformat() if version.valid_until else "",
        ),
    )
    assert response.status_code == 400 and b"Nothing changed" in response.content
    assert offer.versions.count() == 1


def test_the_service_type_of_an_offer_does_not_change(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    as_role("seller_sales").post(
        reverse("sellers:offer_edit", args=[offer.pk]),
        helpers.offer_post_data(service_type="voice-sip-trunking", monthly_charge="1.00"),
    )
    offer.refresh_from_db()
    assert offer.service_type.code == "internet-dedicated" and offer.versions.count() == 2


def test_retire_keeps_versions_and_stops_edits(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    client = as_role("seller_sales")
    client.post(reverse("sellers:offer_retire", args=[offer.pk]))
    offer.refresh_from_db()
    assert offer.status == "retired" and offer.retired_at is not None and offer.versions.count() == 1
    response = client.post(
        reverse("sellers:offer_edit", args=[offer.pk]), helpers.offer_post_data(title="New"), follow=True
    )
    assert b"retired offer cannot be changed" in response.content
    assert offer.versions.count() == 1
    with pytest.raises(services.DomainError, match="retired"):
        services.standing_offer_revise(actor=cast.seller_admin, offer=offer, terms=helpers.terms(title="New"))
    assert b"No standing offers" in client.get(reverse("sellers:offer_list")).content
    assert offer.current_version.title.encode() in client.get(reverse("sellers:offer_list") + "?status=retired").content


def test_no_offer_is_frozen_while_no_quote_session_exists(cast) -> None:  # type: ignore[no-untyped-def]
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    assert services.offer_frozen_until(offer) is None


def test_other_carrier_sees_nothing(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    client = as_role("other_seller")
    assert client.get(reverse("sellers:offer_detail", args=[offer.pk])).status_code == 404
    assert client.post(reverse("sellers:offer_retire", args=[offer.pk])).status_code == 404
    assert offer.current_version.title.encode() not in client.get(reverse("sellers:offer_list")).content
    offer.refresh_from_db()
    assert offer.status == "active"


def test_offer_list_query_count_is_flat(cast, as_role, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(10):
        helpers.make_offer(cast.carrier_org, cast.seller_admin, title=f"Offer {n}")
    client = as_role("seller_admin")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("sellers:offer_list"))
    assert response.content.count(b"/seller/offers/") >= 10


def test_offer_detail_query_count_is_flat(cast, as_role, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    for n in range(5):
        services.standing_offer_revise(
            actor=cast.seller_admin, offer=offer, terms=helpers.terms(monthly_charge=Decimal(300 + n))
        )
    client = as_role("seller_admin")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("sellers:offer_detail", args=[offer.pk]))
    assert response.content.count(b"<strong>Version") == 6
