"""Group invitations expire; what the lead sees never tells whether an address belongs to a buyer or member."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse

from buyers import services
from buyers.models import BuyingGroup, GroupInvitation, GroupMembership
from buyers.tasks import group_invitation_email_task, group_invitations_expire_task
from marketplace.celery import app
from marketplace.models import AuditEvent, Notification
from tests.buyers.conftest import make_group
from tests.conftest import Cast, client_for
from tests.factories import OrganizationFactory, member_of

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
STRANGER = "stranger@example.test"
CODE = re.compile(r"[A-Z0-9]{5}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")
EXPIRED = "This invitation has expired; ask the group lead to send a new one"
ROOT = Path(__file__).resolve().parents[2]


def ttl() -> timedelta:
    return timedelta(days=settings.GROUP_INVITATION_TTL_DAYS)


def invite(client: Client, group: BuyingGroup, email: str, follow: bool = False):  # type: ignore[no-untyped-def]
    return client.post(reverse("buyers:group_invite", args=[group.pk]), {"email": email}, follow=follow)


def lead_page(client: Client, group: BuyingGroup) -> str:
    return client.get(reverse("buyers:group_detail", args=[group.pk])).content.decode()


def invitations_section(page: str) -> str:
    match = re.search(r'<section aria-labelledby="invitations-heading">.*?</section>', page, re.S)
    assert match, "the lead's page has no invitations section"
    return match.group(0)


def codes_sent_to(address: str) -> list[str]:
    found = [CODE.search(m.body) for m in mail.outbox if m.to == [address]]
    return [m.group(0) for m in found if m]


def test_an_invitation_code_stops_working_when_it_expires_and_the_lead_can_invite_again(  # type: ignore[no-untyped-def]
    cast, settings, django_capture_on_commit_callbacks
) -> None:
    settings.GROUP_INVITATION_TTL_DAYS = 3
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        invite(lead, group, STRANGER)
    [message] = [m for m in mail.outbox if m.to == [STRANGER]]
    assert "until 5 March 2026, 10:00 UTC" in message.body
    [code] = codes_sent_to(STRANGER)
    old = GroupInvitation.objects.get(group=group)

    org = OrganizationFactory(name="Stranger Shop", kind="buyer")
    newcomer = member_of(org, "owner", email=STRANGER)
    newcomer_client = client_for(newcomer)
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        response = newcomer_client.post(reverse("buyers:group_join"), {"code": code})
        assert response.status_code == 400 and EXPIRED in response.content.decode()
        # A right code that expired is no guess: it does not use up the newcomer's attempts.
        assert services.join_attempts_left(newcomer) == services.JOIN_ATTEMPTS_LIMIT
        assert not GroupMembership.objects.filter(group=group, organization=org).exists()

        section = invitations_section(lead_page(lead, group))
        assert STRANGER in section and "Expired" in section and "Pending" not in section
        assert "Invite again" in section and "Cancel invitation" not in section
        cancel = lead.post(reverse("buyers:group_invitation_cancel", args=[group.pk, old.pk]), follow=True)
        assert "This invitation has already expired." in cancel.content.decode()

        # "Invite again" posts the address to the invite form: the expired invitation no longer blocks it.
        with django_capture_on_commit_callbacks(execute=True):
            again = invite(lead, group, STRANGER, follow=True)
        assert f"Invitation sent to {STRANGER}." in again.content.decode()
    old.refresh_from_db()
    assert old.status == GroupInvitation.Status.EXPIRED
    expired_event = AuditEvent.objects.get(action="group.invitation_expired", object_id=str(old.pk))
    assert expired_event.actor_label == "system" and expired_event.organization == cast.buyer_org
    # Meanwhile the stranger registered a buyer, so the new invitation waits in its owners' inbox.
    renewed = GroupInvitation.objects.get(group=group, status=GroupInvitation.Status.PENDING)
    assert renewed.organization == org and renewed.created_at == T0 + timedelta(days=3)

    with time_machine.travel(T0 + timedelta(days=3, hours=1), tick=False):
        section = invitations_section(lead_page(lead, group))
        assert section.count(f"<td>{STRANGER}</td>") == 1 and "Pending" in section and "Expired" not in section
        response = newcomer_client.post(reverse("buyers:group_invitation_accept", args=[renewed.pk]))
    assert response.url == reverse("buyers:group_detail", args=[group.pk])
    assert GroupMembership.objects.get(group=group, organization=org).status == GroupMembership.Status.ACTIVE
    assert STRANGER not in lead_page(lead, group)


def test_a_stranger_invited_again_gets_a_new_code_and_the_old_one_stays_expired(  # type: ignore[no-untyped-def]
    cast, django_capture_on_commit_callbacks
) -> None:
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        invite(lead, group, STRANGER)
    later = T0 + ttl() + timedelta(hours=2)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert invite(lead, group, STRANGER).status_code == 302
    old_code, new_code = codes_sent_to(STRANGER)
    assert old_code != new_code
    org = OrganizationFactory(name="Stranger Shop", kind="buyer")
    newcomer = client_for(member_of(org, "owner", email=STRANGER))
    with time_machine.travel(later + timedelta(minutes=5), tick=False):
        response = newcomer.post(reverse("buyers:group_join"), {"code": old_code})
        assert response.status_code == 400 and EXPIRED in response.content.decode()
        response = newcomer.post(reverse("buyers:group_join"), {"code": new_code})
    assert response.url == reverse("buyers:group_detail", args=[group.pk])
    assert sorted(GroupInvitation.objects.values_list("status", flat=True)) == ["accepted", "expired"]


def test_an_invitation_can_be_accepted_until_its_last_second(  # type: ignore[no-untyped-def]
    cast, settings, django_capture_on_commit_callbacks
) -> None:
    settings.GROUP_INVITATION_TTL_DAYS = 1
    group, _ = make_group(cast.buyer_owner)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        invitation = services.group_invite(actor=cast.buyer_owner, group=group, email=cast.other_buyer.email)
    notice = Notification.objects.get(recipient=cast.other_buyer, kind="group_invitation")
    assert "by 3 March 2026, 10:00 UTC" in notice.body
    with time_machine.travel(T0 + timedelta(days=1, seconds=-1), tick=False):
        response = client_for(cast.other_buyer).post(
            reverse("buyers:group_invitation_accept", args=[invitation.pk]), follow=True
        )
    assert f"You are now a member of {group.name}." in response.content.decode()
    assert GroupMembership.objects.get(group=group, organization=cast.other_buyer_org).status == "active"


def test_an_expired_inbox_invitation_cannot_be_answered_and_leaves_the_inbox(cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GROUP_INVITATION_TTL_DAYS = 14
    group, _ = make_group(cast.buyer_owner)
    with time_machine.travel(T0, tick=False):
        invitation = services.group_invite(actor=cast.buyer_owner, group=group, email=cast.other_buyer.email)
    owner = client_for(cast.other_buyer)
    with time_machine.travel(T0 + ttl() - timedelta(minutes=1), tick=False):
        dashboard = owner.get(reverse("buyers:dashboard")).content.decode()
        assert "invites you to the buying group" in dashboard and "Open until 16 Mar 2026, 10:00" in dashboard
    with time_machine.travel(T0 + ttl(), tick=False):
        assert "invites you" not in owner.get(reverse("buyers:dashboard")).content.decode()
        assert list(owner.get(reverse("buyers:group_list")).context["invitations"]) == []
        for action in ("buyers:group_invitation_accept", "buyers:group_invitation_decline"):
            response = owner.post(reverse(action, args=[invitation.pk]), follow=True)
            assert response.redirect_chain[-1][0] == reverse("buyers:group_list")
            assert EXPIRED in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.is_expired(T0 + ttl()) and invitation.decided_by is None
    assert not GroupMembership.objects.filter(group=group, organization=cast.other_buyer_org).exists()
    assert not AuditEvent.objects.filter(action__in=["group.invitation_accepted", "group.invitation_declined"]).exists()


def test_a_late_email_task_does_not_send_an_expired_code(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=False) as queued:
        services.group_invite(actor=cast.buyer_owner, group=group, email=STRANGER)
    assert len(queued) == 1
    with time_machine.travel(T0 + ttl(), tick=False):
        queued[0]()  # the task finally runs, after a long broker outage
    assert not mail.outbox
    assert GroupInvitation.objects.get(group=group).emailed_at is None


def test_the_hourly_task_marks_overdue_invitations_expired_once(cast) -> None:  # type: ignore[no-untyped-def]
    first, _ = make_group(cast.buyer_owner, name="First Group")
    second, _ = make_group(cast.other_buyer, name="Second Group")
    with time_machine.travel(T0, tick=False):
        services.group_invite(actor=cast.buyer_owner, group=first, email=STRANGER)
        services.group_invite(actor=cast.other_buyer, group=second, email=cast.buyer_owner.email)
        declined = services.group_invite(actor=cast.buyer_owner, group=first, email=cast.other_buyer.email)
        services.group_invitation_answer(actor=cast.other_buyer, invitation=declined, accept=False)
    with time_machine.travel(T0 + ttl() - timedelta(hours=1), tick=False):
        fresh = services.group_invite(actor=cast.buyer_owner, group=first, email="fresh@example.test")
    with time_machine.travel(T0 + ttl() + timedelta(minutes=1), tick=False):
        assert group_invitations_expire_task.delay().get() == 2
        assert group_invitations_expire_task.delay().get() == 0
    statuses = dict(GroupInvitation.objects.values_list("email", "status"))
    assert statuses == {
        STRANGER: "expired",
        cast.buyer_owner.email: "expired",
        cast.other_buyer.email: "declined",  # answered: a decline stays a decline
        fresh.email: "pending",
    }
    events = AuditEvent.objects.filter(action="group.invitation_expired")
    assert sorted(e.organization.name for e in events) == sorted([cast.buyer_org.name, cast.other_buyer_org.name])
    entry = app.conf.beat_schedule["group-invitations-expire"]
    assert entry["task"] == group_invitations_expire_task.name


def test_an_invitation_to_a_member_is_not_offered_and_accepting_it_changes_nothing(  # type: ignore[no-untyped-def]
    cast, django_capture_on_commit_callbacks
) -> None:
    group, _ = make_group(cast.buyer_owner)
    membership = GroupMembership.objects.create(
        group=group, organization=cast.other_buyer_org, status=GroupMembership.Status.ACTIVE, joined_at=T0
    )
    lead = client_for(cast.buyer_owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(lead, group, cast.other_buyer.email, follow=True)
    assert f"Invitation sent to {cast.other_buyer.email}." in response.content.decode()
    invitation = GroupInvitation.objects.get(group=group)
    assert invitation.organization == cast.other_buyer_org and invitation.status == GroupInvitation.Status.PENDING
    # The owners are not offered a group they are in, neither by notice nor in their lists.
    owner = client_for(cast.other_buyer)
    assert not Notification.objects.filter(recipient=cast.other_buyer).exists()
    assert "invites you" not in owner.get(reverse("buyers:dashboard")).content.decode()
    assert list(owner.get(reverse("buyers:group_list")).context["invitations"]) == []

    # Accepting anyway (an old tab) closes the invitation and changes nothing else.
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(reverse("buyers:group_invitation_accept", args=[invitation.pk]), follow=True)
    assert f"You are now a member of {group.name}." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == GroupInvitation.Status.ACCEPTED
    assert list(GroupMembership.objects.filter(organization=cast.other_buyer_org)) == [membership]
    membership.refresh_from_db()
    assert membership.joined_at == T0 and membership.status == GroupMembership.Status.ACTIVE
    assert not Notification.objects.filter(recipient=cast.buyer_owner).exists()
    assert not AuditEvent.objects.filter(action="group.accept_invitation").exists()
    assert AuditEvent.objects.filter(action="group.invitation_accepted", object_id=str(invitation.pk)).exists()
    assert cast.other_buyer.email not in invitations_section(lead_page(lead, group))


def _stranger(cast: Cast, group: BuyingGroup) -> str:
    return STRANGER


def _buyer(cast: Cast, group: BuyingGroup) -> str:
    return cast.other_buyer.email


def _declining_buyer(cast: Cast, group: BuyingGroup) -> str:
    return cast.other_buyer.email


def _member(cast: Cast, group: BuyingGroup) -> str:
    GroupMembership.objects.create(group=group, organization=cast.other_buyer_org, status="active", joined_at=T0)
    return cast.other_buyer.email


def _comparable(html: str, address: str) -> str:
    html = html.replace(address, "ADDRESS")
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    return re.sub(r"/invitations/\d+/", "/invitations/N/", html)


def test_the_lead_sees_the_same_invitation_whoever_is_behind_the_address(  # type: ignore[no-untyped-def]
    cast, django_capture_on_commit_callbacks
) -> None:
    """A stranger who never answers, a buyer who never answers, a buyer who declines, an organisation that is
    already a member: before anyone accepts, the lead's invitations look the same, then expire the same."""
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    owner = client_for(cast.other_buyer)
    seen = {}
    for scenario in (_stranger, _buyer, _declining_buyer, _member):
        # Each in a world of its own: same group, same clock, rolled back afterwards.
        with transaction.atomic():
            address = scenario(cast, group)
            views: list[object] = []
            with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
                invite(lead, group, address)
            invitation = GroupInvitation.objects.get(group=group, email=address)
            if scenario is _declining_buyer:
                with (
                    time_machine.travel(T0 + timedelta(minutes=5), tick=False),
                    django_capture_on_commit_callbacks(execute=True),
                ):
                    owner.post(reverse("buyers:group_invitation_decline", args=[invitation.pk]))
            for moment in (T0 + timedelta(hours=1), T0 + ttl() + timedelta(hours=1)):
                with time_machine.travel(moment, tick=False):
                    page = lead_page(lead, group)
                    section = invitations_section(page)
                    assert "Other Buyer Ltd" not in section and "Declined" not in section
                    if scenario is not _member:  # a member's name is in the member list, rightly
                        assert "Other Buyer Ltd" not in page
                    again = invite(lead, group, address)
                    views.append((_comparable(section, address), again.status_code))
            assert not Notification.objects.filter(recipient=cast.buyer_owner).exists()
            seen[scenario.__name__] = views
            transaction.set_rollback(True)
    assert seen["_stranger"][0][1] == 400 and "Pending" in seen["_stranger"][0][0]  # still pending: no re-invite
    assert seen["_stranger"][1][1] == 302 and "Expired" in seen["_stranger"][1][0]  # expired: invite again
    assert seen["_buyer"] == seen["_stranger"]
    assert seen["_declining_buyer"] == seen["_stranger"]
    assert seen["_member"] == seen["_stranger"]


