"""Which roles may use each URL of the project. Every URL pattern needs an entry here or in an app's file.

Outcomes: OK (the page or action works), NOT_FOUND (404: outside the actor's scope),
FORBIDDEN (403: in scope, but the role may not), LOGIN (a visitor is sent to sign in).
Objects in kwargs belong to the cast's buyer_org / carrier_org, so "other" roles test someone else's.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.security.access_table_base import (  # noqa: F401
    BUYERS,
    EVERYONE,
    FORBIDDEN,
    GONE,
    LOGIN,
    NOT_FOUND,
    OK,
    SELLERS,
    SIGNED_IN,
    STAFF_ONLY_ADMIN,
    Entry,
    allow,
)


def _org_pk(cast: Cast) -> dict[str, Any]:
    return {"pk": cast.buyer_org.pk}


def _notification(cast: Cast) -> dict[str, Any]:
    from marketplace.models import Notification

    n = Notification.objects.create(recipient=cast.buyer_owner, key="access-table", kind="test", subject="s", body="b")
    return {"pk": n.pk}


def _member_pk(cast: Cast) -> dict[str, Any]:
    from marketplace.models import Membership

    return {"pk": Membership.objects.get(user=cast.buyer_member).pk}


def _invitation_pk(cast: Cast) -> dict[str, Any]:
    from marketplace import services

    invitation, _ = services.invitation_create(
        actor=cast.buyer_owner, organization=cast.buyer_org, email="access@acme.test", role="member", delivery="link"
    )
    return {"pk": invitation.pk}


def _document_pk(cast: Cast) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from marketplace import services

    pdf = SimpleUploadedFile("evidence.pdf", b"%PDF-1.4\n%%EOF\n")
    return {"pk": services.document_add(actor=cast.buyer_owner, organization=cast.buyer_org, file=pdf, kind="tax").pk}


ORG_MEMBERS = (
    "buyer_owner",
    "buyer_member",
    "other_buyer",
    "seller_admin",
    "seller_sales",
    "seller_billing",
    "other_seller",
    "billing_agent",
)
# Owners and admins manage people and submit for review; a buyer's member and a carrier's sales and
# billing staff may not (403).
MANAGERS = ("buyer_owner", "other_buyer", "seller_admin", "other_seller", "billing_agent")
NON_MANAGERS = ("buyer_member", "seller_sales", "seller_billing")

TABLE: dict[str, Entry] = {
    # People, documents and review: every organisation's own; the moderator has none.
    "people": Entry(allow(*ORG_MEMBERS)),
    "people_invite": Entry(
        allow(*MANAGERS, forbidden=NON_MANAGERS), method="POST", data=lambda c: {"email": "", "delivery": "link"}
    ),
    "people_leave": Entry(allow(*ORG_MEMBERS), method="POST", note="last managers are refused with a message"),
    "membership_role": Entry(
        allow("buyer_owner", forbidden=("buyer_member",)),
        kwargs=_member_pk,
        method="POST",
        data=lambda c: {"role": "member"},
    ),
    "membership_remove": Entry(
        allow("buyer_owner", forbidden=("buyer_member",)),
        kwargs=_member_pk,
        method="POST",
        note="the owner removes buyer_member last, after every other role was refused",
    ),
    "invitation_resend": Entry(allow("buyer_owner", forbidden=("buyer_member",)), kwargs=_invitation_pk, method="POST"),
    "invitation_revoke": Entry(allow("buyer_owner", forbidden=("buyer_member",)), kwargs=_invitation_pk, method="POST"),
    "documents": Entry(allow(*ORG_MEMBERS)),
    "document_download": Entry(allow("buyer_owner", "buyer_member", "moderator"), kwargs=_document_pk),
    "organization_submit_review": Entry(allow(*MANAGERS, forbidden=NON_MANAGERS), method="POST"),
    "invitation_accept": Entry(
        dict.fromkeys(EVERYONE, GONE), kwargs=lambda c: {"token": "no-such-token"}, note="public; 410 for a bad link"
    ),
    "choose_password": Entry(SIGNED_IN),
    # Public pages.
    "landing": Entry(EVERYONE),
    "catalogue": Entry(EVERYONE),
    "availability": Entry(EVERYONE),
    "terms": Entry(EVERYONE),
    "healthz": Entry(EVERYONE),
    # Every signed-in user.
    "home": Entry(SIGNED_IN),
    "onboarding": Entry(SIGNED_IN),
    "inbox": Entry(SIGNED_IN),
    "notification_read_all": Entry(SIGNED_IN, method="POST"),
    "notification_read": Entry(allow("buyer_owner"), kwargs=_notification, method="POST"),
    # Moderator console.
    "console:home": Entry(allow("moderator")),
    "console:metrics": Entry(allow("moderator")),
    "console:verification_queue": Entry(allow("moderator")),
    "console:organization_review": Entry(allow("moderator"), kwargs=_org_pk),
    "console:organization_verify": Entry(allow("moderator"), kwargs=_org_pk, method="POST"),
    "console:organization_reject": Entry(
        allow("moderator"), kwargs=_org_pk, method="POST", data=lambda c: {"reason": "Documents are unreadable."}
    ),
    # Portals.
    "billing:home": Entry(allow("moderator", "billing_agent")),
    # Third-party areas, one sample each: allauth's account pages and the Django admin.
    "account_*": Entry(EVERYONE, sample="account_login", note="allauth: public sign-in, sign-up and reset pages"),
    "mfa_*": Entry(SIGNED_IN, sample="mfa_index", note="allauth.mfa: signed-in users manage their own factors"),
    "admin:*": Entry(STAFF_ONLY_ADMIN, sample="admin:index", note="Django admin, staff only via secure_admin_login"),
}

# Each app declares its own URLs in its own file, merged here.
from tests.security.access_buyers import BUYERS_TABLE  # noqa: E402
from tests.security.access_sellers import SELLERS_TABLE  # noqa: E402

TABLE.update(BUYERS_TABLE)
TABLE.update(SELLERS_TABLE)

from tests.security.access_rfq import RFQ_TABLE  # noqa: E402

TABLE.update(RFQ_TABLE)

from tests.security.access_billing import BILLING_TABLE  # noqa: E402

TABLE.update(BILLING_TABLE)
