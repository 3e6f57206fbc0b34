"""Which roles may use each URL of the project. Every URL pattern needs an entry here.

Outcomes: OK (the page or action works), NOT_FOUND (404: outside the actor's scope),
FORBIDDEN (403: in scope, but the role may not), LOGIN (a visitor is sent to sign in).
Objects in kwargs belong to the cast's buyer_org / carrier_org, so "other" roles test someone else's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import ROLES, Cast

OK, NOT_FOUND, FORBIDDEN, LOGIN = "ok", "404", "403", "login"


@dataclass
class Entry:
    expect: dict[str, str]
    kwargs: Callable[[Cast], dict[str, Any]] | None = None
    method: str = "GET"
    data: Callable[[Cast], dict[str, Any]] | None = None
    # For glob keys: the named URL actually requested to stand for the group.
    sample: str | None = None
    note: str = ""
    query: str = ""
    setup: Callable[[Cast], None] | None = field(default=None, repr=False)


def allow(*roles: str, forbidden: tuple[str, ...] = (), default: str = NOT_FOUND) -> dict[str, str]:
    """Roles given may; forbidden ones get 403; the visitor is sent to sign in; the rest 404."""
    expect = {}
    for role in ROLES:
        if role in roles:
            expect[role] = OK
        elif role in forbidden:
            expect[role] = FORBIDDEN
        elif role == "visitor":
            expect[role] = LOGIN
        else:
            expect[role] = default
    return expect


EVERYONE = {role: OK for role in ROLES}
SIGNED_IN = allow(*[r for r in ROLES if r != "visitor"])
BUYERS = ("buyer_owner", "buyer_member", "other_buyer")
SELLERS = ("seller_admin", "seller_sales", "other_seller")
STAFF_ONLY_ADMIN = {role: ("ok" if role == "moderator" else "redirect") for role in ROLES}
STAFF_ONLY_ADMIN["visitor"] = "redirect"


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
    "buyers:dashboard": Entry(allow(*BUYERS)),
    "sellers:dashboard": Entry(allow(*SELLERS)),
    "billing:home": Entry(allow("moderator", "billing_agent")),
    # Third-party areas, one sample each: allauth's account pages and the Django admin.
    "account_*": Entry(EVERYONE, sample="account_login", note="allauth: public sign-in, sign-up and reset pages"),
    "mfa_*": Entry(SIGNED_IN, sample="mfa_index", note="allauth.mfa: signed-in users manage their own factors"),
    "admin:*": Entry(STAFF_ONLY_ADMIN, sample="admin:index", note="Django admin, staff only via secure_admin_login"),
}
