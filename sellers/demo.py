"""Demo data of the sellers app, called by seed_demo after the core cast exists. Idempotent."""
# ruff: noqa: E501  (the offer table reads best one offer per line)

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from marketplace.models import Organization, ServiceCategory, ServiceType, User
from sellers import services
from sellers.models import CarrierProfile, CoverageArea, CriteriaSet, StandingOffer
from sellers.regions import parse_areas

# The demo buyers' sites: Leeds, Manchester, London, Bristol, Birmingham.
LEEDS = "GB, West Yorkshire, LS"
MANCHESTER = "GB, Greater Manchester, M"
LONDON = "GB, Greater London, EC E N W"
BRISTOL = "GB, Bristol, BS"
BIRMINGHAM = "GB, West Midlands, B"

CARRIERS: dict[str, dict[str, Any]] = {
    "Northwind Telecom": {
        "admin": "seller@example.com",
        "profile": {
            "company_number": "08123456",
            "vat_number": "GB 812 3456 78",
            "regulator": "ofcom",
            "regulator_reference": "OFCOM-GA-20419",
            "website": "https://northwind.example",
            "description": "National fibre and voice carrier for businesses.",
        },
        "categories": ["voice", "internet", "data"],
        "coverage": {
            "internet-dedicated": [LONDON, LEEDS, MANCHESTER, BIRMINGHAM],
            "internet-broadband": ["GB"],
            "voice-sip-trunking": ["GB"],
            "voice-complete": ["GB"],
            "data-mpls": [LONDON, LEEDS, MANCHESTER, BIRMINGHAM, BRISTOL],
        },
        "criteria": [
            {
                "name": "UK business connectivity",
                "types": ["internet-dedicated", "internet-broadband", "data-mpls", "data-sd-wan"],
                "areas": [LONDON, LEEDS, MANCHESTER, BIRMINGHAM],
                "value": (Decimal("5000"), Decimal("2000000")),
                "sites": (1, 200),
                "term": (12, 60),
            },
            {
                "name": "Voice anywhere in the UK",
                "types": ["voice-sip-trunking", "voice-complete", "voice-long-distance"],
                "areas": ["GB"],
                "value": (None, None),
                "sites": (None, None),
                "term": (12, 36),
            },
        ],
    },
    "Bluewave Networks": {
        "admin": "seller2@example.com",
        "profile": {
            "company_number": "09876543",
            "vat_number": "GB 987 6543 21",
            "regulator": "ofcom",
            "regulator_reference": "OFCOM-GA-31877",
            "website": "https://bluewave.example",
            "description": "Regional networks for the South West and the North.",
        },
        "categories": ["internet", "data", "voice"],
        "coverage": {
            "internet-broadband": [BRISTOL, MANCHESTER, LEEDS],
            "internet-dedicated": [BRISTOL, MANCHESTER],
            "data-sd-wan": ["GB"],
            "voice-sip-trunking": [BRISTOL, MANCHESTER, LEEDS],
        },
        "criteria": [
            {
                "name": "Healthcare and retail, small estates",
                "types": ["internet-broadband", "data-sd-wan", "voice-sip-trunking"],
                "areas": [BRISTOL, MANCHESTER, LEEDS],
                "value": (Decimal("1000"), Decimal("250000")),
                "sites": (1, 40),
                "term": (12, 36),
                "industries": ["healthcare", "retail", "logistics"],
                "resellers": False,
            },
        ],
    },
    "Cobalt Fiber": {
        "admin": "seller3@example.com",
        "profile": {
            "company_number": "11223344",
            "vat_number": "",
            "regulator": "",
            "regulator_reference": "",
            "website": "https://cobaltfiber.example",
            "description": "Dark fibre and wavelengths in the Midlands.",
        },
        "categories": ["data", "internet"],
        "coverage": {
            "data-wavelength": [BIRMINGHAM, LONDON],
            "internet-dedicated": [BIRMINGHAM],
        },
        "criteria": [
            {
                "name": "Midlands high capacity",
                "types": ["data-wavelength", "internet-dedicated", "data-ip-transit"],
                "areas": [BIRMINGHAM, LONDON],
                "value": (Decimal("20000"), None),
                "sites": (None, None),
                "term": (24, None),
                "groups": False,
            },
        ],
    },
}

