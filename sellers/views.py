"""Seller portal pages: dashboard, registration, criteria, coverage and standing offers."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from formtools.wizard.views import SessionWizardView

from marketplace import selectors as core_selectors
from marketplace.csv_import import parse_csv
from marketplace.http import AuthedHttpRequest
from marketplace.models import Membership
from marketplace.services import DomainError
from sellers import forms, selectors, services
from sellers.models import CarrierProfile, StandingOffer
from sellers.regions import format_areas
from sellers.wizard import WIZARD_UPLOAD_HOURS, WizardUploadStorage


def _roles(membership: Membership) -> dict[str, bool]:
    return {
        "is_admin": membership.role == Membership.Role.ADMIN,
        "can_manage": membership.role in (Membership.Role.ADMIN, Membership.Role.SALES),
        "is_billing": membership.role == Membership.Role.BILLING,
    }


# --- Dashboard ---------------------------------------------------------------------------------------


def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.carrier_member_get(user=request.user)
    org = membership.organization
    profile = selectors.carrier_profile_for(organization=org)
    criteria = list(selectors.criteria_sets_for(organization=org))
    return render(
        request,
        "sellers/dashboard.html",
        {
            "org": org,
            **_roles(membership),
            "profile": profile,
            "registration_complete": bool(profile and profile.is_complete),
            "members": core_selectors.people_for_organization(organization=org),
            "criteria": [(c, selectors.criteria_set_describe(c)) for c in criteria],
            "active_criteria": sum(1 for c in criteria if not c.is_paused),
            "expiring": selectors.offers_expiring(organization=org)[:10],
            "offer_counts": selectors.offers_for(organization=org, status="all")
            .values("status")
            .annotate(n=Count("id"))
            .order_by(),
        },
    )


# --- Registration ------------------------------------------------------------------------------------

# Coverage areas per page; a page keeps the areas grouped by service type.
COVERAGE_PAGE_SIZE = 50

WIZARD_STEPS = [
    ("company", forms.CompanyForm),
    ("contact", forms.ContactForm),
    ("regulatory", forms.RegulatoryForm),
    ("services", forms.ServicesForm),
    ("logo", forms.LogoForm),
    ("documents", forms.DocumentForm),
    ("review", forms.ReviewForm),
]
STEP_TITLES = {
    "company": "Your company",
    "contact": "Contact information",
    "regulatory": "Regulatory identifiers",
    "services": "What you sell",
    "logo": "Logo",
    "documents": "Supporting documents",
    "review": "Review and submit",
}


class RegistrationWizard(SessionWizardView):
    """Carrier registration after onboarding; re-running it edits the registration."""

    form_list = WIZARD_STEPS
    template_name = "sellers/register.html"
    file_storage = WizardUploadStorage()
    storage_name = "sellers.wizard.KeptUploadsSessionStorage"

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        self.membership = selectors.carrier_admin_get(user=request.user)
        return super().dispatch(request, *args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        # formtools takes the posted step name on trust and fails with a KeyError on one it does not know:
        # refuse it as formtools refuses a missing management form (400), never a 500.
        step = self.request.POST.get(f"{self.prefix}-current_step")
        if step is not None and step not in self.get_form_list():
            raise SuspiciousOperation("ManagementForm data has been tampered with.")
        return super().post(*args, **kwargs)

    def get_form_initial(self, step: str) -> dict[str, Any]:
        org = self.membership.organization
        profile = selectors.carrier_profile_for(organization=org)
        if step == "company":
            initial = {"name": org.name, "trading_name": org.trading_name}
            if profile:
                initial.update(
                    {f: getattr(profile, f) for f in ("company_number", "vat_number", "website", "description")}
                )
            return initial
        if step == "contact":
            return {
                f: getattr(org, f)
                for f in ("street", "city", "region", "postcode", "country", "phone", "contact_email")
            }
        if step == "regulatory" and profile:
            return {"regulator": profile.regulator, "regulator_reference": profile.regulator_reference}
        if step == "services" and profile:
            return {"categories": list(profile.categories.all())}
        if step == "review":
            return {"submit_for_review": org.verification_status in ("unverified", "rejected")}
        return {}

    def get_form(self, step: str | None = None, data: Any = None, files: Any = None) -> Any:
        step = self.steps.current if step is None else step
        form = super().get_form(step, data, files)
        # A browser cannot refill a file input, so a step revisited after an upload says what it holds
        # and may be left empty; the wizard storage keeps the file until a new one replaces it.
        forms.keep_uploads(form, self.storage.kept_file_names(step))
        return form

    def get_context_data(self, form: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(form=form, **kwargs)
        org = self.membership.organization
        profile = selectors.carrier_profile_for(organization=org)
        new_logo = bool(self.storage.kept_file_names("logo")) if self.steps.current == "logo" else False
        context.update(
            {
                "org": org,
                "step_title": STEP_TITLES[self.steps.current],
                "step_titles": [STEP_TITLES[name] for name, _ in WIZARD_STEPS],
                "profile": profile,
                "show_current_logo": bool(profile and profile.logo) and not new_logo,
            }
        )
        if self.steps.current == "review":
            summary = self.get_all_cleaned_data()
            context["summary"] = summary
            context["regulator_label"] = dict(CarrierProfile.Regulator.choices).get(summary.get("regulator", ""), "")
        for _step, name in self.storage.lost_files:
            messages.warning(
                self.request,
                f"“{name}” is no longer held (uploads wait {WIZARD_UPLOAD_HOURS} hours at most); choose it again.",
            )
        self.storage.lost_files.clear()
        return context

    def render_done(self, form: Any, **kwargs: Any) -> HttpResponse:
        for step in self.get_form_list():
            self.storage.kept_file_names(step)
        if self.storage.lost_files:
            # Finishing now would drop the document without a word; send the carrier to choose it again.
            step = self.storage.lost_files[0][0]
            self.storage.current_step = step
            return self.render(
                self.get_form(step, data=self.storage.get_step_data(step), files=self.storage.get_step_files(step))
            )
        return super().render_done(form, **kwargs)

    def done(self, form_list: Any, **kwargs: Any) -> HttpResponse:
        data = {name: form.cleaned_data for name, form in kwargs["form_dict"].items()}
        company, contact, regulatory = data["company"], data["contact"], data["regulatory"]
        org = self.membership.organization
        try:
            services.carrier_registration_save(
                actor=self.request.user,
                organization=org,
                org_fields={"name": company["name"], "trading_name": company["trading_name"], **contact},
                profile_fields={
                    **{f: company[f] for f in ("company_number", "vat_number", "website", "description")},
                    **regulatory,
                },
                categories=data["services"]["categories"],
                logo=data["logo"].get("logo"),
                document=data["documents"].get("document"),
                document_kind=data["documents"].get("kind") or "other",
                submit=data["review"].get("submit_for_review", False),
            )
        except DomainError as exc:
            messages.error(self.request, str(exc))
            return redirect("sellers:profile")
        org.refresh_from_db()
        if org.verification_status == "pending":
            messages.success(self.request, "Your registration is with the moderator for review.")
        else:
            messages.success(self.request, "Your registration is saved.")
        return redirect("sellers:dashboard")


registration_wizard = RegistrationWizard.as_view()


def profile(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.carrier_member_get(user=request.user)
    org = membership.organization
    return render(
        request,
        "sellers/profile.html",
        {
            "org": org,
            **_roles(membership),
            "profile": selectors.carrier_profile_for(organization=org),
            "documents": core_selectors.documents_for_organization(organization=org)[:10],
        },
    )


def logo(request: AuthedHttpRequest, org_pk: int) -> HttpResponse:
    carrier = selectors.logo_get_for_user(user=request.user, organization_pk=org_pk)
    content_type = "image/svg+xml" if carrier.logo_type == CarrierProfile.LogoType.SVG else "image/png"
    with carrier.logo.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type=content_type)
    # Even a sanitised SVG is served so that nothing in it could run or load: no scripts, no fetches.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="logo.{carrier.logo_type}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- Criteria ----------------------------------------------------------------------------------------


def criteria_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.carrier_member_get(user=request.user)
    page = Paginator(selectors.criteria_sets_for(organization=membership.organization), 20).get_page(
        request.GET.get("page")
    )
    rows = [(c, selectors.criteria_set_describe(c)) for c in page]
    return render(
        request,
        "sellers/criteria_list.html",
        {"org": membership.organization, **_roles(membership), "page": page, "rows": rows},
    )


def _criteria_initial(criteria: Any) -> dict[str, Any]:
    initial = {f: getattr(criteria, f) for f in services.CRITERIA_FIELDS}
    initial["service_types"] = list(criteria.service_types.all())
    initial["areas"] = format_areas(criteria.regions.all())
    initial["industries"] = [i.industry for i in criteria.industries.all()]
    return initial


def criteria_create(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.carrier_sales_get(user=request.user)
    org = membership.organization
    form = forms.CriteriaSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            criteria = services.criteria_set_create(actor=request.user, organization=org, data=form.cleaned_data)
        except DomainError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Criteria set “{criteria.name}” is active.")
            return redirect("sellers:criteria_list")
    elif request.method != "POST":
        coverage = selectors.coverage_for(organization=org)
        form.initial["areas"] = format_areas(
            selectors.coverage_areas_for_service_types(
                organization=org, service_type_ids=list({c.service_type_id for c in coverage})
            )
        )
    return render(
        request,
        "sellers/criteria_form.html",
        {"org": org, "form": form, "title": "New criteria set", "from_coverage": bool(form.initial.get("areas"))},
        status=400 if request.method == "POST" else 200,
    )


def criteria_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    criteria = selectors.criteria_set_get_for_member(user=request.user, pk=pk, write=True)
    form = forms.CriteriaSetForm(request.POST or None, initial=_criteria_initial(criteria))
    if request.method == "POST" and form.is_valid():
        try:
            services.criteria_set_update(actor=request.user, criteria_set=criteria, data=form.cleaned_data)
        except DomainError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Criteria set “{form.cleaned_data['name']}” is saved.")
            return redirect("sellers:criteria_list")
    return render(
        request,
        "sellers/criteria_form.html",
        {"org": criteria.organization, "form": form, "title": f"Edit “{criteria.name}”", "criteria": criteria},
        status=400 if request.method == "POST" else 200,
    )


def _criteria_row(request: AuthedHttpRequest, criteria: Any) -> HttpResponse:
    criteria = selectors.criteria_set_get_for_member(user=request.user, pk=criteria.pk)
    return render(
        request,
        "sellers/_criteria_row.html",
        {"c": criteria, "sentence": selectors.criteria_set_describe(criteria), "can_manage": True},
    )


def _pause(request: AuthedHttpRequest, pk: int, paused: bool) -> HttpResponse:
    criteria = selectors.criteria_set_get_for_member(user=request.user, pk=pk, write=True)
    try:
        services.criteria_set_pause(actor=request.user, criteria_set=criteria, paused=paused)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        if request.htmx:
            return _criteria_row(request, criteria)
        messages.success(request, f"“{criteria.name}” is {'paused' if paused else 'active again'}.")
    return redirect("sellers:criteria_list")


@require_POST
def criteria_pause(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _pause(request, pk, True)


@require_POST
def criteria_resume(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _pause(request, pk, False)


@require_POST
def criteria_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    criteria = selectors.criteria_set_get_for_member(user=request.user, pk=pk, write=True)
    services.criteria_set_delete(actor=request.user, criteria_set=criteria)
    messages.success(request, f"Criteria set “{criteria.name}” is deleted.")
    return redirect("sellers:criteria_list")


# --- Coverage ----------------------------------------------------------------------------------------


def coverage(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.carrier_member_get(user=request.user)
    org = membership.organization
    form = forms.CoverageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        selectors.carrier_sales_get(user=request.user)
        if form.is_valid():
            try:
                added = services.coverage_add(
                    actor=request.user,
                    organization=org,
                    service_type=form.cleaned_data["service_type"],
                    areas=form.cleaned_data["areas"],
                )
            except DomainError as exc:
                form.add_error("areas", str(exc))
            else:
                messages.success(request, f"Added {len(added)} area{'s' if len(added) != 1 else ''}.")
                return redirect("sellers:coverage")
        status = 400
    page = Paginator(selectors.coverage_for(organization=org), COVERAGE_PAGE_SIZE).get_page(request.GET.get("page"))
    by_type: dict[Any, list[Any]] = {}
    for area in page.object_list:
        by_type.setdefault(area.service_type, []).append(area)
    return render(
        request,
        "sellers/coverage.html",
        {"org": org, **_roles(membership), "form": form, "by_type": list(by_type.items()), "page": page},
        status=status,
    )


@require_POST
def coverage_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    area = selectors.coverage_area_get_for_sales(user=request.user, pk=pk)
    services.coverage_remove(actor=request.user, area=area)
    messages.success(request, f"Removed {area} for {area.service_type.name}.")
    return redirect("sellers:coverage")


# --- Standing offers ---------------------------------------------------------------------------------


def offer_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.carrier_member_get(user=request.user)
    filters = forms.OfferFilterForm(request.GET or None)
    status = (filters.cleaned_data.get("status") or "active") if filters.is_valid() else "active"
    page = Paginator(selectors.offers_for(organization=membership.organization, status=status), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "sellers/offer_list.html",
        {
            "org": membership.organization,
            **_roles(membership),
            "page": page,
            "status": status,
            "today": timezone.localdate(),
        },
    )


def _terms_initial(offer: StandingOffer) -> dict[str, Any]:
    version = offer.current_version
    assert version is not None  # noqa: S101  (every offer is created with its first version)
    initial: dict[str, Any] = {f: getattr(version, f) for f in services.VERSION_FIELDS}
    initial["service_type"] = offer.service_type.code
    initial["usage_rates"] = "\n".join(f"{r.rate.normalize():f} per {r.unit}" for r in version.rates.all())
    initial["areas"] = format_areas(version.regions.all())
    return initial


def offer_create(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.carrier_sales_get(user=request.user)
    org = membership.organization
    form = forms.OfferForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        offer = services.standing_offer_create(
            actor=request.user,
            organization=org,
            service_type=form.cleaned_data["service_type"],
            terms=form.cleaned_data,
        )
        messages.success(request, f"Offer “{form.cleaned_data['title']}” is live.")
        return redirect("sellers:offer_detail", pk=offer.pk)
    return render(
        request,
        "sellers/offer_form.html",
        {"org": org, "form": form, "title": "New standing offer"},
        status=400 if request.method == "POST" else 200,
    )


def offer_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    offer = selectors.offer_get_for_member(user=request.user, pk=pk)
    membership = selectors.carrier_member_get(user=request.user)
    frozen_until = services.offer_frozen_until(offer)
    return render(
        request,
        "sellers/offer_detail.html",
        {
            "org": offer.organization,
            **_roles(membership),
            "offer": offer,
            "versions": selectors.offer_versions(offer=offer),
            "frozen_until": frozen_until,
            "can_change": _roles(membership)["can_manage"] and offer.status == "active" and frozen_until is None,
        },
    )


def offer_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    offer = selectors.offer_get_for_member(user=request.user, pk=pk, write=True)
    refusal = services.offer_change_refusal(offer)
    if refusal:
        messages.error(request, refusal)
        return redirect("sellers:offer_detail", pk=offer.pk)
    form = forms.OfferForm(request.POST or None, initial=_terms_initial(offer))
    form.fields["service_type"].disabled = True  # a different service is a different offer
    if request.method == "POST" and form.is_valid():
        try:
            version = services.standing_offer_revise(actor=request.user, offer=offer, terms=form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved as version {version.number}; earlier versions are kept.")
            return redirect("sellers:offer_detail", pk=offer.pk)
    return render(
        request,
        "sellers/offer_form.html",
        {"org": offer.organization, "form": form, "title": f"Edit “{offer}”", "offer": offer},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def offer_retire(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    offer = selectors.offer_get_for_member(user=request.user, pk=pk, write=True)
    try:
        services.standing_offer_retire(actor=request.user, offer=offer)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"“{offer}” is retired; buyers no longer see it.")
    return redirect("sellers:offer_detail", pk=offer.pk)


def offer_import(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.carrier_sales_get(user=request.user)
    form = forms.OfferImportForm(request.POST or None, request.FILES or None)
    errors: list[Any] = []
    if request.method == "POST" and form.is_valid():
        result = parse_csv(form.cleaned_data["file"], forms.OfferForm, max_rows=2000)
        errors = list(result.errors)
        if result.ok:
            try:
                offers = services.standing_offers_import(
                    actor=request.user, organization=membership.organization, rows=result.rows
                )
            except DomainError as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(request, f"Imported {len(offers)} offer{'s' if len(offers) != 1 else ''}.")
                return redirect("sellers:offer_list")
    return render(
        request,
        "sellers/offer_import.html",
        {"org": membership.organization, "form": form, "errors": errors, "columns": list(forms.OfferForm.base_fields)},
        status=400 if request.method == "POST" else 200,
    )


TEMPLATE_ROWS = [
    {
        "service_type": "internet-dedicated",
        "title": "Fibre leased line, 36 months",
        "capacity_min": "100",
        "capacity_max": "1000",
        "capacity_unit": "Mbps",
        "term_months": "36",
        "monthly_charge": "325.00",
        "one_time_charge": "1500.00",
        "currency": "GBP",
        "usage_rates": "",
        "areas": "GB, Greater London, EC E N W; GB, West Yorkshire, LS",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
        "notes": "Install within 60 working days.",
    },
    {
        "service_type": "voice-sip-trunking",
        "title": "SIP trunk, per channel",
        "capacity_min": "2",
        "capacity_max": "100",
        "capacity_unit": "channels",
        "term_months": "12",
        "monthly_charge": "8.50",
        "one_time_charge": "0",
        "currency": "GBP",
        "usage_rates": "0.009 per minute",
        "areas": "GB",
        "valid_from": "2026-01-01",
        "valid_until": "",
        "notes": "",
    },
]


def offer_import_template(request: AuthedHttpRequest) -> HttpResponse:
    selectors.carrier_member_get(user=request.user)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(forms.OfferForm.base_fields))
    writer.writeheader()
    today = timezone.localdate()
    for row in TEMPLATE_ROWS:
        # Dates from today, so the template imports as it is whenever it is downloaded.
        until = (today + timedelta(days=365)).isoformat() if row["valid_until"] else ""
        writer.writerow({**row, "valid_from": today.isoformat(), "valid_until": until})
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="standing-offers-template.csv"'
    return response
