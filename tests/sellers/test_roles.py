"""Billing staff read the carrier's portal but change nothing; each URL of the access table is tried."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import client_for, make_cast
from tests.factories import member_of
from tests.security.access_sellers import BILLING_FORBIDDEN, SELLERS_TABLE
from tests.sellers import helpers


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(SELLERS_TABLE))
def test_billing_staff_read_but_cannot_write(key: str) -> None:
    entry = SELLERS_TABLE[key]
    cast = make_cast()
    billing = member_of(cast.carrier_org, "billing", email="billing@carrier.test")
    kwargs = entry.kwargs(cast) if entry.kwargs else {}
    url = reverse(key, kwargs=kwargs)
    client = client_for(billing)
    response = client.post(url, entry.data(cast) if entry.data else {}) if entry.method == "POST" else client.get(url)
    expected = 403 if key in BILLING_FORBIDDEN else 200
    assert response.status_code == expected, f"{key}: {response.status_code}"


@pytest.mark.django_db
def test_billing_cannot_add_coverage_and_nothing_is_saved(cast) -> None:  # type: ignore[no-untyped-def]
    billing = member_of(cast.carrier_org, "billing", email="billing@carrier.test")
    response = client_for(billing).post(
        reverse("sellers:coverage"), {"service_type": helpers.service_type().pk, "areas": "GB"}
    )
    assert response.status_code == 403
    assert not cast.carrier_org.coverage_areas.exists()


@pytest.mark.django_db
def test_read_only_pages_hide_the_write_buttons_from_billing(cast) -> None:  # type: ignore[no-untyped-def]
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    billing = member_of(cast.carrier_org, "billing", email="billing@carrier.test")
    client = client_for(billing)
    assert b"New offer" not in client.get(reverse("sellers:offer_list")).content
    assert b"Retire offer" not in client.get(reverse("sellers:offer_detail", args=[offer.pk])).content
    assert b"Add coverage" not in client.get(reverse("sellers:coverage")).content
    sales = client_for(cast.seller_sales)
    assert b"Retire offer" in sales.get(reverse("sellers:offer_detail", args=[offer.pk])).content


@pytest.mark.django_db
def test_billing_staff_are_pointed_to_their_statements(cast) -> None:  # type: ignore[no-untyped-def]
    billing = member_of(cast.carrier_org, "billing", email="billing@carrier.test")
    body = client_for(billing).get(reverse("sellers:dashboard")).content.decode()
    assert "Invoices and statements" in body and "An admin of your organisation" in body
    for name in ("billing:settlement_list", "billing:carrier_lines", "billing:usage_import_list"):
        assert f'href="{reverse(name)}"' in body
    sales = client_for(cast.seller_sales).get(reverse("sellers:dashboard")).content.decode()
    assert "Invoices and statements" not in sales
    assert f'href="{reverse("billing:settlement_list")}"' not in sales
