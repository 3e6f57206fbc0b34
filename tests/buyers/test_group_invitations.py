"""Group invitations by e-mail: the lead never learns from them whether an address belongs to a buyer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse

from buyers import services
from buyers.models import BuyingGroup, GroupInvitation, GroupMembership
from marketplace.models import AuditEvent, Notification, Organization, User
from marketplace.services import DomainError
from tests.buyers.conftest import make_group
from tests.conftest import client_for
from tests.factories import OrganizationFactory, member_of

pytestmark = pytest.mark.django_db

STRANGER = "stranger@example.test"
CODE = re.compile(r"[A-Z0-9]{5}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")


def invite(client: Client, group: BuyingGroup, email: str, follow: bool = False):  # type: ignore[no-untyped-def]
    return client.post(reverse("buyers:group_invite", args=[group.pk]), {"email": email}, follow=follow)


def lead_page(client: Client, group: BuyingGroup) -> str:
    return client.get(reverse("buyers:group_detail", args=[group.pk])).content.decode()


def code_mails() -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if "Your invitation code" in m.body]


def _comparable(html: str, address: str) -> str:
    html = html.replace(address, "ADDRESS").replace(address.upper(), "ADDRESS")
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", html)
    return re.sub(r"/invitations/\d+/", "/invitations/N/", html)


@time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False)
def test_lead_sees_the_same_answer_for_a_buyer_address_and_a_stranger(  # type: ignore[no-untyped-def]
    cast, django_capture_on_commit_callbacks
) -> None:
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    seen = {}
    for address in (cast.other_buyer.email, STRANGER):
        # Each invitation in a world of its own: same group, same clock, nothing else different.
        with transaction.atomic():
            with django_capture_on_commit_callbacks(execute=True):
                response = invite(lead, group, address)
            page = lead.get(response.url).content.decode()
            seen[address] = (response.status_code, response.url, _comparable(page, address))
            assert f"Invitation sent to {address}." in page
            assert address in page and "Other Buyer Ltd" not in page
            transaction.set_rollback(True)
    assert seen[cast.other_buyer.email] == seen[STRANGER]
    assert seen[STRANGER][0] == 302 and seen[STRANGER][1] == reverse("buyers:group_detail", args=[group.pk])

    # A mistyped address that is already pending gets the same refusal either way, too.
    refusals = {}
    for address in (cast.other_buyer.email, STRANGER):
        with transaction.atomic():
            invite(lead, group, address)
            response = invite(lead, group, f" {address.upper()}")
            refusals[address] = (response.status_code, _comparable(response.content.decode(), address))
            transaction.set_rollback(True)
    assert refusals[cast.other_buyer.email] == refusals[STRANGER]
    assert refusals[STRANGER][0] == 400 and "You have already invited this address" in refusals[STRANGER][1]


def test_a_buyer_address_reaches_its_owners_who_accept(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    with django_capture_on_commit_callbacks(execute=True):
        invite(lead, group, cast.other_buyer.email.upper())
    invitation = GroupInvitation.objects.get(group=group)
    assert invitation.email == cast.other_buyer.email and invitation.status == GroupInvitation.Status.PENDING
    assert invitation.organization == cast.other_buyer_org and invitation.code_digest == ""
    assert Notification.objects.filter(recipient=cast.other_buyer, kind="group_invitation").exists()
    assert not code_mails()
    assert not GroupMembership.objects.filter(organization=cast.other_buyer_org).exists()

    # Before acceptance the lead sees the address, never the organisation.
    page = lead_page(lead, group)
    assert cast.other_buyer.email in page and "Pending" in page and "Other Buyer Ltd" not in page

    invited = client_for(cast.other_buyer)
    assert "invites you" in invited.get(reverse("buyers:dashboard")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = invited.post(reverse("buyers:group_invitation_accept", args=[invitation.pk]))
    assert response.url == reverse("buyers:group_detail", args=[group.pk])
    invitation.refresh_from_db()
    assert invitation.status == GroupInvitation.Status.ACCEPTED and invitation.decided_by == cast.other_buyer
    row = GroupMembership.objects.get(group=group, organization=cast.other_buyer_org)
    assert row.status == GroupMembership.Status.ACTIVE and row.joined_at is not None
    answer = Notification.objects.get(recipient=cast.buyer_owner, kind="group_invitation_answer")
    assert answer.subject == f"Other Buyer Ltd joined {group.name}"

    # After acceptance the organisation is a member, as before, and the invitation leaves the list.
    page = lead_page(lead, group)
    assert "Other Buyer Ltd" in page and cast.other_buyer.email not in page
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"group.invite", "group.accept_invitation", "group.invitation_accepted"} <= actions


def test_a_decline_is_not_told_to_the_lead(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    invite(lead, group, cast.other_buyer.email)
    invitation = GroupInvitation.objects.get(group=group)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.other_buyer).post(
            reverse("buyers:group_invitation_decline", args=[invitation.pk]), follow=True
        )
    assert f"You declined the invitation to {group.name}." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == GroupInvitation.Status.DECLINED and invitation.decided_by == cast.other_buyer
    assert not GroupMembership.objects.filter(organization=cast.other_buyer_org).exists()
    assert AuditEvent.objects.filter(action="group.invitation_declined", object_id=str(invitation.pk)).exists()
    # Only a registered buyer can decline, so the lead hears nothing and still sees the invitation pending.
    assert not Notification.objects.filter(recipient=cast.buyer_owner).exists()
    page = lead_page(lead, group)
    assert cast.other_buyer.email in page and "Pending" in page
    assert "Declined" not in page and "Other Buyer Ltd" not in page
    # Inviting the address again gets the same answer as for any pending invitation.
    again = invite(lead, group, cast.other_buyer.email)
    assert again.status_code == 400 and "You have already invited this address" in again.content.decode()
    # Answering twice is refused: the invitation is gone from the buyer's list.
    accept = client_for(cast.other_buyer).post(reverse("buyers:group_invitation_accept", args=[invitation.pk]))
    assert accept.status_code == 404
    # The lead may withdraw it like a pending one, and it leaves the list.
    response = lead.post(reverse("buyers:group_invitation_cancel", args=[group.pk, invitation.pk]), follow=True)
    assert f"Cancelled the invitation to {cast.other_buyer.email}." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == GroupInvitation.Status.CANCELLED
    assert AuditEvent.objects.get(action="group.cancel_invitation").before == {"status": "declined"}
    assert cast.other_buyer.email not in lead_page(lead, group)


def test_a_stranger_gets_a_single_use_code_and_joins_after_signing_up(  # type: ignore[no-untyped-def]
    cast, django_capture_on_commit_callbacks
) -> None:
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    users, orgs = User.objects.count(), Organization.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        invite(lead, group, STRANGER)
    assert (User.objects.count(), Organization.objects.count()) == (users, orgs)
    assert not Notification.objects.exclude(kind="group_invitation_answer").filter(kind__startswith="group").exists()
    [message] = code_mails()
    assert message.to == [STRANGER]
    assert reverse("account_signup") in message.body and reverse("buyers:group_list") in message.body
    assert group.name in message.subject and group.name in message.body
    match = CODE.search(message.body)
    assert match
    code = match.group(0)
    invitation = GroupInvitation.objects.get(group=group)
    assert invitation.organization is None and invitation.emailed_at is not None
    assert code.startswith(group.reference) and code not in invitation.code_digest
    # The e-mail goes once, however often the task runs; a wrong code sends nothing.
    assert services.group_invitation_email(invitation_id=invitation.pk, code=code) is False
    assert services.group_invitation_email(invitation_id=invitation.pk, code="ABCDE-FGHJ-KLMN-PQRS") is False
    assert len(code_mails()) == 1

    # The stranger signs up, registers a buyer and uses the code: the lead invited them, so they join at once.
    org = OrganizationFactory(name="Stranger Shop", kind="buyer", verification_status="pending", verified_at=None)
    owner = member_of(org, "owner", email=STRANGER)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(reverse("buyers:group_join"), {"code": code.lower().replace("-", " ")})
    assert response.url == reverse("buyers:group_detail", args=[group.pk])
    assert GroupMembership.objects.get(group=group, organization=org).status == GroupMembership.Status.ACTIVE
    invitation.refresh_from_db()
    assert invitation.status == GroupInvitation.Status.ACCEPTED and invitation.organization == org
    assert Notification.objects.filter(recipient=cast.buyer_owner, kind="group_invitation_answer").exists()
    assert "Stranger Shop" in lead_page(lead, group)

    # The code works once.
    response = client_for(cast.other_buyer).post(reverse("buyers:group_join"), {"code": code})
    assert response.status_code == 400 and "This join code is not valid" in response.content.decode()
    assert not GroupMembership.objects.filter(group=group, organization=cast.other_buyer_org).exists()


def test_a_carrier_address_is_treated_as_a_stranger(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client_for(cast.buyer_owner), group, cast.seller_admin.email, follow=True)
    assert f"Invitation sent to {cast.seller_admin.email}." in response.content.decode()
    assert [m.to for m in code_mails()] == [[cast.seller_admin.email]]
    assert GroupInvitation.objects.get(group=group).organization is None


def test_cancelled_invitations_stop_working(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    with django_capture_on_commit_callbacks(execute=True):
        invite(lead, group, STRANGER)
        invite(lead, group, cast.other_buyer.email)
    match = CODE.search(code_mails()[0].body)
    assert match
    for invitation in GroupInvitation.objects.filter(group=group):
        response = lead.post(reverse("buyers:group_invitation_cancel", args=[group.pk, invitation.pk]), follow=True)
        assert f"Cancelled the invitation to {invitation.email}." in response.content.decode()
    assert set(GroupInvitation.objects.values_list("status", flat=True)) == {GroupInvitation.Status.CANCELLED}
    page = lead_page(lead, group)
    assert STRANGER not in page and cast.other_buyer.email not in page
    assert AuditEvent.objects.filter(action="group.cancel_invitation").count() == 2

    org = OrganizationFactory(name="Stranger Shop", kind="buyer")
    owner = member_of(org, "owner", email=STRANGER)
    assert client_for(owner).post(reverse("buyers:group_join"), {"code": match.group(0)}).status_code == 400
    buyer_invitation = GroupInvitation.objects.get(email=cast.other_buyer.email)
    accept = reverse("buyers:group_invitation_accept", args=[buyer_invitation.pk])
    assert client_for(cast.other_buyer).post(accept).status_code == 404
    assert GroupMembership.objects.filter(group=group).count() == 1
    # Cancelling twice says so and changes nothing.
    response = lead.post(reverse("buyers:group_invitation_cancel", args=[group.pk, buyer_invitation.pk]), follow=True)
    assert "no longer pending" in response.content.decode()


def test_a_second_address_at_an_invited_or_member_organisation_waits_quietly(  # type: ignore[no-untyped-def]
    cast, django_capture_on_commit_callbacks
) -> None:
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    colleague = member_of(cast.other_buyer_org, "member", email="colleague@other-buyer.test")
    with django_capture_on_commit_callbacks(execute=True):
        invite(lead, group, cast.other_buyer.email)
        second = invite(lead, group, colleague.email, follow=True)
        # An address of the lead's own organisation, already in the group: no error that would say so.
        own = invite(lead, group, cast.buyer_member.email, follow=True)
    assert f"Invitation sent to {colleague.email}." in second.content.decode()
    assert f"Invitation sent to {cast.buyer_member.email}." in own.content.decode()
    assert Notification.objects.filter(kind="group_invitation").count() == 1  # one owner, told once
    assert not Notification.objects.filter(recipient=cast.buyer_owner, kind="group_invitation").exists()
    assert not code_mails()
    listed = client_for(cast.other_buyer).get(reverse("buyers:group_list")).context["invitations"]
    assert len(listed) == 1  # one entry per group in the buyer's list

    # One answer settles every invitation the organisation had to the group.
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.other_buyer).post(reverse("buyers:group_invitation_accept", args=[listed[0].pk]))
    statuses = dict(GroupInvitation.objects.values_list("email", "status"))
    assert statuses == {
        cast.other_buyer.email: "accepted",
        colleague.email: "accepted",
        cast.buyer_member.email: "pending",
    }


def test_the_group_join_code_accepts_a_pending_invitation(cast) -> None:  # type: ignore[no-untyped-def]
    group, code = make_group(cast.buyer_owner)
    invite(client_for(cast.buyer_owner), group, cast.other_buyer.email)
    response = client_for(cast.other_buyer).post(reverse("buyers:group_join"), {"code": code})
    assert response.url == reverse("buyers:group_detail", args=[group.pk])
    assert GroupMembership.objects.get(organization=cast.other_buyer_org).status == GroupMembership.Status.ACTIVE
    assert GroupInvitation.objects.get(group=group).status == GroupInvitation.Status.ACCEPTED


def test_invitations_per_group_and_day_are_capped(cast) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for i in range(services.GROUP_INVITES_PER_DAY):
            services.group_invite(actor=cast.buyer_owner, group=group, email=f"buyer{i}@example.test")
        invitations, audits = GroupInvitation.objects.count(), AuditEvent.objects.count()
        response = invite(lead, group, "one.more@example.test")
        assert response.status_code == 400 and "the most a group may send in a day" in response.content.decode()
        assert (GroupInvitation.objects.count(), AuditEvent.objects.count()) == (invitations, audits)
    with time_machine.travel(start + timedelta(days=1, minutes=1), tick=False):
        assert invite(lead, group, "one.more@example.test").status_code == 302


def test_only_owners_of_the_lead_invite_and_a_refusal_saves_nothing(cast) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    for actor in (cast.buyer_member, cast.other_buyer):
        with pytest.raises(DomainError):
            services.group_invite(actor=actor, group=group, email=STRANGER)
    assert (
        client_for(cast.buyer_member)
        .post(reverse("buyers:group_invite", args=[group.pk]), {"email": STRANGER})
        .status_code
        == 403
    )
    assert invite(client_for(cast.buyer_owner), group, "not an address").status_code == 400
    assert not GroupInvitation.objects.exists()
    assert not AuditEvent.objects.filter(action="group.invite").exists()


def test_an_organisation_that_asked_to_join_and_is_invited_joins_on_accepting(cast) -> None:  # type: ignore[no-untyped-def]
    group, code = make_group(cast.buyer_owner)
    asker = client_for(cast.other_buyer)
    asker.post(reverse("buyers:group_join"), {"code": code})
    invite(client_for(cast.buyer_owner), group, cast.other_buyer.email)
    # The join code again, with an invitation waiting, is a yes rather than "you already asked".
    response = asker.post(reverse("buyers:group_join"), {"code": code})
    assert response.url == reverse("buyers:group_detail", args=[group.pk])
    row = GroupMembership.objects.get(group=group, organization=cast.other_buyer_org)
    assert row.status == GroupMembership.Status.ACTIVE
    assert GroupInvitation.objects.get(group=group).status == GroupInvitation.Status.ACCEPTED
