"""Writes of the carriers app: registration, criteria, coverage and versioned standing offers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from marketplace import services as core_services
from marketplace.audit import audit_record
from marketplace.models import Organization, ServiceCategory, ServiceType, User
from marketplace.services import DomainError
from sellers.logos import Logo
from sellers.models import (
    CarrierProfile,
    CoverageArea,
    CriteriaIndustry,
    CriteriaRegion,
    CriteriaSet,
    OfferRate,
    OfferRegion,
    OfferVersion,
    StandingOffer,
)
from sellers.regions import Area
from sellers.wizard import WIZARD_UPLOAD_MAX_AGE, WizardUploadStorage

# Facts the moderator checks: changing them on a verified carrier sends it back for review.
VERIFIED_PROFILE_FIELDS = ("company_number", "vat_number", "regulator", "regulator_reference")
PROFILE_FIELDS = (*VERIFIED_PROFILE_FIELDS, "website", "description")
CRITERIA_FIELDS = (
    "name",
    "value_min",
    "value_max",
    "currency",
    "sites_min",
    "sites_max",
    "term_min_months",
    "term_max_months",
    "takes_group_requests",
    "takes_reseller_buyers",
)
VERSION_FIELDS = (
    "title",
    "capacity_min",
    "capacity_max",
    "capacity_unit",
    "term_months",
    "monthly_charge",
    "one_time_charge",
    "currency",
    "valid_from",
    "valid_until",
    "notes",
)


def _require_carrier(organization: Organization) -> None:
    if organization.kind != Organization.Kind.CARRIER:
        raise DomainError("Only carriers keep criteria, coverage and offers.")


# --- Registration ------------------------------------------------------------------------------------


def carrier_profile_ensure(*, organization: Organization) -> CarrierProfile:
    """Return the carrier's profile, creating an empty one the first time."""
    _require_carrier(organization)
    profile, _ = CarrierProfile.objects.get_or_create(organization=organization)
    return profile


@transaction.atomic
def carrier_registration_save(
    *,
    actor: User,
    organization: Organization,
    org_fields: dict[str, Any],
    profile_fields: dict[str, Any],
    categories: Iterable[ServiceCategory],
    logo: Logo | None = None,
    document: UploadedFile | None = None,
    document_kind: str = "other",
    submit: bool = False,
) -> CarrierProfile:
    """Save what the registration wizard collected; submit for review when asked and possible."""
    _require_carrier(organization)
    org = core_services.organization_update(actor=actor, organization=organization, **org_fields)
    carrier_profile_ensure(organization=org)
    profile = CarrierProfile.objects.select_for_update().get(organization=org)
    changed = [f for f in PROFILE_FIELDS if f in profile_fields and getattr(profile, f) != profile_fields[f]]
    before = {f: getattr(profile, f) for f in changed}
    for name in changed:
        setattr(profile, name, profile_fields[name])
    first_time = profile.completed_at is None
    if first_time:
        profile.completed_at = timezone.now()
    profile.updated_at = timezone.now()
    profile.save()
    profile.categories.set(list(categories))
    audit_record(
        actor=actor,
        action="carrier.registration_save",
        obj=profile,
        organization=org,
        before=before,
        after={**{f: getattr(profile, f) for f in changed}, "categories": [c.code for c in profile.categories.all()]},
    )
    verified_changes = [f for f in changed if f in VERIFIED_PROFILE_FIELDS]
    if verified_changes and not first_time:
        core_services.organization_send_back_for_review(
            actor=actor, organization=org, reason=f"Verified details changed: {', '.join(verified_changes)}."
        )
    if logo is not None:
        carrier_logo_set(actor=actor, organization=org, logo=logo)
    if document is not None:
        core_services.document_add(actor=actor, organization=org, file=document, kind=document_kind)
    org.refresh_from_db()
    if submit and org.verification_status in (Organization.Verification.UNVERIFIED, Organization.Verification.REJECTED):
        core_services.organization_submit_for_review(actor=actor, organization=org)
    return profile


