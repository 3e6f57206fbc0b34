"""Carrier billing staff read every carrier page of the access table but are refused every write."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import client_for, make_cast
from tests.factories import member_of
from tests.security.access_rfq_seller import BILLING_WRITES, RFQ_SELLER_TABLE

CARRIER_KEYS = sorted(k for k in RFQ_SELLER_TABLE if k.startswith("rfq:seller_"))


@pytest.mark.django_db
@pytest.mark.parametrize("key", CARRIER_KEYS)
def test_billing_staff_read_but_cannot_write(key: str) -> None:
    entry = RFQ_SELLER_TABLE[key]
    cast = make_cast()
    billing = member_of(cast.carrier_org, "billing", email="billing@carrier.test")
    url = reverse(key, kwargs=entry.kwargs(cast) if entry.kwargs else {})
    client = client_for(billing)
    data = entry.data(cast) if entry.data else {}
    response = client.post(url, data) if entry.method == "POST" else client.get(url)
    assert response.status_code == (403 if key in BILLING_WRITES else 200), key


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(k for k in RFQ_SELLER_TABLE if k.startswith("rfq:console_")))
def test_console_is_not_found_for_carrier_staff(key: str) -> None:
    entry = RFQ_SELLER_TABLE[key]
    cast = make_cast()
    billing = member_of(cast.carrier_org, "billing", email="billing@carrier.test")
    url = reverse(key, kwargs=entry.kwargs(cast) if entry.kwargs else {})
    client = client_for(billing)
    response = client.post(url, entry.data(cast) if entry.data else {}) if entry.method == "POST" else client.get(url)
    assert response.status_code == 404