# (carrier, service type, title, capacity, unit, term, monthly, one-time, usage rates, areas, expires in days)
OFFERS: list[tuple[Any, ...]] = [
    ("Northwind Telecom", "internet-dedicated", "Fibre leased line 100M–1G, 36 months", (100, 1000), "Mbps", 36, "325.00", "1500.00", "", [LONDON], 365),
    ("Northwind Telecom", "internet-dedicated", "Fibre leased line 100M–1G, 12 months", (100, 1000), "Mbps", 12, "395.00", "2500.00", "", [LONDON, LEEDS], 180),
    ("Northwind Telecom", "internet-dedicated", "10G leased line, 36 months", (1, 10), "Gbps", 36, "1450.00", "3000.00", "", [LONDON], 365),
    ("Northwind Telecom", "internet-dedicated", "Northern leased line, 36 months", (100, 1000), "Mbps", 36, "299.00", "1200.00", "", [LEEDS, MANCHESTER], 20),
    ("Northwind Telecom", "internet-broadband", "Business FTTP 900", (100, 900), "Mbps", 24, "65.00", "99.00", "", ["GB"], 365),
    ("Northwind Telecom", "voice-sip-trunking", "SIP trunk channels", (2, 200), "channels", 12, "8.50", "0.00", "0.009 per minute", ["GB"], 365),
    ("Northwind Telecom", "voice-complete", "Complete calling per line", (1, 500), "lines", 24, "18.00", "25.00", "0.02 per minute", ["GB"], 12),
    ("Northwind Telecom", "data-mpls", "MPLS site, 100 Mbps class", (10, 100), "Mbps", 36, "420.00", "2000.00", "", [LONDON, LEEDS, MANCHESTER], 365),
    ("Northwind Telecom", "data-mpls", "MPLS site, 1 Gbps class", (100, 1000), "Mbps", 36, "890.00", "2500.00", "", [LONDON, BIRMINGHAM], 365),
    ("Bluewave Networks", "internet-broadband", "Bluewave FTTP 500", (50, 500), "Mbps", 12, "45.00", "0.00", "", [BRISTOL, MANCHESTER], 365),
    ("Bluewave Networks", "internet-broadband", "Bluewave FTTP 1000", (500, 1000), "Mbps", 24, "59.00", "0.00", "", [BRISTOL, MANCHESTER, LEEDS], 25),
    ("Bluewave Networks", "internet-dedicated", "Bristol leased line", (100, 1000), "Mbps", 36, "279.00", "995.00", "", [BRISTOL], 365),
    ("Bluewave Networks", "internet-dedicated", "Manchester leased line", (100, 1000), "Mbps", 36, "289.00", "995.00", "", [MANCHESTER], 365),
    ("Bluewave Networks", "data-sd-wan", "SD-WAN edge, managed", (50, 1000), "Mbps", 36, "150.00", "450.00", "", ["GB"], 365),
    ("Bluewave Networks", "voice-sip-trunking", "SIP trunk for dental practices", (2, 30), "channels", 24, "7.25", "0.00", "0.011 per minute", [BRISTOL, MANCHESTER, LEEDS], 365),
    ("Bluewave Networks", "voice-long-distance", "International minutes bundle", (1000, 100000), "minutes", 12, "30.00", "0.00", "0.015 per minute", [BRISTOL, MANCHESTER], 365),
    ("Cobalt Fiber", "data-wavelength", "10G wavelength Birmingham–London", (10, 10), "Gbps", 60, "3200.00", "9500.00", "", [BIRMINGHAM, LONDON], 365),
    ("Cobalt Fiber", "data-wavelength", "100G wavelength Birmingham–London", (100, 100), "Gbps", 60, "9800.00", "15000.00", "", [BIRMINGHAM, LONDON], 365),
    ("Cobalt Fiber", "internet-dedicated", "Midlands dark-fibre access", (1, 10), "Gbps", 36, "990.00", "4500.00", "", [BIRMINGHAM], 28),
    ("Cobalt Fiber", "data-ip-transit", "IP transit, committed rate", (1, 100), "Gbps", 12, "600.00", "0.00", "0.35 per Mbps", [BIRMINGHAM, LONDON], 365),
    ("Cobalt Fiber", "data-mpls", "Midlands MPLS", (10, 1000), "Mbps", 36, "510.00", "1800.00", "", [BIRMINGHAM], 365),
]  # fmt: skip


