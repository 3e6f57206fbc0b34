"""Access rules for the buyers app's URLs (see access_table.py for the vocabulary).

Objects belong to the cast's buyer_org; groups used for leaving and invitations are led by a third buyer,
so the cast's other_buyer stands outside them.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.security.access_table_base import BUYERS, Entry, allow

OWNER_ONLY = allow("buyer_owner", forbidden=("buyer_member",))
BUYER_ORG = ("buyer_owner", "buyer_member")


def _make_reseller(cast: Cast) -> None:
    from buyers.models import BuyerProfile

    BuyerProfile.objects.update_or_create(organization=cast.buyer_org, defaults={"is_reseller": True})


def _site(cast: Cast) -> dict[str, Any]:
    from buyers.models import Site

    site = Site.objects.create(
        organization=cast.buyer_org, name="Access site", street="1 Road", city="Leeds", postcode="LS1 1AA"
    )
    return {"pk": site.pk}


def _unarchive(cast: Cast) -> None:
    from buyers.models import Site

    Site.objects.filter(organization=cast.buyer_org).update(archived_at=None)


def _archive(cast: Cast) -> None:
    from django.utils import timezone

    from buyers.models import Site

    Site.objects.filter(organization=cast.buyer_org).update(archived_at=timezone.now())


def _customer(cast: Cast) -> dict[str, Any]:
    from buyers.models import EndCustomer

    _make_reseller(cast)
    customer = EndCustomer.objects.create(reseller=cast.buyer_org, name="End Co", reference="E-1")
    return {"pk": customer.pk}


def _group(lead: Any, name: str, *members: Any) -> Any:
    from django.contrib.auth.hashers import make_password

    from buyers.models import BuyingGroup, GroupMembership

    group = BuyingGroup.objects.create(
        name=name,
        region="North",
        contact_name="Lead",
        contact_email="lead@example.test",
        lead=lead,
        join_code_hash=make_password("x"),
    )
    for org in (lead, *members):
        GroupMembership.objects.create(group=group, organization=org, status="active")
    return group


def _led_group(cast: Cast) -> dict[str, Any]:
    return {"pk": _group(cast.buyer_org, "Led by buyer").pk}


def _third_org() -> Any:
    from tests.factories import OrganizationFactory, member_of

    org = OrganizationFactory(name="Third Buyer Ltd", kind="buyer")
    member_of(org, "owner", email="owner@third.test")
    return org


def _joined_group(cast: Cast) -> dict[str, Any]:
    return {"pk": _group(_third_org(), "Led by a third", cast.buyer_org).pk}


def _request_row(cast: Cast) -> dict[str, Any]:
    from buyers.models import GroupMembership

    group = _group(cast.buyer_org, "With a request")
    row = GroupMembership.objects.create(group=group, organization=_third_org(), status="requested")
    return {"pk": group.pk, "member_pk": row.pk}


def _reset(status: str) -> Any:
    def setup(cast: Cast) -> None:
        from buyers.models import GroupMembership

        GroupMembership.objects.filter(organization__name="Third Buyer Ltd").update(status=status)

    return setup


def _invitation(cast: Cast) -> dict[str, Any]:
    from buyers.models import GroupInvitation

    group = _group(_third_org(), "Inviting buyer")
    row = GroupInvitation.objects.create(group=group, email=cast.buyer_owner.email.lower(), organization=cast.buyer_org)
    return {"pk": row.pk}


def _reinvite(cast: Cast) -> None:
    from buyers.models import GroupInvitation, GroupMembership

    GroupMembership.objects.filter(group__name="Inviting buyer", organization=cast.buyer_org).delete()
    GroupInvitation.objects.filter(group__name="Inviting buyer").update(status="pending")


def _sent_invitation(cast: Cast) -> dict[str, Any]:
    from buyers.models import GroupInvitation

    group = _group(cast.buyer_org, "With an invitation")
    row = GroupInvitation.objects.create(group=group, email="someone@example.test")
    return {"pk": group.pk, "invitation_pk": row.pk}


def _reopen_invitation(cast: Cast) -> None:
    from buyers.models import GroupInvitation

    GroupInvitation.objects.filter(group__name="With an invitation").update(status="pending")


def _rejoin(cast: Cast) -> None:
    from buyers.models import GroupMembership

    GroupMembership.objects.filter(group__name="Led by a third", organization=cast.buyer_org).update(status="active")


SITE_DATA = {"name": "New site", "street": "2 Road", "city": "Leeds", "postcode": "LS1 2AA", "country": "GB"}

BUYERS_TABLE: dict[str, Entry] = {
    "buyers:dashboard": Entry(allow(*BUYERS)),
    # Registration and profile: owners write, members read.
    "buyers:register": Entry(allow("buyer_owner", "other_buyer", forbidden=("buyer_member",))),
    "buyers:register_step": Entry(
        allow("buyer_owner", "other_buyer", forbidden=("buyer_member",)), kwargs=lambda c: {"step": "names"}
    ),
    "buyers:register_submit": Entry(allow("buyer_owner", "other_buyer", forbidden=("buyer_member",)), method="POST"),
    "buyers:profile": Entry(allow(*BUYERS)),
    "buyers:profile_edit": Entry(allow("buyer_owner", "other_buyer", forbidden=("buyer_member",))),
    # Sites: every member of the organisation manages them.
    "buyers:site_list": Entry(allow(*BUYERS)),
    "buyers:site_add": Entry(allow(*BUYERS)),
    "buyers:site_import": Entry(allow(*BUYERS)),
    "buyers:site_template_csv": Entry(allow(*BUYERS)),
    "buyers:site_edit": Entry(allow(*BUYER_ORG), kwargs=_site),
    "buyers:site_archive": Entry(allow(*BUYER_ORG), kwargs=_site, method="POST", setup=_unarchive),
    "buyers:site_restore": Entry(allow(*BUYER_ORG), kwargs=_site, method="POST", setup=_archive),
    # End customers: resellers only (the cast's buyer_org is made one; other_buyer is not).
    "buyers:customer_list": Entry(allow(*BUYER_ORG), setup=_make_reseller),
    "buyers:customer_add": Entry(allow(*BUYER_ORG), setup=_make_reseller),
    "buyers:customer_detail": Entry(allow(*BUYER_ORG), kwargs=_customer),
    "buyers:customer_edit": Entry(allow(*BUYER_ORG), kwargs=_customer),
    # Buying groups.
    "buyers:group_list": Entry(allow(*BUYERS)),
    "buyers:group_create": Entry(allow("buyer_owner", "other_buyer", forbidden=("buyer_member",))),
    "buyers:group_join": Entry(
        allow("buyer_owner", "other_buyer", forbidden=("buyer_member",)),
        method="POST",
        data=lambda c: {"code": "WRONG-CODE"},
    ),
    "buyers:group_detail": Entry(allow(*BUYER_ORG), kwargs=_led_group),
    "buyers:group_rotate_code": Entry(OWNER_ONLY, kwargs=_led_group, method="POST"),
    "buyers:group_invite": Entry(
        OWNER_ONLY, kwargs=_led_group, method="POST", data=lambda c: {"email": "nobody@example.test"}
    ),
    "buyers:group_member_approve": Entry(OWNER_ONLY, kwargs=_request_row, method="POST", setup=_reset("requested")),
    "buyers:group_member_decline": Entry(OWNER_ONLY, kwargs=_request_row, method="POST", setup=_reset("requested")),
    "buyers:group_member_remove": Entry(OWNER_ONLY, kwargs=_request_row, method="POST", setup=_reset("active")),
    "buyers:group_leave": Entry(OWNER_ONLY, kwargs=_joined_group, method="POST", setup=_rejoin),
    "buyers:group_invitation_cancel": Entry(
        OWNER_ONLY, kwargs=_sent_invitation, method="POST", setup=_reopen_invitation
    ),
    "buyers:group_invitation_accept": Entry(OWNER_ONLY, kwargs=_invitation, method="POST", setup=_reinvite),
    "buyers:group_invitation_decline": Entry(OWNER_ONLY, kwargs=_invitation, method="POST", setup=_reinvite),
}
