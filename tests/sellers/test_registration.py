"""The carrier registration wizard, the moderator's evidence, and facts that send a carrier back to review."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from marketplace.models import OrganizationDocument, ServiceCategory
from sellers.forms import KeptFileInput, keep_uploads
from sellers.models import CarrierProfile
from sellers.wizard import WizardUploadStorage
from tests.sellers import helpers

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PREFIX = "registration_wizard"


def _step(client: Client, step: str, data: dict[str, Any]) -> Any:
    payload = {f"{PREFIX}-current_step": step, **{f"{step}-{k}": v for k, v in data.items()}}
    return client.post(reverse("sellers:register"), payload)


def _run_wizard(
    client: Client,
    *,
    regulator_reference: str = "OFCOM-1",
    submit: bool = True,
    logo: Any = None,
    stop_at_logo: bool = False,
) -> Any:
    _step(
        client, "company", {"name": "Northwind Test Telecom Ltd", "trading_name": "Northwind", "company_number": "0812"}
    )
    _step(
        client,
        "contact",
        {
            "street": "1 Fibre Way",
            "city": "London",
            "region": "Greater London",
            "postcode": "EC1A 1BB",
            "country": "gb",
            "phone": "+44 20 7946 0200",
            "contact_email": "sales@northwind.test",
        },
    )
    _step(client, "regulatory", {"regulator": "ofcom", "regulator_reference": regulator_reference})
    voice = ServiceCategory.objects.get(code="voice")
    _step(client, "services", {"categories": [voice.pk]})
    response = _step(client, "logo", {"logo": logo} if logo else {})
    if stop_at_logo:
        return response
    _step(client, "documents", {"document": SimpleUploadedFile("cert.pdf", PDF), "kind": "registration"})
    return _step(client, "review", {"submit_for_review": "on"} if submit else {})


def test_admin_registers_and_submits_for_review(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    org = cast.carrier_org
    org.verification_status = "unverified"
    org.save(update_fields=["verification_status"])
    client = as_role("seller_admin")
    response = _run_wizard(client, logo=SimpleUploadedFile("logo.svg", helpers.SVG_OK))
    assert response.status_code == 302, getattr(response, "context", None) and response.context["form"].errors
    org.refresh_from_db()
    assert org.verification_status == "pending" and org.name == "Northwind Test Telecom Ltd"
    assert org.trading_name == "Northwind" and org.country == "GB"
    profile = CarrierProfile.objects.get(organization=org)
    assert profile.is_complete and profile.regulator == "ofcom" and profile.company_number == "0812"
    assert [c.code for c in profile.categories.all()] == ["voice"]
    assert profile.logo_type == "svg" and profile.logo.read().startswith(b"<?xml")
    assert OrganizationDocument.objects.filter(organization=org, kind="registration").count() == 1

    review = Client()
    review.force_login(cast.moderator)
    page = review.get(reverse("console:organization_review", args=[org.pk]))
    assert b"OFCOM-1" in page.content and b"Carrier registration" in page.content
    assert reverse("sellers:logo", args=[org.pk]).encode() in page.content


def test_a_bad_logo_stops_the_wizard_at_its_step(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    client = as_role("seller_admin")
    _run_wizard(client)  # first run completes
    before = CarrierProfile.objects.get(organization=cast.carrier_org).logo.name
    evil = SimpleUploadedFile("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>')
    response = _run_wizard(client, logo=evil, stop_at_logo=True)
    assert response.status_code == 200 and b"&lt;script&gt; elements are not allowed" in response.content
    assert CarrierProfile.objects.get(organization=cast.carrier_org).logo.name == before


def test_regulator_and_reference_go_together(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    client = as_role("seller_admin")
    _step(client, "company", {"name": "Northwind Ltd", "trading_name": "Northwind"})
    response = _step(client, "regulatory", {"regulator": "", "regulator_reference": "FRN 123"})
    assert response.status_code == 200
    assert "Say which regulator" in response.context["form"].errors["regulator"][0]


def test_changing_a_verified_fact_sends_the_carrier_back_for_review(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    client = as_role("seller_admin")
    _run_wizard(client, submit=False)
    org = cast.carrier_org
    org.refresh_from_db()
    assert org.verification_status == "pending"  # the legal name and address changed
    org.verification_status = "verified"
    org.save(update_fields=["verification_status"])
    _run_wizard(client, submit=False)  # the same facts again: nothing to review
    org.refresh_from_db()
    assert org.verification_status == "verified"
    _run_wizard(client, regulator_reference="OFCOM-2", submit=False)
    org.refresh_from_db()
    assert org.verification_status == "pending"


def test_sales_cannot_change_the_registration(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    response = _step(as_role("seller_sales"), "company", {"name": "Hijack Ltd", "trading_name": "Hijack"})
    assert response.status_code == 403
    cast.carrier_org.refresh_from_db()
    assert cast.carrier_org.name != "Hijack Ltd"


def test_dashboard_points_to_registration_until_complete(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    client = as_role("seller_admin")
    assert b"Complete registration" in client.get(reverse("sellers:dashboard")).content
    _run_wizard(client, submit=False)
    assert b"Complete registration" not in client.get(reverse("sellers:dashboard")).content


# --- Uploads kept between steps ------------------------------------------------------------------------


def _back(client: Client, current: str, to: str) -> Any:
    return client.post(reverse("sellers:register"), {f"{PREFIX}-current_step": current, "wizard_goto_step": to})


def _held(client: Client, step: str) -> dict[str, Any]:
    return client.session[f"wizard_{PREFIX}"]["step_files"].get(step, {})


def test_going_back_to_an_upload_step_names_the_kept_file_and_keeps_it(cast, as_role, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    client = as_role("seller_admin")
    _run_wizard(client, logo=SimpleUploadedFile("logo.svg", helpers.SVG_OK), stop_at_logo=True)
    _step(client, "documents", {"document": SimpleUploadedFile("cert.pdf", PDF), "kind": "registration"})

    page = _back(client, "review", "documents")
    assert page.context["wizard"]["steps"].current == "documents"
    assert b"Already uploaded: <strong>cert.pdf</strong> (choose a new file to replace it)" in page.content
    assert b'aria-describedby="id_documents-document_helptext id_documents-document_kept"' in page.content
    logo_page = _back(client, "documents", "logo")
    assert b"Already uploaded: <strong>logo.svg</strong>" in logo_page.content

    # The browser sends the steps again with empty file inputs; the uploads stay.
    _step(client, "logo", {})
    review = _step(client, "documents", {"kind": "registration"})
    assert review.context["summary"]["document"].name == "cert.pdf"
    response = _step(client, "review", {"submit_for_review": "on"})
    assert response.status_code == 302
    document = OrganizationDocument.objects.get(organization=cast.carrier_org)
    assert document.file.read() == PDF
    assert CarrierProfile.objects.get(organization=cast.carrier_org).logo_type == "svg"
    assert not any((tmp_path / "private" / "wizard").iterdir())  # finishing clears the waiting uploads


def test_a_new_upload_replaces_the_kept_one_and_its_file(cast, as_role, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    client = as_role("seller_admin")
    _run_wizard(client, stop_at_logo=True)
    _step(client, "documents", {"document": SimpleUploadedFile("cert.pdf", PDF), "kind": "registration"})
    first = _held(client, "documents")["documents-document"]["tmp_name"]
    _back(client, "review", "documents")

    newer = PDF + b"% second edition\n"
    review = _step(client, "documents", {"document": SimpleUploadedFile("cert-2024.pdf", newer), "kind": "licence"})
    assert review.context["summary"]["document"].name == "cert-2024.pdf"
    assert not (tmp_path / "private" / "wizard" / first).exists()
    _step(client, "review", {})
    document = OrganizationDocument.objects.get(organization=cast.carrier_org)
    assert document.file.read() == newer


def test_an_upload_purged_before_the_end_sends_the_carrier_back_to_choose_it(cast, as_role, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    client = as_role("seller_admin")
    _run_wizard(client, stop_at_logo=True)
    _step(client, "documents", {"document": SimpleUploadedFile("cert.pdf", PDF), "kind": "registration"})
    WizardUploadStorage().delete(_held(client, "documents")["documents-document"]["tmp_name"])

    response = _step(client, "review", {"submit_for_review": "on"})
    assert response.status_code == 200 and response.context["wizard"]["steps"].current == "documents"
    assert "“cert.pdf” is no longer held" in response.content.decode()
    assert b"Already uploaded" not in response.content
    assert not OrganizationDocument.objects.filter(organization=cast.carrier_org).exists()

    _step(client, "documents", {"document": SimpleUploadedFile("cert.pdf", PDF), "kind": "registration"})
    assert _step(client, "review", {}).status_code == 302
    assert OrganizationDocument.objects.filter(organization=cast.carrier_org).count() == 1


def test_a_kept_upload_makes_a_required_file_field_optional() -> None:
    class Required(forms.Form):
        document = forms.FileField(widget=KeptFileInput)

    form = Required(data={}, files={}, prefix="documents")
    keep_uploads(form, {"documents-document": "cert.pdf"})
    assert form.is_valid()
    assert "Already uploaded: <strong>cert.pdf</strong>" in str(form["document"])
    assert not Required(data={}, files={}, prefix="documents").is_valid()
