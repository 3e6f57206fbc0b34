from __future__ import annotations

import pytest

from tests.rfq import builders


@pytest.fixture
def world(cast):  # type: ignore[no-untyped-def]
    """The cast plus buyer profiles, three Leeds/Manchester sites and a criteria set per carrier."""
    builders.profile(cast.buyer_org)
    builders.profile(cast.other_buyer_org, industry="healthcare")
    sites = [
        builders.site(cast.buyer_org, "Head office", postcode="LS1 4AP"),
        builders.site(cast.buyer_org, "Depot", postcode="LS9 8AA"),
        builders.site(
            cast.buyer_org, "Manchester branch", postcode="M1 2AB", region="Greater Manchester", city="Manchester"
        ),
    ]
    builders.criteria(cast.carrier_org, "UK data", service_codes=("internet-dedicated", "data-mpls"))
    builders.criteria(cast.other_carrier_org, "Everything")
    cast.sites = sites
    return cast
