"""Reads of the carriers app, including the one access function per actor and object.

Who may do what in a carrier organisation:
- every member (admin, sales, billing) reads the portal: dashboard, profile, criteria, coverage, offers;
- sales and admins manage filtering criteria, coverage and standing offers (and will answer requests);
- only admins change the registration (profile, logo) and manage people (core people page);
- billing staff will see invoices and statements; everywhere else they only read.
Out of scope (another organisation's object, not a carrier) is 404; in scope but the wrong role is 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from marketplace import selectors as core_selectors
from marketplace.models import Membership, Organization, ServiceType, User
from sellers.constants import EXPIRY_WARNING_DAYS, INDUSTRY_LABELS
from sellers.models import (
    CarrierProfile,
    CoverageArea,
    CriteriaSet,
    OfferVersion,
    StandingOffer,
)
from sellers.regions import describe_areas

SALES_ROLES = (Membership.Role.SALES,)


# --- Access ------------------------------------------------------------------------------------------


def carrier_member_get(*, user: User) -> Membership:
    """Return the user's carrier membership (any role), or raise Http404."""
    return core_selectors.carrier_membership_get(user=user)


def carrier_sales_get(*, user: User) -> Membership:
    """Return the membership of a carrier's sales user or admin; billing gets PermissionDenied."""
    return core_selectors.carrier_membership_with_role_get(user=user, roles=SALES_ROLES)


def carrier_admin_get(*, user: User) -> Membership:
    """Return the membership of a carrier admin; sales and billing get PermissionDenied."""
    return core_selectors.carrier_membership_with_role_get(user=user, roles=())


def _require(membership: Membership, roles: tuple[str, ...]) -> None:
    if membership.role != Membership.Role.ADMIN and membership.role not in roles:
        raise PermissionDenied("Your role does not allow this.")


def criteria_set_get_for_member(*, user: User, pk: int, write: bool = False) -> CriteriaSet:
    """Return a criteria set of the user's carrier, or 404; with write, non-sales roles get 403."""
    membership = carrier_member_get(user=user)
    found = criteria_sets_for(organization=membership.organization).filter(pk=pk).first()
    if found is None:
        raise Http404("No such criteria set.")
    if write:
        _require(membership, SALES_ROLES)
    return found


def coverage_area_get_for_sales(*, user: User, pk: int) -> CoverageArea:
    """Return a coverage area of the user's carrier for change, 404 outside it, 403 for read-only roles."""
    membership = carrier_member_get(user=user)
    found = CoverageArea.objects.filter(pk=pk, organization=membership.organization).first()
    if found is None:
        raise Http404("No such coverage area.")
    _require(membership, SALES_ROLES)
    return found


def offer_get_for_member(*, user: User, pk: int, write: bool = False) -> StandingOffer:
    """Return a standing offer of the user's carrier, or 404; with write, non-sales roles get 403."""
    membership = carrier_member_get(user=user)
    found = _offers().filter(pk=pk, organization=membership.organization).first()
    if found is None:
        raise Http404("No such offer.")
    if write:
        _require(membership, SALES_ROLES)
    return found


def logo_get_for_user(*, user: User, organization_pk: int) -> CarrierProfile:
    """Return a carrier's profile with a logo: to its members and moderators always, to others once verified."""
    # organization__pk, not organization_id: only the key itself is range-checked, so an id past 64 bits from the
    # URL finds nothing instead of crashing SQLite.
    profile = (
        CarrierProfile.objects.select_related("organization")
        .filter(organization__pk=organization_pk, organization__kind=Organization.Kind.CARRIER)
        .exclude(logo="")
        .first()
    )
    if profile is None:
        raise Http404("No such logo.")
    if getattr(user, "is_moderator", False) or profile.organization.is_verified:
        return profile
    membership = core_selectors.membership_for_user(user)
    if membership is None or membership.organization_id != profile.organization_id:
        raise Http404("No such logo.")
    return profile


# --- Reads -------------------------------------------------------------------------------------------


def carrier_profile_for(*, organization: Organization) -> CarrierProfile | None:
    """Return the carrier's profile with its categories, or None before registration."""
    return CarrierProfile.objects.filter(organization=organization).prefetch_related("categories").first()


def criteria_sets_for(*, organization: Organization) -> QuerySet[CriteriaSet]:
    """Return the carrier's criteria sets with everything their description needs."""
    return CriteriaSet.objects.filter(organization=organization).prefetch_related(
        Prefetch("service_types", queryset=ServiceType.objects.select_related("category")),
        "regions",
        "industries",
    )


def coverage_for(*, organization: Organization) -> QuerySet[CoverageArea]:
    """Return where the carrier delivers, by service type."""
    return CoverageArea.objects.filter(organization=organization).select_related("service_type__category")


def coverage_areas_for_service_types(*, organization: Organization, service_type_ids: list[int]) -> list[CoverageArea]:
    """Return the carrier's coverage for some service types, de-duplicated: a new criteria set's default regions."""
    seen: dict[tuple[str, str, str], CoverageArea] = {}
    for area in CoverageArea.objects.filter(organization=organization, service_type_id__in=service_type_ids):
        seen.setdefault((area.country, area.region, area.postcode_prefix), area)
    return [seen[k] for k in sorted(seen)]


def _offers() -> QuerySet[StandingOffer]:
    return StandingOffer.objects.select_related("service_type__category", "current_version").prefetch_related(
        Prefetch("current_version__regions"), Prefetch("current_version__rates")
    )


