"""The audit log is append-only; notifications reach the inbox and e-mail exactly once."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.core import mail
from django.db import connection, transaction
from django.test import RequestFactory

from marketplace import services
from marketplace.models import AuditEvent, Notification
from marketplace.tasks import notification_deliver_task


@pytest.mark.django_db
def test_verification_writes_audit_event_with_actor_and_address(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    org = cast.other_buyer_org
    org.verification_status = "pending"
    org.save(update_fields=["verification_status"])
    response = as_role("moderator").post(f"/console/organizations/{org.pk}/verify/", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="organization.verify")
    assert event.actor == cast.moderator
    assert event.before == {"verification_status": "pending"}
    assert event.after == {"verification_status": "verified"}
    assert event.ip_address == "203.0.113.9"
    assert event.object_id == str(org.pk)


@pytest.mark.django_db
def test_audit_events_cannot_be_changed_or_deleted(cast) -> None:  # type: ignore[no-untyped-def]
    event = services.audit_record(actor=cast.moderator, action="test.thing")
    event.action = "rewritten"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    admin = site._registry[AuditEvent]
    request = RequestFactory().get("/")
    request.user = cast.moderator
    assert not admin.has_change_permission(request, event)
    assert not admin.has_delete_permission(request, event)
    assert not admin.has_add_permission(request)


@pytest.mark.django_db
def test_database_refuses_audit_rewrites_on_postgresql(cast) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    event = services.audit_record(actor=cast.moderator, action="test.thing")
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE marketplace_auditevent SET action = 'x' WHERE id = %s", [event.pk])
    # Deleting the actor only clears the reference; the event stays.
    cast.moderator.delete()
    event.refresh_from_db()
    assert event.actor is None and event.actor_label == "moderator@switchboard.test"


@pytest.mark.django_db
def test_notify_waits_for_commit_and_delivers_once(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks() as callbacks:
        services.notify(
            recipients=[cast.buyer_owner, cast.buyer_member],
            key="test-event:1",
            kind="test",
            subject="Bids are open",
            body="Two bids arrived.",
            url="/buyer/",
        )
        assert Notification.objects.count() == 0  # nothing before commit
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert Notification.objects.filter(key="test-event:1").count() == 2
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.subject == "[Switchboard] Bids are open"
    assert "Two bids arrived." in message.body
    assert message.alternatives[0][1] == "text/html"
    assert "Two bids arrived." in message.alternatives[0][0]

    # A retried task neither duplicates the inbox entry nor sends again.
    notification_deliver_task.delay(
        recipient_id=cast.buyer_owner.pk, key="test-event:1", kind="test", subject="Bids are open", body="b"
    )
    assert Notification.objects.filter(key="test-event:1").count() == 2
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_inbox_unread_count_and_mark_read(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    n = Notification.objects.create(recipient=cast.buyer_owner, key="k1", kind="t", subject="Hello there", body="b")
    client = as_role("buyer_owner")
    page = client.get("/inbox/")
    assert b"Hello there" in page.content
    assert b'id="unread-count">1<' in page.content
    response = client.post(f"/inbox/{n.pk}/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Mark read" not in response.content
    n.refresh_from_db()
    assert n.read_at is not None
    assert b'id="unread-count"' not in client.get("/inbox/").content


@pytest.mark.django_db
def test_someone_elses_notification_is_not_found(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    n = Notification.objects.create(recipient=cast.buyer_owner, key="k1", kind="t", subject="s", body="b")
    assert as_role("buyer_member").post(f"/inbox/{n.pk}/read/").status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


@pytest.mark.django_db
def test_inbox_query_count_does_not_grow_with_messages(cast, as_role, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = as_role("buyer_owner")
    for i in range(30):
        Notification.objects.create(recipient=cast.buyer_owner, key=f"k{i}", kind="t", subject=f"s{i}", body="b")
    with django_assert_max_num_queries(8):
        response = client.get("/inbox/")
    assert response.status_code == 200
    assert b"Page 1 of 2" in response.content
