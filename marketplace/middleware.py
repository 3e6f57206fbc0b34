"""Keep the current request's client address where the audit log can find it."""

from __future__ import annotations

import contextvars
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
