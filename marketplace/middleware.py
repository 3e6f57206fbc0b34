"""Request-wide context: the client address for the audit log, the user's time zone for display."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

client_address: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_address", default=None)


def request_client_address(request: HttpRequest) -> str | None:
    """Return the client address, trusting as many proxies as allauth is told to."""
    from django.conf import settings

    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client_address.set(request_client_address(request))
        try:
            return self.get_response(request)
        finally:
            client_address.reset(token)


class InitialPasswordMiddleware:
    """Send users who still have an initial password to choose their own before anything else."""

    ALLOWED_PREFIXES = ("/account/choose-password/", "/accounts/logout/", "/static/", "/invitation/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            from django.shortcuts import redirect

            return redirect("choose_password")
        return self.get_response(request)


class UserTimezoneMiddleware:
    """Show times in the signed-in user's zone; anyone else, or an unknown zone, sees UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        name = getattr(user, "timezone", "") if user is not None and user.is_authenticated else ""
        try:
            zone = ZoneInfo(name) if name else None
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class StaffSecondFactorMiddleware:
    """With REQUIRE_STAFF_2FA, moderators and billing agents set up an authenticator before anything else.

    Moderators see every buyer's identity and every bid once it opens, and billing agents every invoice, payment
    and settlement, so in production a password alone is not enough. One with an authenticator already gives its
    code at sign-in (allauth's own flow); one without is sent to set one up, and only the account pages (where
    that happens, and sign-out) stay open.
    """

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        user = getattr(request, "user", None)
        if (
            settings.REQUIRE_STAFF_2FA
            and user is not None
            and user.is_authenticated
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            # An initial password comes first (InitialPasswordMiddleware); sending such a user here would loop.
            and not getattr(user, "must_change_password", False)
            and (user.is_staff or _is_billing_agent(user))
        ):
            from allauth.mfa.models import Authenticator
            from django.contrib import messages
            from django.shortcuts import redirect
            from django.urls import reverse
            from django_htmx.http import HttpResponseClientRedirect

            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                target = reverse("mfa_activate_totp")
                tools = "moderator" if user.is_staff else "billing"
                messages.warning(request, f"Set up two-factor authentication before you use the {tools} tools.")
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(target)
                return redirect(target)
        return self.get_response(request)


def _is_billing_agent(user: Any) -> bool:
    """A member of a billing bureau: the moderator's agent for bill runs, invoices, payments and settlements."""
    from marketplace.models import Organization
    from marketplace.selectors import membership_for_user

    membership = membership_for_user(user)
    return membership is not None and membership.organization.kind == Organization.Kind.BUREAU
