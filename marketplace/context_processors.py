from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from marketplace.selectors import membership_for_user, notification_unread_count, portal_for_user


def portal(request: HttpRequest) -> dict[str, Any]:
    """Tell every template which area the user is in and how many notifications wait."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"portal": "public", "unread_count": 0, "membership": None}
    return {
        "portal": portal_for_user(user),
        "membership": membership_for_user(user),
        "unread_count": notification_unread_count(user=user),
    }
