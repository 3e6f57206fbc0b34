"""The vocabulary of the access table: outcomes, entries and helpers.

Outcomes: OK (the page or action works), NOT_FOUND (404: outside the actor's scope),
FORBIDDEN (403: in scope, but the role may not), LOGIN (a visitor is sent to sign in).
Objects in kwargs belong to the cast's buyer_org / carrier_org, so "other" roles test someone else's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import ROLES, Cast

OK, NOT_FOUND, FORBIDDEN, LOGIN, GONE = "ok", "404", "403", "login", "410"
CARRIER_ORG_SELLING = {"seller_admin", "seller_sales"}


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
    """Roles given may; forbidden ones get 403; the visitor is sent to sign in; the rest 404.

    A rule that names the cast's carrier admin or sales user is about carrier_org's own pages, so it must also
    say what carrier_org's billing staff get: a default 404 there would hide a page they need or a hole.
    """
    named = set(roles) | set(forbidden)
    if named & CARRIER_ORG_SELLING and "seller_billing" not in named:
        raise ValueError(f"say what seller_billing gets where {sorted(named & CARRIER_ORG_SELLING)} may")
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
# Carrier staff who sell: the admin and sales user of carrier_org and the other carrier's admin. carrier_org's
# billing user is deliberately not here; every rule says what it gets (see allow).
SELLERS = ("seller_admin", "seller_sales", "other_seller")
STAFF_ONLY_ADMIN = {role: ("ok" if role == "moderator" else "redirect") for role in ROLES}
STAFF_ONLY_ADMIN["visitor"] = "redirect"
