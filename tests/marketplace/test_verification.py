"""Moderators verify or reject organisations from the queue; the organisation hears of it."""

from __future__ import annotations

import pytest
from django.core import mail

from marketplace import services
from marketplace.models import Notification, Organization


def _pending(org: Organization) -> Organization:
    org.verification_status = Organization.Verification.PENDING
    org.save(update_fields=["verification_status"])
    return org


@pytest.mark.django_db
def test_queue_lists_pending_organisations_only(cast, as_role, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _pending(cast.other_buyer_org)
    client = as_role("moderator")
    with django_assert_max_num_queries(8):
        page = client.get("/console/verification/")
    assert cast.other_buyer_org.name.encode() in page.content
    assert cast.buyer_org.name.encode() not in page.content
    assert cast.other_buyer_org.name.encode() not in client.get("/console/verification/?kind=carrier").content


@pytest.mark.django_db
def test_reject_needs_a_reason_then_notifies(cast, as_role, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    org = _pending(cast.other_buyer_org)
    client = as_role("moderator")
    response = client.post(f"/console/organizations/{org.pk}/reject/", {"reason": ""})
    assert response.status_code == 400
    assert b"This field is required" in response.content
    org.refresh_from_db()
    assert org.verification_status == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/console/organizations/{org.pk}/reject/", {"reason": "The tax number does not match."})
    org.refresh_from_db()
    assert org.verification_status == "rejected"
    assert org.rejection_reason == "The tax number does not match."
    assert Notification.objects.filter(recipient=cast.other_buyer, kind="organization_rejected").exists()
    assert any("tax number" in m.body for m in mail.outbox)
    dashboard = Client_for(cast.other_buyer).get("/buyer/")
    assert b"The tax number does not match." in dashboard.content


def Client_for(user):  # type: ignore[no-untyped-def]
    from tests.conftest import client_for

    return client_for(user)


@pytest.mark.django_db
def test_transitions_are_guarded(cast) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(services.DomainError):
        services.organization_reject(actor=cast.moderator, organization=cast.buyer_org, reason="late")
    with pytest.raises(services.DomainError):
        services.organization_verify(actor=cast.buyer_owner, organization=cast.other_buyer_org)
    org = services.organization_submit_for_review(actor=cast.other_buyer, organization=cast.other_buyer_org)
    assert org.verification_status == "pending" and org.submitted_at is not None