def _areas(lines: list[str]) -> list[Any]:
    return parse_areas("\n".join(lines))


def _admin(org: Organization, email: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:  # the core cast always creates it; fall back to any member
        return org.memberships.select_related("user").first().user  # type: ignore[union-attr]
    return user


def _profile(org: Organization, actor: User, spec: dict[str, Any]) -> None:
    profile, _ = CarrierProfile.objects.get_or_create(organization=org)
    if profile.completed_at is None:
        for field, value in spec["profile"].items():
            setattr(profile, field, value)
        profile.completed_at = timezone.now()
        profile.save()
        profile.categories.set(ServiceCategory.objects.filter(code__in=spec["categories"]))
    if not org.trading_name:
        org.trading_name = org.name
        org.save(update_fields=["trading_name"])


@transaction.atomic
def seed() -> list[str]:
    """Create the sellers demo data; return lines describing what is there."""
    types = {st.code: st for st in ServiceType.objects.all()}
    today = timezone.localdate()
    lines = []
    for name, spec in CARRIERS.items():
        org = Organization.objects.filter(name=name, kind=Organization.Kind.CARRIER).first()
        if org is None:
            continue
        actor = _admin(org, spec["admin"])
        _profile(org, actor, spec)
        for code, area_lines in spec["coverage"].items():
            if not CoverageArea.objects.filter(organization=org, service_type=types[code]).exists():
                services.coverage_add(actor=actor, organization=org, service_type=types[code], areas=_areas(area_lines))
        for c in spec["criteria"]:
            if CriteriaSet.objects.filter(organization=org, name=c["name"]).exists():
                continue
            services.criteria_set_create(
                actor=actor,
                organization=org,
                data={
                    "name": c["name"],
                    "service_types": [types[t] for t in c["types"]],
                    "areas": _areas(c["areas"]),
                    "value_min": c["value"][0],
                    "value_max": c["value"][1],
                    "currency": "GBP",
                    "sites_min": c["sites"][0],
                    "sites_max": c["sites"][1],
                    "term_min_months": c["term"][0],
                    "term_max_months": c["term"][1],
                    "takes_group_requests": c.get("groups", True),
                    "takes_reseller_buyers": c.get("resellers", True),
                    "industries": c.get("industries", []),
                },
            )
        existing = set(StandingOffer.objects.filter(organization=org).values_list("current_version__title", flat=True))
        for carrier, code, title, (lo, hi), unit, term, monthly, once, rates, areas, days in OFFERS:
            if carrier != name or title in existing:
                continue
            rate_list = [(Decimal(r.split(" per ")[0]), r.split(" per ")[1]) for r in [rates] if r]
            services.standing_offer_create(
                actor=actor,
                organization=org,
                service_type=types[code],
                terms={
                    "title": title,
                    "capacity_min": Decimal(lo),
                    "capacity_max": Decimal(hi),
                    "capacity_unit": unit,
                    "term_months": term,
                    "monthly_charge": Decimal(monthly),
                    "one_time_charge": Decimal(once),
                    "currency": "GBP",
                    "valid_from": today - timedelta(days=30),
                    "valid_until": today + timedelta(days=days),
                    "notes": "",
                    "usage_rates": rate_list,
                    "areas": _areas(areas),
                },
            )
        count = StandingOffer.objects.filter(organization=org, status="active").count()
        lines.append(f"{name}: {count} standing offers, {org.criteria_sets.count()} criteria sets")
    return lines
