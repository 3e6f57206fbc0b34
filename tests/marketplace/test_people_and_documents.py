"""Invitations with initial passwords, roles, documents and CSV parsing: the core every organisation shares."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django import forms
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from marketplace import services
from marketplace.csv_import import parse_csv
from marketplace.models import AuditEvent, Invitation, Membership, OrganizationDocument, User
from marketplace.uploads import safe_filename

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NEW_PASSWORD = "a-new-and-long-passphrase"


def _link(body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/invitation/\S+/)", body)
    assert match, body
    return match.group(1)


@pytest.mark.django_db
def test_owner_invites_by_link_and_member_sets_password_once(cast, as_role, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    owner = as_role("buyer_owner")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            "/organization/people/invite/", {"email": "Colleague@Acme.test", "role": "member", "delivery": "link"}
        )
    assert response.status_code == 302
    invited = User.objects.get(email="colleague@acme.test")
    assert invited.must_change_password and not invited.has_usable_password()
    assert Membership.objects.get(user=invited).organization == cast.buyer_org
    link = _link(mail.outbox[-1].body)

    visitor = Client()
    page = visitor.get(link)
    assert b"Choose your password" in page.content
    bad = visitor.post(link, {"new_password1": "short", "new_password2": "short"})
    assert bad.status_code == 200 and b"too short" in bad.content
    done = visitor.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD) and not invited.must_change_password
    again = Client().get(link)
    assert again.status_code == 410 and b"not valid" in again.content
    assert AuditEvent.objects.filter(action="invitation.accept", actor=invited).exists()


@pytest.mark.django_db
def test_link_expires_after_72_hours(cast) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(timezone.now(), tick=False):
        invitation, _ = services.invitation_create(
            actor=cast.buyer_owner, organization=cast.buyer_org, email="late@acme.test", role="member", delivery="link"
        )
    token_page = None
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        invitation.refresh_from_db()
        assert invitation.state == "expired"
        with pytest.raises(services.DomainError, match="not valid|expired"):
            services.invitation_accept(token="anything", password=NEW_PASSWORD)
    assert token_page is None


@pytest.mark.django_db
def test_generated_password_is_shown_once_and_must_be_replaced(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    response = as_role("seller_admin").post(
        "/organization/people/invite/", {"email": "new.sales@carrier.test", "role": "sales", "delivery": "password"}
    )
    assert response.status_code == 200
    password = re.search(rb'id="initial-password">([^<]+)<', response.content).group(1).decode()  # type: ignore[union-attr]
    assert b"shown only this once" in response.content
    client = Client()
    client.post("/accounts/login/", {"login": "new.sales@carrier.test", "password": password})
    assert client.get("/seller/")["Location"] == "/account/choose-password/"
    client.post("/account/choose-password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert client.get("/seller/").status_code == 200
    assert not User.objects.get(email="new.sales@carrier.test").must_change_password


@pytest.mark.django_db
def test_resend_replaces_the_link_and_revoke_closes_the_account(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = services.invitation_create(
            actor=cast.buyer_owner, organization=cast.buyer_org, email="x@acme.test", role="member", delivery="link"
        )
    first = _link(mail.outbox[-1].body)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_resend(actor=cast.buyer_owner, invitation=invitation)
    second = _link(mail.outbox[-1].body)
    assert first != second
    assert Client().get(first).status_code == 410
    assert Client().get(second).status_code == 200
    services.invitation_revoke(actor=cast.buyer_owner, invitation=invitation)
    assert Client().get(second).status_code == 410
    invitation.refresh_from_db()
    assert invitation.user is not None and not invitation.user.is_active
    assert not Membership.objects.filter(user=invitation.user).exists()


@pytest.mark.django_db
def test_invitation_rules(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    response = as_role("buyer_owner").post(
        "/organization/people/invite/", {"email": cast.other_seller.email, "role": "member", "delivery": "link"}
    )
    assert response.status_code == 400 and b"already has an account" in response.content
    assert (
        as_role("buyer_member")
        .post("/organization/people/invite/", {"email": "a@b.test", "role": "member", "delivery": "link"})
        .status_code
        == 403
    )
    with pytest.raises(services.DomainError, match="role does not exist"):
        services.invitation_create(
            actor=cast.buyer_owner, organization=cast.buyer_org, email="q@a.test", role="sales", delivery="link"
        )
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_last_owner_cannot_leave_or_be_demoted(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    owner_m = Membership.objects.get(user=cast.buyer_owner)
    with pytest.raises(services.DomainError, match="last owner"):
        services.membership_remove(actor=cast.buyer_owner, membership=owner_m)
    with pytest.raises(services.DomainError, match="at least one owner"):
        services.membership_change_role(actor=cast.buyer_owner, membership=owner_m, role="member")
    member_m = Membership.objects.get(user=cast.buyer_member)
    services.membership_change_role(actor=cast.buyer_owner, membership=member_m, role="owner")
    services.membership_remove(actor=cast.buyer_member, membership=owner_m)
    cast.buyer_owner.refresh_from_db()
    assert not cast.buyer_owner.is_active
    # Another organisation's member is not found.
    other = Membership.objects.get(user=cast.other_buyer)
    assert as_role("buyer_member").post(f"/organization/people/{other.pk}/remove/").status_code == 404


@pytest.mark.django_db
def test_documents_are_checked_by_content_and_served_only_to_their_organisation(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    owner = as_role("buyer_owner")
    fake = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 this is an executable", content_type="application/pdf")
    response = owner.post("/organization/documents/", {"kind": "tax", "file": fake})
    assert response.status_code == 400 and b"not a PDF, PNG, JPEG file" in response.content
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024), content_type="application/pdf")
    response = owner.post("/organization/documents/", {"kind": "tax", "file": big})
    assert b"the limit is 10 MB" in response.content
    assert not OrganizationDocument.objects.exists()

    tricky = SimpleUploadedFile("../../etc/passwd\x00.pdf", PDF, content_type="application/pdf")
    assert owner.post("/organization/documents/", {"kind": "registration", "file": tricky}).status_code == 302
    document = OrganizationDocument.objects.get()
    assert document.original_name.startswith("passwd") and document.original_name.endswith(".pdf")
    assert "/" not in document.original_name
    assert ".." not in document.file.name and document.file.name.startswith(f"private/documents/{cast.buyer_org.pk}/")
    assert document.content_type == "application/pdf" and len(document.sha256) == 64

    download = as_role("buyer_member").get(f"/organization/documents/{document.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]
    assert f'attachment; filename="{document.original_name}"' in download["Content-Disposition"]
    assert as_role("moderator").get(f"/organization/documents/{document.pk}/").status_code == 200
    for outsider in ("other_buyer", "seller_admin", "billing_agent"):
        assert as_role(outsider).get(f"/organization/documents/{document.pk}/").status_code == 404
    assert (
        as_role("buyer_member")
        .post("/organization/documents/", {"kind": "tax", "file": SimpleUploadedFile("a.png", PNG)})
        .status_code
        == 403
    )


def test_safe_filename_strips_paths_and_controls() -> None:
    assert safe_filename("C:\\Users\\x\\report.pdf") == "report.pdf"
    assert safe_filename("../../secret") == "secret"
    assert safe_filename("a\r\nb.pdf") == "a_b.pdf"
    assert safe_filename("...") == "document"


@pytest.mark.django_db
def test_identity_change_sends_verified_organisation_back_to_review(cast) -> None:  # type: ignore[no-untyped-def]
    org = services.organization_update(actor=cast.buyer_owner, organization=cast.buyer_org, phone="+44 20 0000 0000")
    assert org.verification_status == "verified"
    org = services.organization_update(actor=cast.buyer_owner, organization=cast.buyer_org, name="Acme Renamed Ltd")
    assert org.verification_status == "pending"
    assert AuditEvent.objects.filter(action="organization.back_to_review").exists()


class SiteRow(forms.Form):
    name = forms.CharField(max_length=20)
    postcode = forms.CharField(max_length=10)
    lines = forms.IntegerField(min_value=1, required=False)


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("rows.csv", text.encode(), content_type="text/csv")


def test_parse_csv_reports_every_bad_row_with_its_line() -> None:
    result = parse_csv(
        _csv("name,postcode,lines\nHQ,LS1 1AA,4\n,M1 1AA,2\nDepot,B1 1AA,zero\n\nYard,BS1 4DJ,\n"), SiteRow
    )
    assert not result.ok
    assert [r["line"] for r in result.rows] == [2, 6]
    assert [(e.line, e.field) for e in result.errors] == [(3, "name"), (4, "lines")]
    assert str(result.errors[0]) == "line 3, name: This field is required."


def test_parse_csv_refuses_wrong_headers_and_non_text() -> None:
    missing = parse_csv(_csv("name,zip\nHQ,LS1\n"), SiteRow)
    assert [str(e) for e in missing.errors] == [
        "line 1: Missing column(s): postcode.",
        "line 1: Unknown column(s): zip. Expected: name, postcode, lines.",
    ]
    binary = parse_csv(SimpleUploadedFile("x.csv", b"\x00\x01\x02"), SiteRow)
    assert not binary.ok and "not a CSV" in str(binary.errors[0])
    good = parse_csv(_csv("\ufeffname,postcode\nHQ,LS1 1AA\n"), SiteRow)
    assert good.ok and good.rows[0]["name"] == "HQ"


@pytest.mark.django_db
def test_submit_for_review_puts_organisation_in_queue(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    cast.other_buyer_org.verification_status = "unverified"
    cast.other_buyer_org.save(update_fields=["verification_status"])
    as_role("other_buyer").post("/organization/submit-review/")
    cast.other_buyer_org.refresh_from_db()
    assert cast.other_buyer_org.verification_status == "pending"
    assert cast.other_buyer_org.name.encode() in as_role("moderator").get("/console/verification/").content


def test_an_organisation_keeps_at_most_twenty_documents(cast, as_role, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from marketplace.services import MAX_ORGANIZATION_DOCUMENTS

    settings.MEDIA_ROOT = tmp_path
    owner = as_role("buyer_owner")
    for i in range(MAX_ORGANIZATION_DOCUMENTS):
        upload = SimpleUploadedFile(f"c{i}.pdf", PDF, content_type="application/pdf")
        assert owner.post("/organization/documents/", {"kind": "other", "file": upload}).status_code == 302
    one_more = SimpleUploadedFile("late.pdf", PDF, content_type="application/pdf")
    response = owner.post("/organization/documents/", {"kind": "other", "file": one_more})
    assert response.status_code == 400
    assert f"at most {MAX_ORGANIZATION_DOCUMENTS} supporting documents".encode() in response.content
    assert OrganizationDocument.objects.filter(organization=cast.buyer_org).count() == MAX_ORGANIZATION_DOCUMENTS
