"""Buyer registration step by step, documents, profile edits and verification round trips."""

from __future__ import annotations

import pytest
from django.urls import reverse

from buyers.models import BuyerProfile
from marketplace.models import AuditEvent, Organization, OrganizationDocument
from tests.buyers.conftest import PNG, complete_profile, pdf_upload
from tests.conftest import client_for
from tests.factories import OrganizationFactory, member_of

pytestmark = pytest.mark.django_db

STEP_DATA = {
    "names": {"name": "Fresh Buyer Ltd", "trading_name": "Fresh"},
    "contact": {
        "street": "4 Market Square",
        "city": "Nottingham",
        "region": "Nottinghamshire",
        "postcode": "ng1 2dp",
        "country": "gb",
        "phone": "+44 115 496 0000",
        "contact_email": "billing@fresh.test",
    },
    "business": {
        "industry": "retail",
        "employee_band": "10-49",
        "revenue_band": "1m-10m",
        "site_count": "4",
        "telecom_spend_band": "10k-50k",
    },
    "identity": {"registration_number": " 0123 4567 ", "tax_number": "", "site_precision": "city"},
}


@pytest.fixture
def fresh():  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Fresh Co", kind="buyer", verification_status="unverified", verified_at=None)
    owner = member_of(org, "owner", email="owner@fresh.test")
    member = member_of(org, "member", email="member@fresh.test")
    return org, owner, member


def test_owner_registers_step_by_step_and_submits_for_review(fresh) -> None:  # type: ignore[no-untyped-def]
    org, owner, _ = fresh
    client = client_for(owner)
    assert client.get(reverse("buyers:register")).url == reverse("buyers:register_step", args=["names"])
    for step, nxt in (
        ("names", "contact"),
        ("contact", "business"),
        ("business", "identity"),
        ("identity", "documents"),
    ):
        response = client.post(reverse("buyers:register_step", args=[step]), STEP_DATA[step])
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response.url == reverse("buyers:register_step", args=[nxt])
    response = client.post(
        reverse("buyers:register_step", args=["documents"]), {"kind": "registration", "file": pdf_upload()}
    )
    assert response.status_code == 302
    assert client.get(reverse("buyers:register_step", args=["review"])).status_code == 200

    response = client.post(reverse("buyers:register_submit"))
    assert response.url == reverse("buyers:dashboard")
    org.refresh_from_db()
    profile = BuyerProfile.objects.get(organization=org)
    assert org.name == "Fresh Buyer Ltd" and org.trading_name == "Fresh"
    assert org.postcode == "NG1 2DP" and org.country == "GB" and org.contact_email == "billing@fresh.test"
    assert profile.industry == "retail" and profile.site_count == 4 and profile.registration_number == "0123 4567"
    assert profile.site_precision == "city" and profile.is_complete
    assert org.verification_status == Organization.Verification.PENDING
    assert org.documents.count() == 1
    actions = set(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))
    assert {"buyer_profile.update", "buyer_profile.complete", "organization.submit_for_review"} <= actions


def test_identity_step_needs_a_registration_or_tax_number(fresh) -> None:  # type: ignore[no-untyped-def]
    org, owner, _ = fresh
    response = client_for(owner).post(
        reverse("buyers:register_step", args=["identity"]), {"registration_number": "", "site_precision": "city"}
    )
    assert response.status_code == 400
    assert "registration number, a tax number" in response.content.decode()
    assert not BuyerProfile.objects.filter(organization=org).exists()


def test_bad_choices_are_errors_not_crashes(fresh) -> None:  # type: ignore[no-untyped-def]
    org, owner, _ = fresh
    data = {**STEP_DATA["business"], "industry": "smuggling", "site_count": "-3"}
    response = client_for(owner).post(reverse("buyers:register_step", args=["business"]), data)
    assert response.status_code == 400
    assert not BuyerProfile.objects.filter(organization=org).exists()
    assert client_for(owner).get(reverse("buyers:register_step", args=["nope"])).status_code == 404


def test_submitting_an_incomplete_registration_says_what_is_missing(fresh) -> None:  # type: ignore[no-untyped-def]
    org, owner, _ = fresh
    response = client_for(owner).post(reverse("buyers:register_submit"), follow=True)
    assert "Complete these first" in response.content.decode()
    org.refresh_from_db()
    assert org.verification_status == Organization.Verification.UNVERIFIED


