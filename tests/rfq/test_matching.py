"""The matching SQL agrees with a plain statement of the rule, over random criteria and requests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buyers.models import BuyerProfile, BuyingGroup, Site
from marketplace.models import Organization, ServiceType
from rfq import matching
from rfq.models import Rfq, RfqLine, RfqSite
from sellers.models import CriteriaIndustry, CriteriaRegion, CriteriaSet

CODES = ["internet-dedicated", "data-mpls", "voice-sip-trunking"]
PLACES = [("GB", "West Yorkshire", "LS1 4AP"), ("GB", "Greater Manchester", "M1 2AB"), ("DE", "Berlin", "10115")]
PREFIXES = ["", "LS", "LS1", "M", "M2", "101"]
INDUSTRIES = ["logistics", "healthcare", "retail"]


@dataclass
class SiteSpec:
    country: str
    region: str
    postcode: str


def optional_range(lo: int, hi: int):  # type: ignore[no-untyped-def]
    return st.tuples(st.one_of(st.none(), st.integers(lo, hi)), st.one_of(st.none(), st.integers(lo, hi))).map(
        lambda t: (t[0], t[1]) if t[0] is None or t[1] is None or t[0] <= t[1] else (t[1], t[0])
    )


criteria_strategy = st.fixed_dictionaries(
    {
        "paused": st.booleans(),
        "codes": st.sets(st.sampled_from(CODES), max_size=2),
        "regions": st.lists(
            st.tuples(
                st.sampled_from(["GB", "DE"]),
                st.sampled_from(["", "West Yorkshire", "Berlin"]),
                st.sampled_from(PREFIXES),
            ),
            max_size=2,
            unique=True,
        ),
        "industries": st.sets(st.sampled_from(INDUSTRIES), max_size=2),
        "value": optional_range(0, 50000),
        "sites": optional_range(1, 4),
        "term": optional_range(1, 60),
        "currency": st.sampled_from(["GBP", "EUR"]),
        "groups": st.booleans(),
        "resellers": st.booleans(),
        "verified": st.booleans(),
    }
)
rfq_strategy = st.fixed_dictionaries(
    {
        "codes": st.sets(st.sampled_from(CODES), min_size=1, max_size=3),
        "places": st.lists(st.sampled_from(PLACES), min_size=1, max_size=3),
        "value": st.one_of(st.none(), st.integers(0, 60000)),
        "term": st.one_of(st.none(), st.integers(1, 60)),
        "currency": st.sampled_from(["GBP", "EUR"]),
        "group": st.booleans(),
        "reseller": st.booleans(),
        "industry": st.sampled_from(INDUSTRIES),
    }
)


def in_range(lo: int | None, hi: int | None, value: int | Decimal) -> bool:
    return (lo is None or lo <= value) and (hi is None or value <= hi)


def rule(c: dict, r: dict) -> bool:  # type: ignore[type-arg]
    """The rule in plain Python: every condition of the set holds; empty lists mean any."""
    if c["paused"] or not c["verified"]:
        return False
    if c["codes"] and not (c["codes"] & r["codes"]):
        return False
    if c["regions"]:

        def site_ok(place: tuple[str, str, str], region: tuple[str, str, str]) -> bool:
            country, reg, prefix = region
            return (
                place[0] == country
                and (not reg or reg.upper() == place[1].upper())
                and place[2].replace(" ", "").upper().startswith(prefix)
            )

        if not any(site_ok(p, reg) for p in r["places"] for reg in c["regions"]):
            return False
    if r["value"] is not None and c["currency"] == r["currency"] and not in_range(*c["value"], r["value"]):
        return False
    if not in_range(*c["sites"], len(set(r["places"]))):
        return False
    if r["term"] is not None and not in_range(*c["term"], r["term"]):
        return False
    if r["group"] and not c["groups"]:
        return False
    if r["reseller"] and not c["resellers"]:
        return False
    return not c["industries"] or r["industry"] in c["industries"]


def build(c: dict, r: dict) -> tuple[Rfq, Organization]:  # type: ignore[type-arg]
    buyer = Organization.objects.create(kind="buyer", name="B", verification_status="verified")
    BuyerProfile.objects.create(organization=buyer, industry=r["industry"], is_reseller=r["reseller"])
    group = None
    if r["group"]:
        group = BuyingGroup.objects.create(
            name="G", region="x", contact_name="x", contact_email="g@x.test", lead=buyer, join_code_hash="x"
        )
    rfq = Rfq.objects.create(
        buyer=buyer,
        group=group,
        reference="RFQ-TEST",
        title="t",
        status="open",
        currency=r["currency"],
        estimated_value=None if r["value"] is None else Decimal(r["value"]),
        term_months=r["term"],
        site_count=len(set(r["places"])),
        buyer_is_reseller=r["reseller"],
    )
    for i, place in enumerate(sorted(set(r["places"]))):
        site = Site.objects.create(
            organization=buyer, name=f"S{i}", street="x", city="x", country=place[0], region=place[1], postcode=place[2]
        )
        rs = RfqSite.objects.create(rfq=rfq, site=site, organization=buyer)
        for code in r["codes"]:
            RfqLine.objects.create(rfq=rfq, rfq_site=rs, service_type=ServiceType.objects.get(code=code))
    carrier = Organization.objects.create(
        kind="carrier", name="C", verification_status="verified" if c["verified"] else "pending"
    )
    cs = CriteriaSet.objects.create(
        organization=carrier,
        name="set",
        is_paused=c["paused"],
        currency=c["currency"],
        value_min=c["value"][0],
        value_max=c["value"][1],
        sites_min=c["sites"][0],
        sites_max=c["sites"][1],
        term_min_months=c["term"][0],
        term_max_months=c["term"][1],
        takes_group_requests=c["groups"],
        takes_reseller_buyers=c["resellers"],
    )
    cs.service_types.set(ServiceType.objects.filter(code__in=c["codes"]))
    for country, region, prefix in c["regions"]:
        CriteriaRegion.objects.create(criteria=cs, country=country, region=region, postcode_prefix=prefix)
    for industry in c["industries"]:
        CriteriaIndustry.objects.create(criteria=cs, industry=industry)
    return rfq, carrier


@pytest.mark.django_db(transaction=False)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(c=criteria_strategy, r=rfq_strategy)
def test_sql_matches_the_plain_rule_both_ways(c, r, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        rfq, carrier = build(c, r)
        expected = rule(c, r)
        assert (carrier.pk in matching.carriers_for_rfq(rfq.pk)) is expected
        assert (rfq.pk in {m.rfq_id for m in matching.matches_for_carrier(carrier.pk)}) is expected
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_criteria_page_count_counts_open_requests_per_set(world) -> None:  # type: ignore[no-untyped-def]
    from tests.rfq import builders

    builders.published(world.buyer_owner, sites=world.sites)
    builders.published(world.buyer_owner, sites=world.sites[:1], services_per_site=("voice-sip-trunking",))
    counts = matching.open_request_counts_by_criteria(world.carrier_org.pk)
    uk_data = CriteriaSet.objects.get(organization=world.carrier_org, name="UK data")
    assert counts == {uk_data.pk: 1}


@pytest.mark.django_db
def test_carrier_criteria_page_says_how_many_open_requests_each_set_matches(world, as_role) -> None:  # type: ignore[no-untyped-def]
    from tests.rfq import builders

    page = as_role("seller_sales").get("/seller/criteria/").content.decode()
    assert "Matches 0 open requests today." in page
    builders.published(world.buyer_owner, sites=world.sites)
    page = as_role("seller_sales").get("/seller/criteria/").content.decode()
    assert "Matches 1 open request today." in page
