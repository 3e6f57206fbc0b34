"""Objects of the carriers app for tests, made through the services like real users make them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from marketplace.models import Organization, ServiceType, User
from sellers import services
from sellers.logos import Logo
from sellers.models import CoverageArea, CriteriaSet, StandingOffer
from sellers.regions import parse_areas

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG_OK = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<title>Logo</title><rect width="10" height="10" fill="#1d4ed8"/></svg>'
)


def service_type(code: str = "internet-dedicated") -> ServiceType:
    return ServiceType.objects.get(code=code)


def criteria_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Northern SMEs",
        "service_types": [service_type()],
        "areas": parse_areas("GB, West Yorkshire, LS"),
        "value_min": Decimal("1000"),
        "value_max": Decimal("50000"),
        "currency": "GBP",
        "sites_min": 1,
        "sites_max": 20,
        "term_min_months": 12,
        "term_max_months": 36,
        "takes_group_requests": True,
        "takes_reseller_buyers": False,
        "industries": ["healthcare"],
    }
    data.update(overrides)
    return data


def make_criteria(org: Organization, actor: User, **overrides: Any) -> CriteriaSet:
    return services.criteria_set_create(actor=actor, organization=org, data=criteria_data(**overrides))


def terms(**overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    data: dict[str, Any] = {
        "title": "Fibre leased line, 36 months",
        "capacity_min": Decimal("100"),
        "capacity_max": Decimal("1000"),
        "capacity_unit": "Mbps",
        "term_months": 36,
        "monthly_charge": Decimal("325.00"),
        "one_time_charge": Decimal("1500.00"),
        "currency": "GBP",
        "valid_from": today,
        "valid_until": today + timedelta(days=365),
        "notes": "",
        "usage_rates": [],
        "areas": parse_areas("GB, Greater London, EC"),
    }
    data.update(overrides)
    return data


def make_offer(org: Organization, actor: User, code: str = "internet-dedicated", **overrides: Any) -> StandingOffer:
    return services.standing_offer_create(
        actor=actor, organization=org, service_type=service_type(code), terms=terms(**overrides)
    )


def make_coverage(org: Organization, actor: User, code: str = "internet-dedicated") -> CoverageArea:
    return services.coverage_add(
        actor=actor, organization=org, service_type=service_type(code), areas=parse_areas("GB, Greater London, EC")
    )[0]


def give_logo(org: Organization, actor: User) -> None:
    services.carrier_logo_set(actor=actor, organization=org, logo=Logo("svg", SVG_OK))


def offer_post_data(**overrides: Any) -> dict[str, Any]:
    today: date = timezone.localdate()
    data = {
        "service_type": "internet-dedicated",
        "title": "Fibre leased line, 36 months",
        "capacity_min": "100",
        "capacity_max": "1000",
        "capacity_unit": "Mbps",
        "term_months": "36",
        "monthly_charge": "325.00",
        "one_time_charge": "1500.00",
        "currency": "GBP",
        "usage_rates": "",
        "areas": "GB, Greater London, EC E",
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "notes": "",
    }
    data.update(overrides)
    return data


def criteria_post_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Northern SMEs",
        "service_types": [str(service_type().pk)],
        "areas": "GB, West Yorkshire, LS",
        "value_min": "1000",
        "value_max": "50000",
        "currency": "GBP",
        "sites_min": "1",
        "sites_max": "20",
        "term_min_months": "12",
        "term_max_months": "36",
        "takes_group_requests": "on",
        "industries": ["healthcare"],
    }
    data.update(overrides)
    return data