@transaction.atomic
def carrier_logo_set(*, actor: User, organization: Organization, logo: Logo) -> CarrierProfile:
    """Store a checked logo (sanitised SVG or PNG) in place of the old one."""
    carrier_profile_ensure(organization=organization)
    profile = CarrierProfile.objects.select_for_update().get(organization=organization)
    old = profile.logo.name if profile.logo else ""
    profile.logo.save(f"logo.{logo.kind}", ContentFile(logo.content), save=False)
    profile.logo_type = logo.kind
    profile.updated_at = timezone.now()
    profile.save(update_fields=["logo", "logo_type", "updated_at"])
    if old:
        storage = profile.logo.storage
        transaction.on_commit(lambda: storage.delete(old))
    audit_record(
        actor=actor, action="carrier.logo_set", obj=profile, organization=organization, after={"type": logo.kind}
    )
    return profile


def wizard_uploads_purge(*, older_than: timedelta = WIZARD_UPLOAD_MAX_AGE) -> int:
    """Delete registration-wizard uploads waiting longer than older_than; return how many were deleted."""
    cutoff = timezone.now() - older_than
    return _purge_older_than(WizardUploadStorage(), "", cutoff)


def _purge_older_than(storage: Storage, directory: str, cutoff: datetime) -> int:
    try:
        subdirectories, names = storage.listdir(directory)
    except FileNotFoundError:  # nobody has uploaded anything yet
        return 0
    deleted = 0
    for name in names:
        path = f"{directory}/{name}" if directory else name
        try:
            stale = storage.get_modified_time(path) < cutoff
        except FileNotFoundError:  # finished or replaced while we looked
            continue
        if stale:
            storage.delete(path)
            deleted += 1
    for subdirectory in subdirectories:
        deleted += _purge_older_than(storage, f"{directory}/{subdirectory}" if directory else subdirectory, cutoff)
    return deleted


# --- Criteria ----------------------------------------------------------------------------------------


def _criteria_children(criteria: CriteriaSet, data: dict[str, Any]) -> None:
    criteria.service_types.set(data["service_types"])
    criteria.regions.all().delete()
    CriteriaRegion.objects.bulk_create(
        CriteriaRegion(criteria=criteria, country=a.country, region=a.region, postcode_prefix=a.postcode_prefix)
        for a in data.get("areas", [])
    )
    criteria.industries.all().delete()
    CriteriaIndustry.objects.bulk_create(
        CriteriaIndustry(criteria=criteria, industry=i) for i in data.get("industries", [])
    )