def offers_for(*, organization: Organization, status: str = "active") -> QuerySet[StandingOffer]:
    """Return the carrier's standing offers with their current versions, newest first."""
    queryset = _offers().filter(organization=organization)
    if status in StandingOffer.Status.values:
        queryset = queryset.filter(status=status)
    return queryset


def offers_expiring(*, organization: Organization, days: int = EXPIRY_WARNING_DAYS) -> QuerySet[StandingOffer]:
    """Return active offers whose current version stops being valid within days."""
    today = timezone.localdate()
    return (
        offers_for(organization=organization)
        .filter(
            current_version__valid_until__isnull=False,
            current_version__valid_until__gte=today,
            current_version__valid_until__lte=today + timedelta(days=days),
        )
        .order_by("current_version__valid_until", "id")
    )


def offer_versions(*, offer: StandingOffer) -> QuerySet[OfferVersion]:
    """Return every version of an offer, newest first, with rates and regions."""
    return offer.versions.select_related("created_by").prefetch_related("rates", "regions").order_by("-number")


# --- Plain words -------------------------------------------------------------------------------------


def _money(amount: Decimal) -> str:
    return f"{amount:,.0f}" if amount == amount.to_integral() else f"{amount:,.2f}"


def _range(lo: Any, hi: Any, unit: str, fmt: Any = str) -> str | None:
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None:
        return f"{fmt(lo)} to {fmt(hi)} {unit}" if lo != hi else f"exactly {fmt(lo)} {unit}"
    if lo is not None:
        return f"at least {fmt(lo)} {unit}"
    return f"at most {fmt(hi)} {unit}"


def criteria_set_describe(criteria: CriteriaSet) -> str:
    """Say in plain words which requests a criteria set matches (uses prefetched relations)."""
    if criteria.is_paused:
        return "Paused: this set matches no requests until you resume it."
    types = [st.name for st in criteria.service_types.all()]
    sentence = "Matches requests for " + (_join(types, "or") if types else "no service type") + " "
    regions = list(criteria.regions.all())
    sentence += f"with a site in {describe_areas(regions)}" if regions else "from anywhere"
    conditions = []
    value = _range(criteria.value_min, criteria.value_max, criteria.currency, _money)
    if value:
        conditions.append(f"an estimated contract value of {value}")
    sites = _range(criteria.sites_min, criteria.sites_max, "sites")
    if sites:
        conditions.append(sites)
    term = _range(criteria.term_min_months, criteria.term_max_months, "months")
    if term:
        conditions.append(f"a contract term of {term}")
    if conditions:
        sentence += ", with " + _join(conditions, "and")
    industries = [INDUSTRY_LABELS.get(i.industry, i.industry) for i in criteria.industries.all()]
    sentence += ", from buyers in " + (_join(industries, "or") if industries else "any industry")
    who = []
    if not criteria.takes_group_requests:
        who.append("buying groups")
    if not criteria.takes_reseller_buyers:
        who.append("resellers")
    if who:
        sentence += ", but not from " + _join(who, "or")
    else:
        sentence += ", including buying groups and resellers"
    return sentence + "."


def _join(items: list[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def coverage_at(*, country: str, region: str = "", postcode: str = "") -> QuerySet[CoverageArea]:
    """Return the verified carriers' coverage rows that include an address: the service availability check."""
    code = "".join(postcode.split()).upper()
    prefixes = [code[:n] for n in range(1, len(code) + 1)]
    return (
        CoverageArea.objects.filter(
            Q(region="") | Q(region__iexact=region.strip()),
            Q(postcode_prefix="") | Q(postcode_prefix__in=prefixes),
            country=country.strip().upper(),
            organization__kind=Organization.Kind.CARRIER,
            organization__verification_status=Organization.Verification.VERIFIED,
        )
        .select_related("organization", "service_type__category")
        .order_by("service_type__category__position", "service_type__position", "organization__name")
    )


@dataclass(frozen=True)
class Availability:
    """One service type available at an address, and how many verified carriers cover it there."""

    category_code: str
    category_name: str
    code: str
    name: str
    carriers: int


def availability_at(
    *, country: str, region: str = "", postcode: str = "", service_type: ServiceType | None = None
) -> list[Availability]:
    """Count the verified carriers covering an address per active service type, in catalogue order: one query."""
    rows = coverage_at(country=country, region=region, postcode=postcode).filter(service_type__is_active=True)
    if service_type is not None:
        rows = rows.filter(service_type=service_type)
    # Carriers stay unnamed: the check is public, and no public page says which carrier delivers where.
    grouped = (
        rows.order_by()
        .values(
            "service_type__category__code",
            "service_type__category__name",
            "service_type__code",
            "service_type__name",
            "service_type__category__position",
            "service_type__position",
        )
        .annotate(carriers=Count("organization", distinct=True))
        .order_by("service_type__category__position", "service_type__position", "service_type__name")
    )
    return [
        Availability(
            category_code=r["service_type__category__code"],
            category_name=r["service_type__category__name"],
            code=r["service_type__code"],
            name=r["service_type__name"],
            carriers=r["carriers"],
        )
        for r in grouped
    ]


def coverage_region_names() -> list[str]:
    """Return the region names verified carriers use in their coverage, to suggest them to the availability check."""
    return list(
        CoverageArea.objects.filter(
            organization__kind=Organization.Kind.CARRIER,
            organization__verification_status=Organization.Verification.VERIFIED,
        )
        .exclude(region="")
        .order_by("region")
        .values_list("region", flat=True)
        .distinct()
    )
