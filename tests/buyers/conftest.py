"""Helpers for the buyers tests: files, groups and CSV uploads."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from buyers.models import BuyerProfile, BuyingGroup, Site
from buyers.services import group_create
from marketplace.models import Organization, User

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Join-code rate limits live in the cache; every test starts with a clean slate.
    cache.clear()


def pdf_upload(name: str = "certificate.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def csv_upload(text: str, name: str = "sites.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def make_site(org: Organization, name: str = "Depot", **fields: Any) -> Site:
    defaults = {"street": "1 Road", "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"}
    return Site.objects.create(organization=org, name=name, **{**defaults, **fields})


def complete_profile(org: Organization, **fields: Any) -> BuyerProfile:
    from django.utils import timezone

    defaults = dict(
        industry="retail",
        employee_band="10-49",
        revenue_band="1m-10m",
        site_count=2,
        telecom_spend_band="<10k",
        registration_number="01234567",
        registration_completed_at=timezone.now(),
    )
    profile, _ = BuyerProfile.objects.update_or_create(organization=org, defaults={**defaults, **fields})
    return profile


def make_group(owner: User, name: str = "Main Street Merchants") -> tuple[BuyingGroup, str]:
    org = owner.membership.organization
    return group_create(
        actor=owner,
        organization=org,
        name=name,
        description="",
        region="North West",
        contact_name="Lead Person",
        contact_email="lead@example.test",
        contact_phone="",
    )