def _criteria_name_free(organization: Organization, name: str, exclude: int | None = None) -> None:
    clash = CriteriaSet.objects.filter(organization=organization, name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise DomainError(f"You already have a criteria set called “{name}”.")


@transaction.atomic
def criteria_set_create(*, actor: User, organization: Organization, data: dict[str, Any]) -> CriteriaSet:
    """Create a named criteria set with its service types, regions and industries."""
    _require_carrier(organization)
    _criteria_name_free(organization, data["name"])
    criteria = CriteriaSet.objects.create(organization=organization, **{f: data[f] for f in CRITERIA_FIELDS})
    _criteria_children(criteria, data)
    audit_record(
        actor=actor, action="criteria.create", obj=criteria, organization=organization, after=_snapshot(criteria)
    )
    return criteria


@transaction.atomic
def criteria_set_update(*, actor: User, criteria_set: CriteriaSet, data: dict[str, Any]) -> CriteriaSet:
    """Replace a criteria set's conditions."""
    criteria = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    _criteria_name_free(criteria.organization, data["name"], exclude=criteria.pk)
    before = _snapshot(criteria)
    for name in CRITERIA_FIELDS:
        setattr(criteria, name, data[name])
    criteria.updated_at = timezone.now()
    criteria.save()
    _criteria_children(criteria, data)
    audit_record(
        actor=actor,
        action="criteria.update",
        obj=criteria,
        organization=criteria.organization,
        before=before,
        after=_snapshot(criteria),
    )
    return criteria


def _snapshot(criteria: CriteriaSet) -> dict[str, Any]:
    data = {f: getattr(criteria, f) for f in CRITERIA_FIELDS}
    data["service_types"] = [st.code for st in criteria.service_types.all()]
    data["regions"] = [str(r) for r in criteria.regions.all()]
    data["industries"] = [i.industry for i in criteria.industries.all()]
    return data


@transaction.atomic
def criteria_set_pause(*, actor: User, criteria_set: CriteriaSet, paused: bool) -> CriteriaSet:
    """Pause or resume a criteria set."""
    criteria = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    if criteria.is_paused == paused:
        raise DomainError("This criteria set is already paused." if paused else "This criteria set is already active.")
    criteria.is_paused = paused
    criteria.updated_at = timezone.now()
    criteria.save(update_fields=["is_paused", "updated_at"])
    audit_record(
        actor=actor,
        action="criteria.pause" if paused else "criteria.resume",
        obj=criteria,
        organization=criteria.organization,
        before={"is_paused": not paused},
        after={"is_paused": paused},
    )
    return criteria


@transaction.atomic
def criteria_set_delete(*, actor: User, criteria_set: CriteriaSet) -> None:
    """Delete a criteria set; requests already received are not affected."""
    criteria = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    audit_record(
        actor=actor,
        action="criteria.delete",
        obj=criteria,
        organization=criteria.organization,
        before=_snapshot(criteria),
    )
    criteria.delete()


# --- Coverage ----------------------------------------------------------------------------------------


@transaction.atomic
def coverage_add(
    *, actor: User, organization: Organization, service_type: ServiceType, areas: list[Area]
) -> list[CoverageArea]:
    """Add areas where the carrier delivers a service type; areas already listed are kept once."""
    _require_carrier(organization)
    existing = set(
        CoverageArea.objects.filter(organization=organization, service_type=service_type).values_list(
            "country", "region", "postcode_prefix"
        )
    )
    new = [a for a in areas if (a.country, a.region, a.postcode_prefix) not in existing]
    if not new:
        raise DomainError("Every one of these areas is already listed for this service type.")
    created = CoverageArea.objects.bulk_create(
        CoverageArea(
            organization=organization,
            service_type=service_type,
            country=a.country,
            region=a.region,
            postcode_prefix=a.postcode_prefix,
        )
        for a in new
    )
    audit_record(
        actor=actor,
        action="coverage.add",
        organization=organization,
        after={"service_type": service_type.code, "areas": [a.label() for a in new]},
    )
    return created


@transaction.atomic
def coverage_remove(*, actor: User, area: CoverageArea) -> None:
    """Remove one coverage area."""
    audit_record(
        actor=actor,
        action="coverage.remove",
        organization=area.organization,
        before={"service_type": area.service_type.code, "area": str(area)},
    )
    CoverageArea.objects.filter(pk=area.pk).delete()


# --- Standing offers ---------------------------------------------------------------------------------


def offer_frozen_until(offer: StandingOffer) -> datetime | None:
    """Return when a frozen offer may change again, or None when it may change now.

    Seed 002 (claims 5 and 6): while a buyer's quote session is open, the offers it matched are frozen,
    so their carrier can neither change nor retire them. Quote sessions arrive with issue 2.5, which
    makes this return the end of the latest open session that matched the offer; every edit and
    retirement below already asks it first.
    """
    return None


def offer_change_refusal(offer: StandingOffer) -> str | None:
    """Say why the offer cannot be changed or retired now, or None when it can."""
    if offer.status != StandingOffer.Status.ACTIVE:
        return "A retired offer cannot be changed."
    until = offer_frozen_until(offer)
    if until is not None:
        return f"A buyer is considering this offer in an open quote session; you can change it after {until:%H:%M} UTC."
    return None


def _write_version(*, actor: User, offer: StandingOffer, terms: dict[str, Any], number: int) -> OfferVersion:
    version = OfferVersion.objects.create(
        offer=offer, number=number, created_by=actor, **{f: terms[f] for f in VERSION_FIELDS}
    )
    OfferRate.objects.bulk_create(OfferRate(version=version, rate=r, unit=u) for r, u in terms.get("usage_rates", []))
    OfferRegion.objects.bulk_create(
        OfferRegion(version=version, country=a.country, region=a.region, postcode_prefix=a.postcode_prefix)
        for a in terms["areas"]
    )
    offer.current_version = version
    offer.save(update_fields=["current_version"])
    return version


def _terms_of(version: OfferVersion) -> dict[str, Any]:
    terms = {f: getattr(version, f) for f in VERSION_FIELDS}
    terms["usage_rates"] = sorted((r.rate, r.unit) for r in version.rates.all())
    terms["areas"] = sorted(Area(r.country, r.region, r.postcode_prefix) for r in version.regions.all())
    return terms


def _comparable(terms: dict[str, Any]) -> dict[str, Any]:
    out = {f: terms[f] for f in VERSION_FIELDS}
    for key in ("capacity_min", "capacity_max", "monthly_charge", "one_time_charge"):
        out[key] = Decimal(out[key]).normalize()
    out["usage_rates"] = sorted((Decimal(r).normalize(), u) for r, u in terms.get("usage_rates", []))
    out["areas"] = sorted(terms["areas"])
    return out


@transaction.atomic
def standing_offer_create(
    *, actor: User, organization: Organization, service_type: ServiceType, terms: dict[str, Any]
) -> StandingOffer:
    """Create a standing offer with its first version."""
    _require_carrier(organization)
    offer = StandingOffer.objects.create(organization=organization, service_type=service_type)
    version = _write_version(actor=actor, offer=offer, terms=terms, number=1)
    audit_record(
        actor=actor,
        action="offer.create",
        obj=offer,
        organization=organization,
        after={"service_type": service_type.code, "version": 1, "title": version.title},
    )
    return offer


@transaction.atomic
def standing_offer_revise(*, actor: User, offer: StandingOffer, terms: dict[str, Any]) -> OfferVersion:
    """Record new terms as the next version; earlier versions stay as they were."""
    locked = StandingOffer.objects.select_for_update().get(pk=offer.pk)
    refusal = offer_change_refusal(locked)
    if refusal:
        raise DomainError(refusal)
    current = OfferVersion.objects.prefetch_related("rates", "regions").get(
        offer=locked, pk=locked.current_version_id or 0
    )
    if _comparable(_terms_of(current)) == _comparable(terms):
        raise DomainError("Nothing changed: the terms are the same as the current version.")
    number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = _write_version(actor=actor, offer=locked, terms=terms, number=number)
    changed = [f for f in VERSION_FIELDS if getattr(current, f) != terms[f]]
    audit_record(
        actor=actor,
        action="offer.revise",
        obj=locked,
        organization=locked.organization,
        before={"version": current.number, **{f: getattr(current, f) for f in changed}},
        after={"version": number, **{f: terms[f] for f in changed}},
    )
    return version


@transaction.atomic
def standing_offer_retire(*, actor: User, offer: StandingOffer) -> StandingOffer:
    """Withdraw an offer; its versions stay for the quotes and contracts that used them."""
    locked = StandingOffer.objects.select_for_update().get(pk=offer.pk)
    if locked.status == StandingOffer.Status.RETIRED:
        raise DomainError("This offer is already retired.")
    refusal = offer_change_refusal(locked)
    if refusal:
        raise DomainError(refusal)
    locked.status = StandingOffer.Status.RETIRED
    locked.retired_at = timezone.now()
    locked.save(update_fields=["status", "retired_at"])
    audit_record(
        actor=actor,
        action="offer.retire",
        obj=locked,
        organization=locked.organization,
        before={"status": StandingOffer.Status.ACTIVE},
        after={"status": locked.status},
    )
    return locked


def standing_offers_import(
    *, actor: User, organization: Organization, rows: list[dict[str, Any]]
) -> list[StandingOffer]:
    """Create one offer per checked CSV row, all or none."""
    _require_carrier(organization)
    if not rows:
        raise DomainError("The file has no offers.")
    try:
        with transaction.atomic():
            offers = [
                standing_offer_create(
                    actor=actor, organization=organization, service_type=row["service_type"], terms=row
                )
                for row in rows
            ]
            audit_record(actor=actor, action="offer.import", organization=organization, after={"count": len(offers)})
    except IntegrityError as exc:  # a row the form let through but the database refused
        raise DomainError("The import was refused by the database; nothing was saved.") from exc
    return offers
