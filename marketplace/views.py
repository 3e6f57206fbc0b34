"""Core pages: landing, home dispatch, onboarding, inbox, catalogue, terms, health."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from marketplace import selectors, services
from marketplace.forms import OnboardingForm
from marketplace.http import AuthedHttpRequest

PORTAL_HOME = {
    "buyer": "buyers:dashboard",
    "seller": "sellers:dashboard",
    "moderator": "console:home",
    "billing": "billing:home",
    "onboarding": "onboarding",
}


@login_not_required
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "marketplace/landing.html", {"categories": selectors.catalogue_categories()})


def home(request: AuthedHttpRequest) -> HttpResponse:
    return redirect(PORTAL_HOME[selectors.portal_for_user(request.user)])


def onboarding(request: AuthedHttpRequest) -> HttpResponse:
    if selectors.portal_for_user(request.user) != "onboarding":
        return redirect("home")
    form = OnboardingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(
                actor=request.user, kind=form.cleaned_data["kind"], **form.organization_fields()
            )
        except services.DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Welcome to Switchboard, {org.display_name}.")
            return redirect("home")
    return render(request, "marketplace/onboarding.html", {"form": form})


def inbox(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.notification_list_for_user(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "marketplace/inbox.html", {"page": page})


@require_POST
def notification_read(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    notification = selectors.notification_get_for_user(user=request.user, pk=pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    if request.htmx:
        return render(request, "marketplace/partials/notification_read.html", {"n": notification})
    if notification.url and notification.url.startswith("/"):
        return redirect(notification.url)
    return redirect("inbox")


@require_POST
def notification_read_all(request: AuthedHttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(actor=request.user)
    messages.info(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("inbox")


@login_not_required
def catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "marketplace/catalogue.html", {"categories": selectors.catalogue_categories()})


@login_not_required
def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "marketplace/terms.html", {"terms": selectors.terms_current()})


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "login": reverse("account_login")})