def test_the_lead_list_shows_each_address_once_in_fixed_queries(cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    with time_machine.travel(T0, tick=False):
        for i in range(6):
            services.group_invite(actor=cast.buyer_owner, group=group, email=f"old{i}@example.test")
    with time_machine.travel(T0 + ttl() + timedelta(days=1), tick=False):
        for i in range(3):
            services.group_invite(actor=cast.buyer_owner, group=group, email=f"old{i}@example.test")
        lead = client_for(cast.buyer_owner)
        with django_assert_max_num_queries(12):
            response = lead.get(reverse("buyers:group_detail", args=[group.pk]))
    rows = response.context["invitations"]
    assert len(rows) == 6 and len({r.email for r in rows}) == 6
    assert sorted(r.lead_status for r in rows) == ["expired"] * 3 + ["pending"] * 3


def test_the_lead_list_is_paged(cast) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    # Expired invitations stay listed so the lead can invite again; over months they add up (the daily cap is 20).
    for day in range(2):
        with time_machine.travel(T0 + timedelta(days=2 * day), tick=False):
            for i in range(15):
                services.group_invite(actor=cast.buyer_owner, group=group, email=f"d{day}-{i}@example.test")
    lead = client_for(cast.buyer_owner)
    url = reverse("buyers:group_detail", args=[group.pk])
    first, second = lead.get(url), lead.get(url, {"page": 2})
    assert len(first.context["invitations"]) == 25 and len(second.context["invitations"]) == 5
    assert "Page 1 of 2" in first.content.decode()
    emails = {r.email for r in first.context["invitations"]} | {r.email for r in second.context["invitations"]}
    assert len(emails) == 30


def test_the_invitation_email_goes_to_the_notifications_queue() -> None:
    route = app.amqp.router.route({}, group_invitation_email_task.name)
    assert route["queue"].name == "notifications"
    assert app.amqp.router.route({}, group_invitations_expire_task.name)["queue"].name == "default"


@pytest.mark.parametrize("value", ["fortnight", "0"])
def test_a_bad_invitation_ttl_stops_start_up_with_a_clear_message(value: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "marketplace.settings", "GROUP_INVITATION_TTL_DAYS": value})
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "GROUP_INVITATION_TTL_DAYS must be" in result.stderr
