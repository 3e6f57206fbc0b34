"""Matching benchmark: carriers for a request and requests for a carrier (rfq/matching.py), on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres switchboard_matchbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/switchboard_matchbench .venv/bin/python bench/matching.py \
        [--scale 1.0] [--samples 200] [--explain] [--keep]

It migrates the scratch database it is given and replaces its marketplace: every request (TRUNCATE ... CASCADE,
which also empties what hangs off requests: invitations, bids, awards, contracts) and every criteria set go, and so
do the organisations an earlier run made. At --scale 1 it then writes, with bulk_create in batches and a seeded RNG:
  carriers  2,000 verified, each with 1-4 criteria sets (about one set in ten paused), mixing service types,
            regions (whole countries, regions, UK postcode areas and districts), industries, value, term and
            site ranges, group and reseller flags; plus 150 carriers not verified, whose broad sets must never match
  buyers    5,000 with a profile (industry, one in twelve a reseller) and 1-10 sites each, 85% in the UK
  groups    100 buying groups of 3-5 buyers
  requests  20,000, in every state and visibility (about a third open, four in five of those open to all
            carriers); each takes 1-10 of its buyer's sites (a group request its members' too) and 1-5 lines per site
Then it measures, on the analysed tables, each figure over --samples random picks (median, p95, max):
  rfq→carriers       matching.matches_for_rfq(rfq_id) for random requests
  carrier→requests   matching.matches_for_carrier(carrier_id) for random verified carriers
  dashboard          matching.open_request_counts_by_criteria(carrier_id), the sellers' criteria page
  floor              per call, one plain indexed lookup returning the same rows: the matched criteria sets by
                     primary key (rfq side), the matched requests by primary key (carrier side). It is what
                     reading the answer costs if it were already known, so the gap to it is the matching itself.
Before timing, it checks the benchmark data: for 50 requests the SQL's matches must equal a plain Python
evaluation of every criteria set, and for 20 carriers their matches among those requests must too.
--explain prints EXPLAIN (ANALYZE, BUFFERS) of one call each way (the request and carrier nearest the medians).
--keep measures the marketplace an earlier run left (its samples differ from a run that builds: the RNG is not
where the build would leave it).
The last line reads: match rfq→carriers <median> ms (p95 <x> ms) | carrier→requests <median> ms (p95 <x> ms)
Never run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Django's debug cursor formats and keeps every query; production runs without it, and so does this.
os.environ.setdefault("DEBUG", "false")

CARRIERS = 2000
OTHER_CARRIERS = 150
BUYERS = 5000
GROUPS = 100
REQUESTS = 20_000
BATCH = 5000
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PREFIX = "Bench Match "

# UK postcode areas with the region their sites carry and a weight for how many businesses sit there.
UK_AREAS: list[tuple[str, str, int]] = [
    *[(a, "Greater London", 6) for a in ("E", "EC", "N", "NW", "SE", "SW", "W", "WC")],
    *[(a, "West Yorkshire", 3) for a in ("LS", "BD", "HD", "HX", "WF")],
    *[(a, "Greater Manchester", 3) for a in ("M", "BL", "OL", "SK", "WN")],
    *[(a, "West Midlands", 3) for a in ("B", "CV", "DY", "WS", "WV")],
    *[(a, "South Yorkshire", 2) for a in ("S", "DN")],
    *[(a, "Tyne and Wear", 2) for a in ("NE", "SR")],
    ("L", "Merseyside", 3),
    ("CH", "Cheshire", 2),
    ("BS", "Bristol", 3),
    ("CF", "South Glamorgan", 2),
    ("SA", "West Glamorgan", 1),
    ("EH", "Lothian", 3),
    ("G", "Lanarkshire", 3),
    ("AB", "Aberdeenshire", 1),
    ("DD", "Angus", 1),
    ("BT", "Northern Ireland", 2),
    ("NG", "Nottinghamshire", 2),
    ("LE", "Leicestershire", 2),
    ("DE", "Derbyshire", 1),
    ("OX", "Oxfordshire", 2),
    ("CB", "Cambridgeshire", 2),
    ("RG", "Berkshire", 2),
    ("SL", "Berkshire", 1),
    ("SO", "Hampshire", 2),
    ("PO", "Hampshire", 1),
    ("BN", "East Sussex", 2),
    ("CT", "Kent", 1),
    ("ME", "Kent", 1),
    ("TN", "Kent", 1),
    ("GU", "Surrey", 2),
    ("KT", "Surrey", 1),
    ("EX", "Devon", 1),
    ("PL", "Devon", 1),
    ("TR", "Cornwall", 1),
    ("NR", "Norfolk", 1),
    ("IP", "Suffolk", 1),
    ("YO", "North Yorkshire", 1),
    ("HU", "East Riding of Yorkshire", 1),
    ("PR", "Lancashire", 1),
    ("BB", "Lancashire", 1),
    ("CA", "Cumbria", 1),
    ("LN", "Lincolnshire", 1),
    ("ST", "Staffordshire", 1),
    ("GL", "Gloucestershire", 1),
    ("BA", "Somerset", 1),
    ("SN", "Wiltshire", 1),
    ("MK", "Buckinghamshire", 2),
    ("LU", "Bedfordshire", 1),
    ("AL", "Hertfordshire", 1),
    ("CM", "Essex", 1),
    ("SS", "Essex", 1),
]
# Other countries: (country, region, city, postcode maker).
ABROAD: list[tuple[str, str, str, Callable[[random.Random], str]]] = [
    ("IE", "Dublin", "Dublin", lambda r: f"D{r.randint(1, 24):02d} {r.choice('ACDEFHKNPRTVWXY')}{r.randint(100, 999)}"),
    ("IE", "Cork", "Cork", lambda r: f"T12 {r.choice('ACDEFHKNPRTVWXY')}{r.randint(100, 999)}"),
    ("DE", "Berlin", "Berlin", lambda r: f"{r.randint(10115, 14199)}"),
    ("DE", "Bayern", "München", lambda r: f"{r.randint(80331, 81929)}"),
    ("DE", "Hamburg", "Hamburg", lambda r: f"{r.randint(20095, 22769)}"),
    ("DE", "Hessen", "Frankfurt am Main", lambda r: f"{r.randint(60306, 60599)}"),
    ("FR", "Île-de-France", "Paris", lambda r: f"750{r.randint(1, 20):02d}"),
    ("FR", "Auvergne-Rhône-Alpes", "Lyon", lambda r: f"6900{r.randint(1, 9)}"),
    ("NL", "Noord-Holland", "Amsterdam", lambda r: f"10{r.randint(11, 99)} {r.choice('ABCDEGHJKLMNPRSTVWX')}A"),
    ("NL", "Zuid-Holland", "Rotterdam", lambda r: f"30{r.randint(11, 99)} {r.choice('ABCDEGHJKLMNPRSTVWX')}B"),
]
INDUSTRY_WEIGHTS = {
    "retail": 12,
    "it": 10,
    "finance": 8,
    "healthcare": 8,
    "manufacturing": 8,
    "legal": 7,
    "logistics": 7,
    "hospitality": 6,
    "construction": 6,
    "education": 5,
    "public": 5,
    "real_estate": 4,
    "media": 3,
    "telecom": 3,
    "energy": 3,
    "nonprofit": 3,
    "agriculture": 1,
    "other": 1,
}
STATUS_WEIGHTS = {
    "open": 35,
    "draft": 14,
    "awaiting_verification": 2,
    "closed": 8,
    "awarded": 26,
    "cancelled": 6,
    "expired": 7,
    "suspended": 2,
}
VISIBILITY_WEIGHTS = {"open": 80, "listed_access": 12, "listed_sent": 8}
SITES_PER_BUYER = [30, 18, 12, 9, 7, 6, 5, 5, 4, 4]  # weights for 1..10
SITES_PER_REQUEST = [34, 18, 12, 9, 7, 6, 5, 4, 3, 2]  # weights for 1..10, capped by the sites there are

T = TypeVar("T")


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def batches(items: list[T], size: int = BATCH) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def uk_postcode(rng: random.Random, area: str, district: int | None = None) -> str:
    district = district if district is not None else rng.randint(1, 20)
    return (
        f"{area}{district} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    )


# --- the marketplace -------------------------------------------------------------------------------------------


def reset() -> None:
    """Empty requests and criteria, and remove the organisations an earlier run made."""
    from django.db import connection

    from buyers.models import BuyingGroup
    from marketplace.models import Organization
    from rfq.models import Rfq
    from sellers.models import CriteriaSet

    with connection.cursor() as cursor:
        cursor.execute("SET client_min_messages = warning")  # TRUNCATE ... CASCADE names every table it empties
        cursor.execute(f"TRUNCATE {Rfq._meta.db_table}, {CriteriaSet._meta.db_table} CASCADE")
    BuyingGroup.objects.filter(lead__name__startswith=PREFIX).delete()
    Organization.objects.filter(name__startswith=PREFIX).delete()


def build(rng: random.Random, scale: float) -> dict[str, int]:
    """Write the marketplace; return how many rows of each kind."""
    from buyers.models import BuyerProfile, BuyingGroup, GroupMembership, Site
    from marketplace.models import Organization, ServiceType
    from rfq.models import Rfq, RfqLine, RfqSite
    from sellers.models import CriteriaIndustry, CriteriaRegion, CriteriaSet

    n_carriers, n_other = round(CARRIERS * scale), round(OTHER_CARRIERS * scale)
    n_buyers, n_groups, n_requests = round(BUYERS * scale), round(GROUPS * scale), round(REQUESTS * scale)
    types = {st.code: st.pk for st in ServiceType.objects.all()}
    families: dict[str, list[int]] = {}
    for code, pk in types.items():
        families.setdefault(code.split("-")[0], []).append(pk)
    # What buyers ask for: internet and data most, voice next; mobile and wholesale routes rarely.
    family_weights = {"internet": 30, "data": 25, "voice": 25, "mobile": 15, "routes": 5}
    area_weights = [w for _, _, w in UK_AREAS]

    def place(home: tuple[str, str, int] | None) -> tuple[str, str, str, str]:
        """(country, region, city, postcode) of a site: near home most of the time."""
        if rng.random() < 0.15:
            country, region, city, postcode = rng.choice(ABROAD)
            return country, region, city, postcode(rng)
        area, region, _ = home if home and rng.random() < 0.7 else rng.choices(UK_AREAS, weights=area_weights)[0]
        return "GB", region, area, uk_postcode(rng, area)

    # Organisations.
    orgs: list[Any] = []
    for i in range(n_carriers + n_other):
        status = "verified" if i < n_carriers else rng.choice(["unverified", "pending", "rejected"])
        orgs.append(
            Organization(
                kind="carrier",
                name=f"{PREFIX}Carrier {i:05d}",
                alias=f"MC{i:05d}",
                country="GB",
                verification_status=status,
                rejection_reason="No licence on file." if status == "rejected" else "",
                verified_at=NOW if status == "verified" else None,
            )
        )
    for i in range(n_buyers):
        orgs.append(
            Organization(
                kind="buyer",
                name=f"{PREFIX}Buyer {i:05d}",
                alias=f"MB{i:05d}",
                country="GB",
                verification_status="verified" if rng.random() < 0.95 else "pending",
                verified_at=NOW,
            )
        )
    for chunk in batches(orgs):
        Organization.objects.bulk_create(chunk)
    carriers, others, buyers = orgs[:n_carriers], orgs[n_carriers : n_carriers + n_other], orgs[n_carriers + n_other :]

    # Buyers: a profile each, 1-10 sites around a home area.
    resellers: set[int] = set()
    profiles, sites = [], []
    for buyer in buyers:
        is_reseller = rng.random() < 1 / 12
        if is_reseller:
            resellers.add(buyer.pk)
        n = rng.choices(range(1, 11), weights=SITES_PER_BUYER)[0]
        profiles.append(
            BuyerProfile(
                organization=buyer,
                industry="telecom" if is_reseller and rng.random() < 0.5 else pick(rng, INDUSTRY_WEIGHTS),
                employee_band=rng.choice(BuyerProfile.EmployeeBand.values),
                site_count=n,
                is_reseller=is_reseller,
                registration_completed_at=NOW,
            )
        )
        home = rng.choices(UK_AREAS, weights=area_weights)[0]
        for s in range(n):
            country, region, city, postcode = place(home)
            sites.append(
                Site(
                    organization=buyer,
                    name=f"Site {s + 1}",
                    street=f"{rng.randint(1, 300)} High Street",
                    city=city,
                    region=region,
                    postcode=postcode,
                    country=country,
                )
            )
    for chunk in batches(profiles):
        BuyerProfile.objects.bulk_create(chunk)
    for chunk in batches(sites):
        Site.objects.bulk_create(chunk)
    sites_of: dict[int, list[Any]] = {}
    for site in sites:
        sites_of.setdefault(site.organization_id, []).append(site)

    # Buying groups of 3-5 buyers; a group request gathers sites from its members.
    groups = BuyingGroup.objects.bulk_create(
        [
            BuyingGroup(
                name=f"{PREFIX}Group {g:04d}",
                reference=f"MG{g:04d}",
                region="UK",
                contact_name="Lead",
                contact_email=f"group{g}@bench.test",
                lead=buyers[g],
                join_code_hash="x",
            )
            for g in range(n_groups)
        ]
    )
    members_of: dict[int, list[Any]] = {}
    memberships = []
    for g, group in enumerate(groups):
        members = [buyers[g], *rng.sample(buyers[n_groups:], rng.randint(2, 4))]
        members_of[group.pk] = members
        memberships += [GroupMembership(group=group, organization=m, status="active", joined_at=NOW) for m in members]
    GroupMembership.objects.bulk_create(memberships)

    # Requests.
    rfqs, plans = [], []
    for i in range(n_requests):
        status = pick(rng, STATUS_WEIGHTS)
        joint: Any = groups[rng.randrange(n_groups)] if n_groups and rng.random() < 0.03 else None
        buyer = joint.lead if joint else buyers[rng.randrange(n_buyers)]
        pool = [s for m in members_of[joint.pk] for s in sites_of[m.pk]] if joint else sites_of[buyer.pk]
        k = min(len(pool), rng.choices(range(1, 11), weights=SITES_PER_REQUEST)[0])
        if joint:
            k = min(len(pool), max(k, 3))
        chosen = rng.sample(pool, k)
        families_asked = {pick(rng, family_weights) for _ in range(rng.choices([1, 2, 3], weights=[60, 30, 10])[0])}
        choices = [t for f in sorted(families_asked) for t in families[f]]
        asked = rng.sample(choices, min(len(choices), rng.randint(1, 3)))
        term = rng.choice([12, 24, 36, 36, 60]) if rng.random() < 0.9 else None
        monthly = sum(rng.randint(40, 4000) for _ in range(k)) if rng.random() < 0.8 else None
        created = NOW - timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 1440))
        deadline = (
            None
            if status == "draft"
            else (created + timedelta(days=21) if status != "open" else NOW + timedelta(days=rng.randint(1, 30)))
        )
        rfqs.append(
            Rfq(
                buyer=buyer,
                group=joint,
                reference=f"MR{i:07d}",
                title=f"Request {i}",
                status=status,
                visibility=pick(rng, VISIBILITY_WEIGHTS),
                currency=rng.choices(["GBP", "EUR", "USD"], weights=[85, 12, 3])[0],
                term_months=term,
                estimated_value=Decimal(monthly * term) if monthly and term else None,
                site_count=k,
                buyer_is_reseller=any(s.organization_id in resellers for s in chosen),
                bid_deadline=deadline,
                decision_deadline=deadline + timedelta(days=14) if deadline else None,
                published_at=None if status == "draft" else created,
                created_at=created,
                updated_at=created,
            )
        )
        plans.append((chosen, asked))
    for chunk in batches(rfqs):
        Rfq.objects.bulk_create(chunk)
    rfq_sites = [
        RfqSite(rfq=rfq, site=site, organization_id=site.organization_id)
        for rfq, (chosen, _) in zip(rfqs, plans, strict=True)
        for site in chosen
    ]
    for chunk in batches(rfq_sites):
        RfqSite.objects.bulk_create(chunk)
    lines = []
    position = 0
    by_rfq = iter(rfq_sites)
    for rfq, (chosen, asked) in zip(rfqs, plans, strict=True):
        for _ in chosen:
            rs = next(by_rfq)
            # 1-5 lines per site: most sites want every service asked for, some a few of them twice.
            wanted = [t for t in asked if rng.random() < 0.85] or [asked[0]]
            wanted += rng.sample(asked, min(len(asked), rng.randint(0, 5 - len(wanted))))
            for position, service_type_id in enumerate(wanted[:5]):
                lines.append(
                    RfqLine(
                        rfq=rfq,
                        rfq_site=rs,
                        service_type_id=service_type_id,
                        prior_monthly_spend=Decimal(rng.randint(20, 2000)),
                        position=position,
                    )
                )
    for chunk in batches(lines):
        RfqLine.objects.bulk_create(chunk)

    # Criteria: what kind of carrier decides how wide its sets are.
    sets, set_types, set_regions, set_industries = [], [], [], []

    def criteria_for(org: Any, kind: str, n: int, paused_share: float) -> None:
        home = rng.choices(UK_AREAS, weights=area_weights)[0]
        offered = rng.sample(list(families), rng.randint(1, 3))
        for s in range(n):
            regions: list[tuple[str, str, str]] = []
            if kind in ("national", "vertical"):
                if rng.random() < 0.6:
                    regions = [("GB", "", "")] + ([("IE", "", "")] if rng.random() < 0.3 else [])
            elif kind == "regional":
                nearby = [a for a in UK_AREAS if a[1] == home[1]] + rng.sample(UK_AREAS, rng.randint(0, 4))
                for area, region, _ in nearby:
                    regions.append(("GB", region, "") if rng.random() < 0.4 else ("GB", "", area))
            elif kind == "metro":
                area = home[0]
                regions = [("GB", "", f"{area}{d}") for d in rng.sample(range(1, 21), rng.randint(2, 8))]
                if rng.random() < 0.3:
                    regions.append(("GB", home[1].lower(), area))  # set in lower case: matching ignores case
            else:  # international
                for country, region, _, _ in rng.sample(ABROAD, rng.randint(1, 4)):
                    regions.append((country, "" if rng.random() < 0.5 else region, ""))
            family = rng.choice(offered)
            codes: list[int] = []
            if rng.random() > 0.1:  # one set in ten takes any service
                codes = rng.sample(families[family], rng.randint(1, len(families[family])))
                if rng.random() < 0.3:
                    other = rng.choice(list(families))
                    codes = sorted(set(codes) | set(rng.sample(families[other], 1)))
            value_min = value_max = None
            if rng.random() < 0.4:
                value_min = Decimal(rng.choice([1000, 5000, 10000, 25000, 50000]))
                value_max = rng.choice([None, value_min * 20, value_min * 100])
            term_min = term_max = None
            if rng.random() < 0.3:
                term_min, term_max = rng.choice([(12, 36), (12, 60), (24, None), (None, 36), (36, 60)])
            sites_min = sites_max = None
            if rng.random() < 0.25:
                sites_min, sites_max = rng.choice([(1, 3), (2, None), (3, None), (None, 5), (5, 50)])
            sets.append(
                CriteriaSet(
                    organization=org,
                    name=f"{kind.title()} {family} {s + 1}",
                    is_paused=rng.random() < paused_share,
                    value_min=value_min,
                    value_max=value_max,
                    currency="EUR" if kind == "international" and rng.random() < 0.7 else "GBP",
                    sites_min=sites_min,
                    sites_max=sites_max,
                    term_min_months=term_min,
                    term_max_months=term_max,
                    takes_group_requests=rng.random() < 0.8,
                    takes_reseller_buyers=rng.random() < 0.75,
                )
            )
            set_types.append(codes)
            set_regions.append(sorted(set(regions)))
            industries = []
            if rng.random() < 0.3 or kind == "vertical":
                industries = rng.sample(list(INDUSTRY_WEIGHTS), rng.randint(1, 4))
            set_industries.append(industries)

    kinds = {"regional": 55, "national": 12, "metro": 15, "international": 10, "vertical": 8}
    for org in carriers:
        kind = pick(rng, kinds)
        criteria_for(org, kind, rng.randint(1, 4), paused_share=0.1)
    for org in others:  # broad and unpaused: were verification ignored, they would match almost everything
        criteria_for(org, "national", rng.randint(1, 2), paused_share=0.0)
    for chunk in batches(sets):
        CriteriaSet.objects.bulk_create(chunk)
    through = CriteriaSet.service_types.through
    rows = [through(criteriaset_id=c.pk, servicetype_id=t) for c, ts in zip(sets, set_types, strict=True) for t in ts]
    for chunk in batches(rows):
        through.objects.bulk_create(chunk)
    regions = [
        CriteriaRegion(criteria=c, country=country, region=region, postcode_prefix=prefix)
        for c, rs in zip(sets, set_regions, strict=True)
        for country, region, prefix in rs
    ]
    for chunk in batches(regions):
        CriteriaRegion.objects.bulk_create(chunk)
    industry_rows = [
        CriteriaIndustry(criteria=c, industry=ind) for c, inds in zip(sets, set_industries, strict=True) for ind in inds
    ]
    for chunk in batches(industry_rows):
        CriteriaIndustry.objects.bulk_create(chunk)
    return {
        "carriers": len(carriers),
        "unverified carriers": len(others),
        "criteria sets": len(sets),
        "paused sets": sum(c.is_paused for c in sets),
        "region rows": len(regions),
        "buyers": len(buyers),
        "sites": len(sites),
        "requests": len(rfqs),
        "open to all and open": sum(r.status == "open" and r.visibility == "open" for r in rfqs),
        "request sites": len(rfq_sites),
        "lines": len(lines),
    }


# --- the rule in plain Python, to cross-check the data ---------------------------------------------------------


@dataclass
class Criteria:
    id: int
    carrier_id: int
    row: dict[str, Any]
    types: set[int] = field(default_factory=set)
    regions: list[tuple[str, str, str]] = field(default_factory=list)
    industries: set[str] = field(default_factory=set)


def load_criteria() -> list[Criteria]:
    """Every unpaused set of a verified carrier, with its lists."""
    from sellers.models import CriteriaIndustry, CriteriaRegion, CriteriaSet

    sets = {
        row["id"]: Criteria(id=row["id"], carrier_id=row["organization_id"], row=dict(row))
        for row in CriteriaSet.objects.filter(
            is_paused=False, organization__kind="carrier", organization__verification_status="verified"
        ).values()
    }
    for cid, tid in CriteriaSet.service_types.through.objects.values_list("criteriaset_id", "servicetype_id"):
        if cid in sets:
            sets[cid].types.add(tid)
    for cid, country, region, prefix in CriteriaRegion.objects.values_list(
        "criteria_id", "country", "region", "postcode_prefix"
    ):
        if cid in sets:
            sets[cid].regions.append((country, region, prefix))
    for cid, industry in CriteriaIndustry.objects.values_list("criteria_id", "industry"):
        if cid in sets:
            sets[cid].industries.add(industry)
    return list(sets.values())


def in_range(lo: Any, hi: Any, value: Any) -> bool:
    return (lo is None or lo <= value) and (hi is None or value <= hi)


def python_matches(rfq_ids: Iterable[int], criteria: list[Criteria]) -> set[tuple[int, int, int]]:
    """(request, set, carrier) for every set whose every condition holds; an empty list means any."""
    from buyers.models import BuyerProfile
    from rfq.models import Rfq, RfqLine, RfqSite

    ids = list(rfq_ids)
    rfqs: dict[int, dict[str, Any]] = {r["id"]: dict(r) for r in Rfq.objects.filter(pk__in=ids).values()}
    types: dict[int, set[int]] = {}
    for rid, tid in RfqLine.objects.filter(rfq_id__in=ids).values_list("rfq_id", "service_type_id"):
        types.setdefault(rid, set()).add(tid)
    places: dict[int, list[tuple[str, str, str]]] = {}
    orgs: dict[int, set[int]] = {}
    for rid, org, country, region, postcode in RfqSite.objects.filter(rfq_id__in=ids).values_list(
        "rfq_id", "organization_id", "site__country", "site__region", "site__postcode"
    ):
        places.setdefault(rid, []).append((country.upper(), region.upper(), postcode.upper().replace(" ", "")))
        orgs.setdefault(rid, set()).add(org)
    industry = dict(BuyerProfile.objects.values_list("organization_id", "industry"))

    def holds(c: Criteria, r: dict[str, Any]) -> bool:
        rid, row = r["id"], c.row
        if c.types and not c.types & types.get(rid, set()):
            return False
        if c.regions and not any(
            country == cc.upper() and (not cr or region == cr.upper()) and postcode.startswith(cp)
            for country, region, postcode in places.get(rid, [])
            for cc, cr, cp in c.regions
        ):
            return False
        if (
            r["estimated_value"] is not None
            and row["currency"] == r["currency"]
            and not in_range(row["value_min"], row["value_max"], r["estimated_value"])
        ):
            return False
        if not in_range(row["sites_min"], row["sites_max"], r["site_count"]):
            return False
        if r["term_months"] is not None and not in_range(
            row["term_min_months"], row["term_max_months"], r["term_months"]
        ):
            return False
        if r["group_id"] is not None and not row["takes_group_requests"]:
            return False
        if r["buyer_is_reseller"] and not row["takes_reseller_buyers"]:
            return False
        return not c.industries or any(industry.get(o) in c.industries for o in orgs.get(rid, ()))

    return {(r["id"], c.id, c.carrier_id) for r in rfqs.values() for c in criteria if holds(c, r)}


def cross_check(rng: random.Random, carrier_ids: list[int]) -> str:
    """The SQL agrees with the plain rule on a sample of requests, both ways; a check of the data, not a test."""
    from rfq import matching
    from rfq.models import Rfq

    criteria = load_criteria()
    all_ids = list(Rfq.objects.values_list("pk", flat=True))
    sample = rng.sample(all_ids, min(50, len(all_ids)))
    # Make sure the sample holds open requests, which is all the carrier side sees.
    open_ids = list(Rfq.objects.filter(status="open", visibility="open").values_list("pk", flat=True))
    sample += rng.sample(open_ids, min(10, len(open_ids)))
    expected = python_matches(sample, criteria)
    got = {(m.rfq_id, m.criteria_id, m.carrier_id) for rid in sample for m in matching.matches_for_rfq(rid)}
    assert got == expected, f"rfq→carriers disagrees: {len(got - expected)} extra, {len(expected - got)} missing"
    visible = set(Rfq.objects.filter(pk__in=sample, status="open", visibility="open").values_list("pk", flat=True))
    carriers = rng.sample(carrier_ids, min(20, len(carrier_ids)))
    for carrier_id in carriers:
        got_c = {
            (m.rfq_id, m.criteria_id, m.carrier_id)
            for m in matching.matches_for_carrier(carrier_id)
            if m.rfq_id in visible
        }
        want_c = {t for t in expected if t[2] == carrier_id and t[0] in visible}
        assert got_c == want_c, f"carrier→requests disagrees for carrier {carrier_id}"
    return (
        f"cross-check: {len(sample)} requests, {len(expected):,} matches agree with the plain rule"
        f" (SQL both ways; {len(carriers)} carriers over the {len(visible)} open ones)"
    )


# --- measuring -------------------------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000


def summary(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return ms(statistics.median(ordered)), ms(p95), ms(ordered[-1])


def fmt(name: str, times: list[float], extra: str = "") -> str:
    median, p95, worst = summary(times)
    return f"{name:<18} median {median:7.2f} ms   p95 {p95:7.2f} ms   max {worst:7.2f} ms{extra}"


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def floor_lookup(table: str, ids: list[int]) -> Callable[[], list[Any]]:
    """The same rows by primary key: what reading the answer costs when it is already known."""
    from django.db import connection

    def run() -> list[Any]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s)", [ids])  # noqa: S608 (model metadata)
            return cursor.fetchall()

    return run


def explain(call: Callable[[], Any]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the query a call runs, caught as it runs."""
    from django.db import connection, transaction

    caught: list[tuple[str, Any]] = []

    def catch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        caught.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(catch):
        call()
    # Replay what ran before the query in the same call (a SET LOCAL, say), then explain the query itself.
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in caught[:-1]:
            cursor.execute(sql, params)
        sql, params = caught[-1]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies carriers, buyers and requests")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print the plans of one call each way")
    parser.add_argument("--keep", action="store_true", help="measure the data an earlier run left; build nothing")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/matching.py measures PostgreSQL: set DATABASE_URL to a scratch PostgreSQL database.")
    call_command("migrate", verbosity=0)

    from marketplace.models import Organization
    from rfq import matching
    from rfq.models import Rfq, RfqLine, RfqSite
    from sellers.models import CriteriaIndustry, CriteriaRegion, CriteriaSet

    rng = random.Random(args.seed)
    if not args.keep:
        print(f"Preparing the marketplace at scale {args.scale} ...", flush=True)
        started = time.perf_counter()
        reset()
        counts = build(rng, args.scale)
        print(", ".join(f"{v:,} {k}" for k, v in counts.items()) + f" in {time.perf_counter() - started:.0f} s")
        with connection.cursor() as cursor:
            for model in (Rfq, RfqSite, RfqLine, CriteriaSet, CriteriaRegion, CriteriaIndustry, Organization):
                cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
            cursor.execute(f"VACUUM (ANALYZE) {CriteriaSet.service_types.through._meta.db_table}")
            cursor.execute("VACUUM (ANALYZE) buyers_site")
            cursor.execute("VACUUM (ANALYZE) buyers_buyerprofile")
            cursor.execute("CHECKPOINT")

    carrier_ids = list(
        Organization.objects.filter(kind="carrier", verification_status="verified", criteria_sets__isnull=False)
        .distinct()
        .values_list("pk", flat=True)
    )
    rfq_ids = list(Rfq.objects.values_list("pk", flat=True))
    print(cross_check(random.Random(args.seed + 1), carrier_ids), flush=True)

    pick_rfqs = rng.sample(rfq_ids, min(args.samples, len(rfq_ids)))
    pick_carriers = rng.sample(carrier_ids, min(args.samples, len(carrier_ids)))
    for rid in pick_rfqs[:10]:  # warm the caches the way a running site has them
        matching.matches_for_rfq(rid)
    for cid in pick_carriers[:5]:
        matching.matches_for_carrier(cid)

    rfq_times, rfq_floor, rfq_rows = [], [], []
    for rid in pick_rfqs:
        took, found = timed(lambda rid=rid: matching.matches_for_rfq(rid))  # type: ignore[misc]
        rfq_times.append(took)
        rfq_rows.append(len(found))
        rfq_floor.append(timed(floor_lookup(CriteriaSet._meta.db_table, [m.criteria_id for m in found]))[0])
    carrier_times, carrier_floor, carrier_rows = [], [], []
    for cid in pick_carriers:
        took, found = timed(lambda cid=cid: matching.matches_for_carrier(cid))  # type: ignore[misc]
        carrier_times.append(took)
        carrier_rows.append(len(found))
        carrier_floor.append(timed(floor_lookup(Rfq._meta.db_table, [m.rfq_id for m in found]))[0])
    dashboard_times = [
        timed(lambda cid=cid: matching.open_request_counts_by_criteria(cid))[0]  # type: ignore[misc]
        for cid in pick_carriers
    ]

    def rows(found: list[int]) -> str:
        return f"   rows median {statistics.median(found):,.0f}, max {max(found):,}"

    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(fmt("rfq→carriers", rfq_times, rows(rfq_rows)))
    print(fmt("  floor", rfq_floor, "   (matched criteria sets by primary key)"))
    print(fmt("carrier→requests", carrier_times, rows(carrier_rows)))
    print(fmt("  floor", carrier_floor, "   (matched requests by primary key)"))
    print(fmt("dashboard counts", dashboard_times, "   (open_request_counts_by_criteria)"))

    if args.explain:
        median_rfq = sorted(zip(rfq_times, pick_rfqs, strict=True))[len(pick_rfqs) // 2][1]
        median_carrier = sorted(zip(carrier_times, pick_carriers, strict=True))[len(pick_carriers) // 2][1]
        print(f"\n--- EXPLAIN matches_for_rfq({median_rfq}) ---")
        print(explain(lambda: matching.matches_for_rfq(median_rfq)))
        print(f"\n--- EXPLAIN matches_for_carrier({median_carrier}) ---")
        print(explain(lambda: matching.matches_for_carrier(median_carrier)))
        print()

    r_median, r_p95, _ = summary(rfq_times)
    c_median, c_p95, _ = summary(carrier_times)
    print(
        f"match rfq→carriers {r_median:.1f} ms (p95 {r_p95:.1f} ms) | "
        f"carrier→requests {c_median:.1f} ms (p95 {c_p95:.1f} ms)"
    )


if __name__ == "__main__":
    main()
