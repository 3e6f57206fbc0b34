"""Bulk import of standing offers from CSV: all or nothing, every bad row named with its line."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sellers.models import OfferVersion, StandingOffer
from tests.sellers import helpers

pytestmark = pytest.mark.django_db


def _csv(rows: list[dict[str, str]]) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(helpers.offer_post_data()))
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("offers.csv", buffer.getvalue().encode(), content_type="text/csv")


def test_the_template_imports_as_it_is(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    client = as_role("seller_sales")
    template = client.get(reverse("sellers:offer_import_template"))
    assert template["Content-Type"].startswith("text/csv")
    upload = SimpleUploadedFile("template.csv", template.content, content_type="text/csv")
    response = client.post(reverse("sellers:offer_import"), {"file": upload})
    assert response.status_code == 302
    offers = StandingOffer.objects.filter(organization=cast.carrier_org)
    assert offers.count() == 2
    sip = offers.get(service_type__code="voice-sip-trunking").current_version
    assert [(str(r.rate.normalize()), r.unit) for r in sip.rates.all()] == [("0.009", "minute")]
    line = offers.get(service_type__code="internet-dedicated").current_version
    assert sorted(str(r) for r in line.regions.all())[:2] == ["GB · Greater London · E", "GB · Greater London · EC"]


def test_bad_rows_are_listed_with_their_lines_and_nothing_is_saved(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    rows = [
        helpers.offer_post_data(title="Good one"),
        helpers.offer_post_data(capacity_min="900", capacity_max="10"),
        helpers.offer_post_data(monthly_charge="-3"),
        helpers.offer_post_data(valid_from="2026-06-01", valid_until="2026-01-01"),
        helpers.offer_post_data(service_type="carrier-pigeon"),
    ]
    response = as_role("seller_sales").post(reverse("sellers:offer_import"), {"file": _csv(rows)})
    assert response.status_code == 400
    errors = {(e.line, e.field) for e in response.context["errors"]}
    assert {
        (3, "capacity_min"),
        (3, "capacity_max"),
        (4, "monthly_charge"),
        (5, "valid_until"),
        (6, "service_type"),
    } <= errors
    assert b"Nothing was imported" in response.content
    assert not StandingOffer.objects.exists() and not OfferVersion.objects.exists()


def test_wrong_columns_and_non_csv_files_are_explained(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    client = as_role("seller_sales")
    wrong = SimpleUploadedFile("x.csv", b"name,price\nfoo,1\n", content_type="text/csv")
    response = client.post(reverse("sellers:offer_import"), {"file": wrong})
    assert response.status_code == 400 and b"Missing column" in response.content
    binary = SimpleUploadedFile("x.csv", b"\x89PNG\r\n\x1a\n\x00\x00", content_type="text/csv")
    assert client.post(reverse("sellers:offer_import"), {"file": binary}).status_code == 400
    assert not StandingOffer.objects.exists()
