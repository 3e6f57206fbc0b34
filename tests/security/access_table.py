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


TABLE: dict[str, Entry] = {
    # Public pages.
    "landing": Entry(EVERYONE),
    "catalogue": Entry(EVERYONE),
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