def test_members_cannot_register_or_edit(fresh) -> None:  # type: ignore[no-untyped-def]
    _, _, member = fresh
    client = client_for(member)
    assert client.get(reverse("buyers:register_step", args=["names"])).status_code == 403
    assert client.post(reverse("buyers:register_step", args=["names"]), STEP_DATA["names"]).status_code == 403
    assert client.get(reverse("buyers:profile_edit")).status_code == 403
    assert client.get(reverse("buyers:profile")).status_code == 200


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("invoice.pdf", b"MZ\x90\x00 this is an executable", "not a PDF, PNG, JPEG file"),
        ("notes.pdf", b"just some text pretending", "not a PDF, PNG, JPEG file"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_documents_of_the_wrong_type_are_refused(fresh, name, content, message) -> None:  # type: ignore[no-untyped-def]
    org, owner, _ = fresh
    response = client_for(owner).post(
        reverse("buyers:register_step", args=["documents"]), {"kind": "tax", "file": pdf_upload(name, content)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not OrganizationDocument.objects.filter(organization=org).exists()


def test_oversized_documents_are_refused(fresh, settings) -> None:  # type: ignore[no-untyped-def]
    org, owner, _ = fresh
    settings.UPLOAD_MAX_BYTES = 1024
    big = b"%PDF-1.4\n" + b"0" * 4096
    response = client_for(owner).post(
        reverse("buyers:register_step", args=["documents"]), {"kind": "tax", "file": pdf_upload("big.pdf", big)}
    )
    assert response.status_code == 400
    assert "the limit is 1 KB" in response.content.decode()
    assert not OrganizationDocument.objects.filter(organization=org).exists()


def test_path_trick_names_are_stored_safely(fresh) -> None:  # type: ignore[no-untyped-def]
    org, owner, _ = fresh
    response = client_for(owner).post(
        reverse("buyers:register_step", args=["documents"]),
        {"kind": "other", "file": pdf_upload("../../../etc/passwd.png", PNG)},
    )
    assert response.status_code == 302
    document = OrganizationDocument.objects.get(organization=org)
    assert "/" not in document.original_name and ".." not in document.original_name
    assert document.file.name.startswith(f"private/documents/{org.pk}/")
    assert "passwd" not in document.file.name
    assert document.content_type == "image/png"


def test_editing_verified_facts_sends_the_buyer_back_for_review(cast) -> None:  # type: ignore[no-untyped-def]
    complete_profile(cast.buyer_org)
    client = client_for(cast.buyer_owner)
    form = client.get(reverse("buyers:profile_edit")).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["site_precision"] = "street"
    assert client.post(reverse("buyers:profile_edit"), data).status_code == 302
    cast.buyer_org.refresh_from_db()
    assert cast.buyer_org.verification_status == Organization.Verification.VERIFIED  # precision is not verified

    data["registration_number"] = "99999999"
    response = client.post(reverse("buyers:profile_edit"), data, follow=True)
    assert "review them again" in response.content.decode()
    cast.buyer_org.refresh_from_db()
    assert cast.buyer_org.verification_status == Organization.Verification.PENDING
    assert AuditEvent.objects.filter(organization=cast.buyer_org, action="organization.back_to_review").exists()


def test_rejected_buyer_sees_the_reason_corrects_and_resubmits(cast) -> None:  # type: ignore[no-untyped-def]
    from marketplace.services import organization_reject, organization_submit_for_review

    org = cast.buyer_org
    Organization.objects.filter(pk=org.pk).update(verification_status="unverified")
    complete_profile(org)
    organization_submit_for_review(actor=cast.buyer_owner, organization=org)
    organization_reject(actor=cast.moderator, organization=org, reason="The certificate is unreadable.")
    client = client_for(cast.buyer_owner)
    page = client.get(reverse("buyers:dashboard")).content.decode()
    assert "The certificate is unreadable." in page and "Submit for review again" in page

    client.post(reverse("buyers:register_step", args=["documents"]), {"kind": "registration", "file": pdf_upload()})
    client.post(reverse("buyers:register_submit"))
    org.refresh_from_db()
    assert org.verification_status == Organization.Verification.PENDING


def test_moderator_sees_the_buyer_evidence(cast) -> None:  # type: ignore[no-untyped-def]
    complete_profile(cast.buyer_org, registration_number="REG-777", tax_number="GB 999", is_reseller=True)
    page = client_for(cast.moderator).get(reverse("console:organization_review", args=[cast.buyer_org.pk]))
    html = page.content.decode()
    assert "REG-777" in html and "GB 999" in html and "Yes, resells telecom services" in html


def test_evidence_says_when_registration_has_not_started(cast) -> None:  # type: ignore[no-untyped-def]
    page = client_for(cast.moderator).get(reverse("console:organization_review", args=[cast.buyer_org.pk]))
    assert "has not started its registration" in page.content.decode()
