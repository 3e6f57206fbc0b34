"""Concurrent edits of one offer each get their own version number (real PostgreSQL, real threads)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from sellers import services
from sellers.models import OfferVersion, StandingOffer
from tests.conftest import make_cast
from tests.sellers import helpers

pytestmark = pytest.mark.django_db(transaction=True)


def test_ten_concurrent_edits_make_ten_numbered_versions() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks")
    cast = make_cast()
    offer = helpers.make_offer(cast.carrier_org, cast.seller_admin)
    barrier = threading.Barrier(10)
    errors: list[Exception] = []

    def edit(i: int) -> None:
        try:
            barrier.wait()
            services.standing_offer_revise(
                actor=cast.seller_sales, offer=offer, terms=helpers.terms(monthly_charge=Decimal(400 + i))
            )
        except Exception as exc:  # noqa: BLE001  (asserted below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    numbers = sorted(OfferVersion.objects.filter(offer=offer).values_list("number", flat=True))
    assert numbers == list(range(1, 12))
    offer = StandingOffer.objects.select_related("current_version").get(pk=offer.pk)
    assert offer.current_version is not None and offer.current_version.number == 11
