"""The admin shows carriers' data to moderators and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.sellers import helpers

pytestmark = pytest.mark.django_db


def test_moderator_reads_offers_and_criteria_in_the_admin(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    criteria = helpers.make_criteria(cast.carrier_org, cast.seller_admin)
    helpers.make_coverage(cast.carrier_org, cast.seller_admin)
    client = as_role("moderator")
    for name in ("standingoffer", "offerversion", "criteriaset", "coveragearea", "carrierprofile"):
        assert client.get(reverse(f"admin:sellers_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:sellers_standingoffer_change", args=[offer.pk])).status_code == 200
    assert client.get(reverse("admin:sellers_criteriaset_change", args=[criteria.pk])).status_code == 200
    version = offer.current_version
    assert version is not None
    response = client.post(reverse("admin:sellers_offerversion_change", args=[version.pk]), {"title": "Changed"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.title != "Changed"
