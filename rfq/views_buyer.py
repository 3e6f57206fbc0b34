"""The buyer's pages for requests: list, wizard, detail, comparison, award and terms."""

from __future__ import annotations

import csv
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms as djforms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from buyers.forms import SiteForm
from buyers.models import GroupMembership, Site
from buyers.selectors import groups_annotated
from buyers.services import site_create
from marketplace.catalogue import feature_form_class
from marketplace.http import AuthedHttpRequest
from marketplace.models import Organization, ServiceType
from marketplace.selectors import buyer_membership_get, catalogue_categories, terms_current
from marketplace.services import DomainError
from rfq import forms_buyer as forms
from rfq import selectors, services
from rfq.models import Bid, Rfq, RfqSite, Selection
from rfq.usage_terms import terms_phrases

PAGE_SIZE = 25
S = Rfq.Status
STEP_LABELS = {
    "sites": "Sites",
    "services": "Services",
    "billing": "Billing",
    "usage": "Prior usage",
    "visibility": "Who may see it",
    "schedule": "Schedule",
    "review": "Review",
}
ROW_PREFIX = re.compile(r"^[lr][0-9a-z]{1,16}$")


def _org(request: AuthedHttpRequest) -> Organization:
    return buyer_membership_get(user=request.user).organization


def _zone(request: AuthedHttpRequest) -> Any:
    return forms.user_zone(request.user.timezone)


def _page(request: AuthedHttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context.setdefault("user_zone", _zone(request))
    return render(request, template, context, status=status)


def _open_if_due(rfq: Rfq) -> Rfq:
    """Open the bids now if the deadline passed and the beat task has not yet run."""
    if rfq.status == S.OPEN and rfq.bid_deadline is not None and rfq.bid_deadline <= timezone.now():
        services.rfq_open_bids(rfq_id=rfq.pk)
        rfq.refresh_from_db()
    return rfq


# --- list and creation ---------------------------------------------------------------------------------


def rfq_list(request: AuthedHttpRequest) -> HttpResponse:
    org = _org(request)
    filters = forms.StatusFilterForm(request.GET)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    page = Paginator(selectors.rfq_list_for_buyer(user=request.user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return _page(request, "rfq/buyer/list.html", {"org": org, "page": page, "filters": filters, "status": status})


def _groups_led(org: Organization) -> QuerySet[Any] | None:
    led = groups_annotated().filter(lead=org)
    return led.filter(is_qualified=True) if led.exists() else None  # type: ignore[misc]


def rfq_create(request: AuthedHttpRequest) -> HttpResponse:
    org = _org(request)
    groups = _groups_led(org)
    form = forms.RfqCreateForm(request.POST or None, groups=groups)
    if request.method == "POST" and form.is_valid():
        try:
            rfq = services.rfq_create_draft(
                actor=request.user, buyer=org, title=form.cleaned_data["title"], group=form.cleaned_data.get("group")
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("rfq:step", pk=rfq.pk, step="sites")
    return _page(
        request,
        "rfq/buyer/create.html",
        {"form": form, "leads_groups": groups is not None},
        status=400 if form.errors else 200,
    )


# --- the wizard ------------------------------------------------------------------------------------------


def _steps(rfq: Rfq, current: str) -> list[dict[str, Any]]:
    reached = services.WIZARD_STEPS.index(rfq.wizard_step) if rfq.wizard_step in services.WIZARD_STEPS else 0
    return [
        {"name": name, "label": STEP_LABELS[name], "number": i + 1, "current": name == current, "done": i < reached}
        for i, name in enumerate(services.WIZARD_STEPS)
    ]


def _next_step(step: str) -> str:
    index = services.WIZARD_STEPS.index(step)
    return services.WIZARD_STEPS[min(index + 1, len(services.WIZARD_STEPS) - 1)]


def _draft_for_editor(request: AuthedHttpRequest, pk: int) -> Rfq:
    return selectors.rfq_get_for_buyer_editor(user=request.user, pk=pk)


def rfq_step(request: AuthedHttpRequest, pk: int, step: str) -> HttpResponse:
    rfq = _draft_for_editor(request, pk)
    if step not in services.WIZARD_STEPS:
        raise Http404("No such step.")
    if rfq.status != S.DRAFT:
        messages.info(request, "This request is published: change it with an addendum.")
        return redirect("rfq:detail", pk=rfq.pk)
    index = services.WIZARD_STEPS.index(step)
    context: dict[str, Any] = {
        "rfq": rfq,
        "step": step,
        "steps": _steps(rfq, step),
        "title": STEP_LABELS[step],
        "step_number": index + 1,
        "previous": services.WIZARD_STEPS[index - 1] if index else None,
    }
    handler = {
        "sites": _step_sites,
        "services": _step_services,
        "billing": _step_billing,
        "usage": _step_usage,
        "visibility": _step_visibility,
        "schedule": _step_schedule,
        "review": _step_review,
    }[step]
    return handler(request, rfq, context)


def _after_save(request: AuthedHttpRequest, rfq: Rfq, step: str) -> HttpResponse:
    messages.success(request, f"{STEP_LABELS[step]} saved.")
    return redirect("rfq:step", pk=rfq.pk, step=_next_step(step))


def _candidate_sites(rfq: Rfq) -> QuerySet[Site]:
    orgs = {rfq.buyer_id}
    if rfq.group_id:
        orgs |= set(
            GroupMembership.objects.filter(group_id=rfq.group_id, status=GroupMembership.Status.ACTIVE).values_list(
                "organization_id", flat=True
            )
        )
    return (
        Site.objects.filter(organization_id__in=orgs, archived_at__isnull=True)
        .select_related("organization")
        .order_by("organization__name", "name")
    )


def _step_sites(request: AuthedHttpRequest, rfq: Rfq, context: dict[str, Any]) -> HttpResponse:
    candidates = _candidate_sites(rfq)
    chosen = list(rfq.rfq_sites.values_list("site_id", flat=True))
    adding = request.method == "POST" and "add_site" in request.POST
    form = forms.SitesStepForm(
        request.POST if request.method == "POST" and not adding else None,
        sites=candidates,
        initial={"title": rfq.title, "sites": chosen},
    )
    site_form = SiteForm(request.POST if adding else None, prefix="new", initial={"country": rfq.buyer.country or "GB"})
    if adding and site_form.is_valid():
        try:
            site = site_create(actor=request.user, organization=rfq.buyer, **site_form.cleaned_data)
            services.rfq_set_sites(actor=request.user, rfq=rfq, sites=[*Site.objects.filter(pk__in=chosen), site])
        except DomainError as exc:
            site_form.add_error("name" if "name" in str(exc) else None, str(exc))
        else:
            messages.success(request, f"Added {site.name} to your sites and to this request.")
            return redirect("rfq:step", pk=rfq.pk, step="sites")
    elif request.method == "POST" and not adding and form.is_valid():
        try:
            services.rfq_set_sites(
                actor=request.user, rfq=rfq, sites=list(form.cleaned_data["sites"]), title=form.cleaned_data["title"]
            )
        except DomainError as exc:
            form.add_error("sites", str(exc))
        else:
            return _after_save(request, rfq, "sites")
    context.update(form=form, site_form=site_form, has_candidates=candidates.exists())
    invalid = bool(form.errors or site_form.errors)
    return _page(request, "rfq/buyer/step_sites.html", context, status=400 if invalid else 200)


@dataclass
class ServiceRow:
    prefix: str
    rfq_site: RfqSite
    service_type: ServiceType
    form: djforms.Form
    features: djforms.Form


def _service_types() -> dict[int, ServiceType]:
    return {t.pk: t for t in ServiceType.objects.filter(is_active=True).select_related("category")}


def _new_row(rfq_site: RfqSite, service_type: ServiceType, prefix: str | None = None) -> ServiceRow:
    prefix = prefix or "r" + secrets.token_hex(4)
    return ServiceRow(
        prefix=prefix,
        rfq_site=rfq_site,
        service_type=service_type,
        form=forms.LineRowForm(prefix=prefix, initial={"rfq_site": rfq_site.pk, "service_type": service_type.pk}),
        features=feature_form_class(service_type)(prefix=f"{prefix}-f"),
    )


def _rows_from_post(
    data: Any, rfq_sites: dict[int, RfqSite], types: dict[int, ServiceType]
) -> tuple[list[ServiceRow], list[str]]:
    # isdecimal, not isdigit, before int() here and below: "²" is a digit that int() refuses.
    rows, problems = [], []
    for prefix in dict.fromkeys(data.getlist("rows")):
        if not ROW_PREFIX.match(prefix):
            continue
        site_raw, type_raw = data.get(f"{prefix}-rfq_site", ""), data.get(f"{prefix}-service_type", "")
        rfq_site = rfq_sites.get(int(site_raw)) if site_raw.isdecimal() else None
        service_type = types.get(int(type_raw)) if type_raw.isdecimal() else None
        if rfq_site is None or service_type is None:
            problems.append("A service row pointed at a site or service that is not available; it was left out.")
            continue
        rows.append(
            ServiceRow(
                prefix=prefix,
                rfq_site=rfq_site,
                service_type=service_type,
                form=forms.LineRowForm(data, prefix=prefix),
                features=feature_form_class(service_type)(data, prefix=f"{prefix}-f"),
            )
        )
    return rows, problems


def _rows_from_lines(rfq: Rfq, rfq_sites: dict[int, RfqSite]) -> list[ServiceRow]:
    rows = []
    for line in rfq.lines.select_related("service_type").order_by("position", "id"):
        prefix = f"l{line.pk}"
        rows.append(
            ServiceRow(
                prefix=prefix,
                rfq_site=rfq_sites[line.rfq_site_id],
                service_type=line.service_type,
                form=forms.LineRowForm(
                    prefix=prefix,
                    initial={
                        "rfq_site": line.rfq_site_id,
                        "service_type": line.service_type_id,
                        "quantity": line.quantity,
                    },
                ),
                features=feature_form_class(line.service_type)(prefix=f"{prefix}-f", initial=line.features),
            )
        )
    return rows


def _step_services(request: AuthedHttpRequest, rfq: Rfq, context: dict[str, Any]) -> HttpResponse:
    rfq_sites = {rs.pk: rs for rs in rfq.rfq_sites.select_related("site", "organization").order_by("site__name")}
    types = _service_types()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        rows, problems = _rows_from_post(request.POST, rfq_sites, types)
        if "add" in request.POST:  # without JavaScript: add a row and show the page again
            site_raw = request.POST["add"]
            rfq_site = rfq_sites.get(int(site_raw)) if site_raw.isdecimal() else None
            type_raw = request.POST.get(f"add-{site_raw}", "")
            service_type = types.get(int(type_raw)) if type_raw.isdecimal() else None
            if rfq_site and service_type:
                rows.append(_new_row(rfq_site, service_type))
            else:
                problems.append("Choose a service to add.")
        elif "remove" in request.POST:
            rows = [r for r in rows if r.prefix != request.POST["remove"]]
        else:
            valid = all([r.form.is_valid() & r.features.is_valid() for r in rows]) and not problems
            if not rows:
                problems.append("Add at least one service to a site.")
            elif valid:
                lines = [
                    {
                        "rfq_site": r.rfq_site,
                        "service_type": r.service_type,
                        "quantity": r.form.cleaned_data["quantity"],
                        "features": forms.json_safe(r.features.cleaned_data),
                    }
                    for r in rows
                ]
                try:
                    services.rfq_set_lines(actor=request.user, rfq=rfq, lines=lines)
                except DomainError as exc:
                    problems.append(str(exc))
                else:
                    empty = [rs.site.name for rs in rfq_sites.values() if not any(r.rfq_site == rs for r in rows)]
                    if empty:
                        messages.warning(request, "No service yet at: " + ", ".join(empty) + ".")
                    return _after_save(request, rfq, "services")
            status = 400
    else:
        rows = _rows_from_lines(rfq, rfq_sites)
    context.update(
        sites=[{"rfq_site": rs, "rows": [r for r in rows if r.rfq_site.pk == rs.pk]} for rs in rfq_sites.values()],
        categories=catalogue_categories(),
        problems=problems,
    )
    return _page(request, "rfq/buyer/step_services.html", context, status=status)


def service_row(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """htmx: a blank service row for a site (or nothing, to remove one)."""
    rfq = _draft_for_editor(request, pk)
    if rfq.status != S.DRAFT:
        raise Http404("Only a draft has editable services.")
    if request.GET.get("remove"):
        return HttpResponse("")
    site_raw = request.GET.get("add", "")
    type_raw = request.GET.get(f"add-{site_raw}", "")
    rfq_site = rfq.rfq_sites.select_related("site").filter(pk=site_raw).first() if site_raw.isdecimal() else None
    service_type = ServiceType.objects.filter(pk=type_raw, is_active=True).first() if type_raw.isdecimal() else None
    if rfq_site is None or service_type is None:
        return HttpResponse('<p class="flash flash-error" role="alert">Choose a service to add.</p>', status=400)
    return _page(request, "rfq/buyer/partials/service_row.html", {"rfq": rfq, "row": _new_row(rfq_site, service_type)})


def _step_billing(request: AuthedHttpRequest, rfq: Rfq, context: dict[str, Any]) -> HttpResponse:
    form = forms.BillingStepForm(
        request.POST or None, initial={name: getattr(rfq, name) for name in services.BILLING_FIELDS}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.rfq_set_billing(actor=request.user, rfq=rfq, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return _after_save(request, rfq, "billing")
    context["form"] = form
    return _page(request, "rfq/buyer/step_form.html", context, status=400 if form.errors else 200)


def _step_usage(request: AuthedHttpRequest, rfq: Rfq, context: dict[str, Any]) -> HttpResponse:
    lines = list(
        rfq.lines.select_related("service_type", "rfq_site__site").order_by("rfq_site__site__name", "position")
    )
    uploading = request.method == "POST" and "upload" in request.POST
    data = request.POST if request.method == "POST" and not uploading else None
    line_forms = [
        (
            line,
            forms.UsageLineForm(
                data,
                prefix=f"u{line.pk}",
                initial={
                    "current_carrier": line.current_carrier,
                    "prior_monthly_spend": line.prior_monthly_spend,
                    "prior_volume": line.prior_volume,
                },
            ),
        )
        for line in lines
    ]
    bill_form = forms.PriorBillForm(request.POST if uploading else None, request.FILES if uploading else None)
    if uploading and bill_form.is_valid():
        try:
            bill = services.prior_bill_add(actor=request.user, rfq=rfq, file=bill_form.cleaned_data["file"])
        except DomainError as exc:
            bill_form.add_error("file", str(exc))
        except djforms.ValidationError as exc:
            bill_form.add_error("file", exc)
        else:
            messages.success(request, f"Uploaded {bill.original_name}.")
            return redirect("rfq:step", pk=rfq.pk, step="usage")
    elif data is not None and all([f.is_valid() for _, f in line_forms]):
        usage = {line.pk: f.cleaned_data for line, f in line_forms}
        try:
            services.rfq_set_usage(actor=request.user, rfq=rfq, usage=usage)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            return _after_save(request, rfq, "usage")
    invalid = bool(bill_form.errors) or any(f.errors for _, f in line_forms)
    context.update(line_forms=line_forms, bill_form=bill_form, bills=rfq.prior_bills.all())
    return _page(request, "rfq/buyer/step_usage.html", context, status=400 if invalid else 200)


def _step_visibility(request: AuthedHttpRequest, rfq: Rfq, context: dict[str, Any]) -> HttpResponse:
    form = forms.VisibilityStepForm(
        request.POST or None,
        initial={
            "visibility": rfq.visibility,
            "carriers": list(rfq.listed_carriers.all()),
            "site_precision": rfq.site_precision,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.rfq_set_visibility(
                actor=request.user,
                rfq=rfq,
                visibility=form.cleaned_data["visibility"],
                carriers=list(form.cleaned_data["carriers"]),
                site_precision=form.cleaned_data["site_precision"] or None,
            )
        except DomainError as exc:
            form.add_error("carriers", str(exc))
        else:
            return _after_save(request, rfq, "visibility")
    context["form"] = form
    return _page(request, "rfq/buyer/step_form.html", context, status=400 if form.errors else 200)


def _local(value: Any, zone: Any) -> Any:
    return value.astimezone(zone).replace(tzinfo=None) if value else None


def _step_schedule(request: AuthedHttpRequest, rfq: Rfq, context: dict[str, Any]) -> HttpResponse:
    zone = _zone(request)
    form = forms.ScheduleStepForm(
        request.POST or None,
        zone=zone,
        initial={
            "bid_deadline": _local(rfq.bid_deadline, zone),
            "decision_deadline": _local(rfq.decision_deadline, zone),
            "desired_start": rfq.desired_start,
            "term_months": rfq.term_months,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.rfq_set_schedule(actor=request.user, rfq=rfq, **form.cleaned_data)
        except DomainError as exc:
            form.add_error("bid_deadline" if "bid deadline" in str(exc) else "decision_deadline", str(exc))
        else:
            return _after_save(request, rfq, "schedule")
    context.update(form=form, min_hours=settings.RFQ_MIN_BID_WINDOW_HOURS)
    return _page(request, "rfq/buyer/step_form.html", context, status=400 if form.errors else 200)


def _sites_with_lines(rfq: Rfq) -> list[RfqSite]:
    rfq_sites = list(
        rfq.rfq_sites.select_related("site", "organization", "confirmed_by")
        .prefetch_related("lines__service_type")
        .order_by("organization__name", "site__name")
    )
    for rs in rfq_sites:
        for line in rs.lines.all():
            # The schema's labels and units, in its order, for the summary tables.
            labels = {
                f["name"]: f"{f.get('label') or f['name']}" + (f" ({f['unit']})" if f.get("unit") else "")
                for f in line.service_type.features
            }
            line.feature_display = [  # type: ignore[attr-defined]
                (labels.get(name, name), "yes" if value is True else value) for name, value in line.features.items()
            ]
    return rfq_sites


def _step_review(request: AuthedHttpRequest, rfq: Rfq, context: dict[str, Any]) -> HttpResponse:
    context.update(
        rfq_sites=_sites_with_lines(rfq),
        missing=services.rfq_missing(rfq),
        bills=rfq.prior_bills.all(),
        carriers=rfq.listed_carriers.all(),
        buyer_verified=rfq.buyer.is_verified,
    )
    return _page(request, "rfq/buyer/step_review.html", context)


@require_POST
def rfq_publish(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = _draft_for_editor(request, pk)
    try:
        rfq = services.rfq_publish(actor=request.user, rfq=rfq)
    except DomainError as exc:
        messages.error(request, str(exc))
        if rfq.status == S.DRAFT:
            return redirect("rfq:step", pk=rfq.pk, step="review")
        return redirect("rfq:detail", pk=rfq.pk)
    if rfq.status == S.AWAITING_VERIFICATION:
        messages.warning(
            request, "Published. It goes out to carriers the moment the moderator verifies your organisation."
        )
    else:
        messages.success(request, "Published: the request is out to carriers.")
    return redirect("rfq:detail", pk=rfq.pk)


def prior_bill_download(request: AuthedHttpRequest, pk: int, bill_pk: int) -> FileResponse:
    rfq = selectors.rfq_get_for_buyer(user=request.user, pk=pk)
    bill = rfq.prior_bills.filter(pk=bill_pk).first()
    if bill is None:
        raise Http404("No such file.")
    return FileResponse(
        bill.file.open("rb"), as_attachment=True, filename=bill.original_name, content_type=bill.content_type
    )


# --- detail and its actions ------------------------------------------------------------------------------


def _detail(request: AuthedHttpRequest, rfq: Rfq, status: int = 200, **forms_given: Any) -> HttpResponse:
    org = _org(request)
    zone = _zone(request)
    is_editor = rfq.buyer_id == org.pk
    has_selection = Selection.objects.filter(rfq=rfq).exists()
    bids_open = rfq.bids_are_open
    questions = list(rfq.questions.all())
    can_answer = is_editor and rfq.status == S.OPEN
    answer_forms = forms_given.get("answer_forms", {})
    before_deadline = rfq.status == S.OPEN and not bids_open
    mine = rfq.rfq_sites.filter(organization=org)
    can_confirm = rfq.is_group and not is_editor and rfq.status == S.DRAFT and mine.exists()
    context = {
        "rfq": rfq,
        "org": org,
        "is_editor": is_editor,
        "bids_open": bids_open,
        "progress": selectors.buyer_progress(rfq),
        "digests": selectors.digests_for_rfq(rfq) if bids_open else [],
        "questions": [(q, answer_forms.get(q.pk) or forms.AnswerForm(prefix=f"q{q.pk}")) for q in questions],
        "can_answer": can_answer,
        "can_addend": is_editor and before_deadline,
        "addendum_form": forms_given.get("addendum_form") or forms.AddendumForm(zone=zone),
        "addendum_minimum": (
            rfq.bid_deadline + timedelta(hours=settings.RFQ_ADDENDUM_MIN_EXTENSION_HOURS) if rfq.bid_deadline else None
        ),
        "addenda": rfq.addenda.all(),
        "can_cancel": is_editor
        and not has_selection
        and rfq.status in (S.DRAFT, S.AWAITING_VERIFICATION, S.OPEN, S.CLOSED),
        "cancel_form": forms_given.get("cancel_form") or forms.CancelForm(),
        "can_confirm": can_confirm,
        "confirm_form": forms_given.get("confirm_form")
        or (
            forms.ConfirmSitesForm(
                sites=Site.objects.filter(rfq_sites__in=mine),
                initial={"sites": list(mine.values_list("site_id", flat=True))},
            )
            if can_confirm
            else None
        ),
        "my_sites": list(mine.select_related("site")),
        "rfq_sites": _sites_with_lines(rfq),
        "bills": rfq.prior_bills.all(),
        "has_selection": has_selection,
        "can_select": is_editor and bids_open and rfq.status == S.CLOSED and not has_selection,
        "awards": rfq.awards.select_related("buyer", "carrier", "accepted_by", "terms"),
    }
    return _page(request, "rfq/buyer/detail.html", context, status=status)


def rfq_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = _open_if_due(selectors.rfq_get_for_buyer(user=request.user, pk=pk))
    return _detail(request, rfq)


@require_POST
def question_answer(request: AuthedHttpRequest, pk: int, question_pk: int) -> HttpResponse:
    rfq = selectors.rfq_get_for_buyer_editor(user=request.user, pk=pk)
    question = rfq.questions.filter(pk=question_pk).first()
    if question is None:
        raise Http404("No such question.")
    if rfq.status != S.OPEN or question.answered_at:
        # Answered meanwhile or no longer open (another tab, a colleague): the form is gone from the page.
        messages.error(
            request,
            "This question is already answered."
            if question.answered_at
            else "Questions can only be answered while the request is open.",
        )
        return redirect("rfq:detail", pk=rfq.pk)
    form = forms.AnswerForm(request.POST, prefix=f"q{question.pk}")
    if form.is_valid():
        try:
            services.question_answer(actor=request.user, question=question, answer=form.cleaned_data["answer"])
        except DomainError as exc:
            # Answered already or no longer open: the form is gone from the page, so say it on top.
            messages.error(request, str(exc))
            return redirect("rfq:detail", pk=rfq.pk)
        else:
            messages.success(request, "Answer published to every invited carrier; the asker stays anonymous.")
            return redirect("rfq:detail", pk=rfq.pk)
    return _detail(request, rfq, status=400, answer_forms={question.pk: form})


@require_POST
def addendum_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = selectors.rfq_get_for_buyer_editor(user=request.user, pk=pk)
    form = forms.AddendumForm(request.POST, zone=_zone(request))
    if form.is_valid():
        try:
            addendum = services.addendum_create(actor=request.user, rfq=rfq, **form.cleaned_data)
        except DomainError as exc:
            form.add_error("new_deadline" if "deadline" in str(exc) else "description", str(exc))
        else:
            messages.success(request, f"Addendum {addendum.number} published; submitted bids must be re-confirmed.")
            return redirect("rfq:detail", pk=rfq.pk)
    rfq.refresh_from_db()
    return _detail(request, rfq, status=400, addendum_form=form)


@require_POST
def rfq_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = selectors.rfq_get_for_buyer_editor(user=request.user, pk=pk)
    form = forms.CancelForm(request.POST)
    if form.is_valid():
        try:
            services.rfq_cancel(actor=request.user, rfq=rfq, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("rfq:detail", pk=rfq.pk)
        else:
            messages.success(request, "The request is cancelled; everyone on it has been told.")
            return redirect("rfq:detail", pk=rfq.pk)
    rfq.refresh_from_db()
    return _detail(request, rfq, status=400, cancel_form=form)


@require_POST
def confirm_sites(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = selectors.rfq_get_for_buyer(user=request.user, pk=pk)
    org = _org(request)
    mine = rfq.rfq_sites.filter(organization=org)
    if rfq.status != S.DRAFT or not mine.exists():
        # Published or left meanwhile: the confirmation form is gone from the page, so say why on top.
        messages.error(
            request,
            "The lead has published this request; its sites can no longer change."
            if rfq.status != S.DRAFT
            else "None of your sites are part of this request.",
        )
        return redirect("rfq:detail", pk=rfq.pk)
    form = forms.ConfirmSitesForm(request.POST, sites=Site.objects.filter(rfq_sites__in=mine))
    if form.is_valid():
        try:
            services.rfq_confirm_sites(
                actor=request.user, rfq=rfq, organization=org, site_ids=[s.pk for s in form.cleaned_data["sites"]]
            )
        except DomainError as exc:
            form.add_error("sites", str(exc))
        else:
            messages.success(request, "Thank you: your sites are confirmed.")
            return redirect("rfq:detail", pk=rfq.pk)
    return _detail(request, rfq, status=400, confirm_form=form)


# --- comparison ------------------------------------------------------------------------------------------


def _bid_labels(rfq: Rfq) -> dict[int, str]:
    bids = rfq.bids.filter(status=Bid.Status.SUBMITTED).order_by("submitted_at", "id").values_list("pk", flat=True)
    return {pk: f"Bid {i}" for i, pk in enumerate(bids, start=1)}


def _compliance(bid_line: Any, line: Any) -> dict[str, Any]:
    asked = list(line.features)
    compliance = bid_line.compliance or {}
    failing = [name for name in asked if name in compliance and not compliance[name]]
    met = sum(1 for name in asked if compliance.get(name))
    return {"met": met, "asked": len(asked), "failing": failing}


def _comparison_context(rfq: Rfq, sort: str) -> dict[str, Any]:
    comparison = selectors.comparison_for_rfq(rfq, sort=sort)
    labels = _bid_labels(rfq)
    rows = []
    for row in comparison.rows:
        cells = []
        for cell in row.cells:
            cells.append({"cell": cell, "compliance": _compliance(cell.bid_line, row.line) if cell.bid_line else None})
        rows.append({"row": row, "cells": cells})
    columns = [{"bid": t["bid"], "label": labels.get(t["bid"].pk, ""), "total": t} for t in comparison.totals]
    prior_monthly = sum(
        (r.line.prior_monthly_spend for r in comparison.rows if r.line.prior_monthly_spend is not None), Decimal(0)
    )
    prior_total = sum((r.prior_whole_term for r in comparison.rows if r.prior_whole_term is not None), Decimal(0))
    has_prior = any(r.prior_whole_term is not None for r in comparison.rows)
    return {
        "comparison": comparison,
        "rows": rows,
        "columns": columns,
        "prior_monthly": prior_monthly if has_prior else None,
        "prior_total": prior_total if has_prior else None,
    }


def compare(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = _open_if_due(selectors.rfq_get_for_buyer(user=request.user, pk=pk))
    if not rfq.bids_are_open:
        # Sealed: the clock decides, so nothing is priced here before the deadline, task or no task.
        messages.info(request, "Bids stay sealed until the bid deadline; the comparison opens then.")
        return redirect("rfq:detail", pk=rfq.pk)
    sort = "total" if request.GET.get("sort") == "total" else ""
    org = _org(request)
    has_selection = Selection.objects.filter(rfq=rfq).exists()
    context = {
        "rfq": rfq,
        "sort": sort,
        "can_select": rfq.buyer_id == org.pk and rfq.status == S.CLOSED and not has_selection,
        "has_selection": has_selection,
        **_comparison_context(rfq, sort),
    }
    return _page(request, "rfq/buyer/compare.html", context)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula: risky first characters get a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def compare_csv(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = _open_if_due(selectors.rfq_get_for_buyer(user=request.user, pk=pk))
    if not rfq.bids_are_open:
        raise Http404("Bids are sealed until the deadline.")
    data = _comparison_context(rfq, "total" if request.GET.get("sort") == "total" else "")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{rfq.reference}-comparison.csv"'
    writer = csv.writer(response)
    header = ["Site", "Service", "Quantity", "Prior monthly spend"]
    for col in data["columns"]:
        name = f"{col['label']} {col['bid'].carrier.display_name}"
        header += [
            f"{name} monthly",
            f"{name} one-time",
            f"{name} whole term",
            f"{name} install days",
            f"{name} usage",
        ]
    writer.writerow([csv_cell(h) for h in header])
    for item in data["rows"]:
        row = item["row"]
        out = [row.site_name, row.line.service_type.name, row.line.quantity, row.line.prior_monthly_spend]
        for c in item["cells"]:
            bl = c["cell"].bid_line
            out += (
                [
                    bl.monthly_charge,
                    bl.one_time_charge,
                    c["cell"].whole_term,
                    bl.install_days,
                    "; ".join(terms_phrases(bl)),
                ]
                if bl
                else ["not priced", "", "", "", ""]
            )
        writer.writerow([csv_cell(v) for v in out])
    totals = ["Total", "", "", data["prior_monthly"]]
    for col in data["columns"]:
        t = col["total"]
        whole = t["whole_term"] if t["comparable"] else f"not comparable ({t['missing']} unpriced)"
        totals += [t["monthly"], t["one_time"], whole, t["max_install"], ""]
    writer.writerow([csv_cell(v) for v in totals])
    savings = ["Saving against prior spend", "", "", ""]
    for col in data["columns"]:
        savings += ["", "", col["total"]["saving"], "", ""]
    writer.writerow([csv_cell(v) for v in savings])
    return response


# --- award -----------------------------------------------------------------------------------------------


def _selectable(rfq: Rfq) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Per request line, the bid lines that may win it (submitted, not waiting for re-confirmation)."""
    data = _comparison_context(rfq, "")
    labels = {col["bid"].pk: col["label"] for col in data["columns"]}
    lines = []
    for item in data["rows"]:
        row = item["row"]
        options = [
            {
                "bid_line": c["cell"].bid_line,
                "whole_term": c["cell"].whole_term,
                "best": c["cell"].best,
                "label": labels[c["cell"].bid_line.bid_id],
                "bid": col["bid"],
            }
            for c, col in zip(item["cells"], data["columns"], strict=True)
            if c["cell"].bid_line is not None and not col["bid"].needs_reconfirmation
        ]
        lines.append({"line": row.line, "site_name": row.site_name, "options": options})
    return lines, labels


def award_select(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = _open_if_due(selectors.rfq_get_for_buyer_editor(user=request.user, pk=pk))
    if not rfq.bids_are_open:
        messages.info(request, "Bids stay sealed until the bid deadline.")
        return redirect("rfq:detail", pk=rfq.pk)
    if Selection.objects.filter(rfq=rfq).exists():
        messages.info(request, "A winner has already been chosen for this request.")
        return redirect("rfq:award_terms", pk=rfq.pk)
    if rfq.status != S.CLOSED:
        messages.error(request, f"This request is {rfq.get_status_display().lower()}: no winner can be chosen.")
        return redirect("rfq:detail", pk=rfq.pk)
    lines, labels = _selectable(rfq)
    errors: dict[int, str] = {}
    problem = ""
    chosen: dict[int, int] = {}
    if request.method == "POST":
        whole_bid = request.POST.get("all", "")
        for item in lines:
            line = item["line"]
            allowed = {o["bid_line"].pk: o for o in item["options"]}
            if whole_bid:
                match = [o for o in item["options"] if str(o["bid"].pk) == whole_bid]
                if match:
                    chosen[line.pk] = match[0]["bid_line"].pk
                else:
                    problem = "That bid did not price every line: split the award line by line instead."
            else:
                raw = request.POST.get(f"line-{line.pk}", "")
                if raw.isdecimal() and int(raw) in allowed:
                    chosen[line.pk] = int(raw)
                else:
                    errors[line.pk] = "Choose a bid for this line."
        if not errors and not problem:
            try:
                services.rfq_select(actor=request.user, rfq=rfq, choices=chosen)
            except DomainError as exc:
                messages.error(request, str(exc))
                return redirect(
                    "rfq:award_terms" if Selection.objects.filter(rfq=rfq).exists() else "rfq:award_select", pk=rfq.pk
                )
            messages.success(request, "Winners chosen. Each buyer organisation now accepts the terms for its lines.")
            return redirect("rfq:award_terms", pk=rfq.pk)
    for item in lines:
        item["error"] = errors.get(item["line"].pk, "")
        item["chosen"] = chosen.get(item["line"].pk)
    whole_bids = [
        {"bid": bid, "label": labels[bid.pk]}
        for bid in rfq.bids.filter(status=Bid.Status.SUBMITTED, needs_reconfirmation=False)
        .select_related("carrier")
        .order_by("submitted_at", "id")
        if all(any(o["bid"].pk == bid.pk for o in item["options"]) for item in lines)
    ]
    return _page(
        request,
        "rfq/buyer/award_select.html",
        {"rfq": rfq, "lines": lines, "whole_bids": whole_bids, "problem": problem},
        status=400 if (errors or problem) else 200,
    )


def award_terms(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = selectors.rfq_get_for_buyer(user=request.user, pk=pk)
    org = _org(request)
    selection = Selection.objects.filter(rfq=rfq).select_related("selected_by").first()
    if selection is None:
        messages.info(request, "No winner has been chosen yet.")
        return redirect("rfq:detail", pk=rfq.pk)
    terms = terms_current()
    sel_lines = list(
        selection.lines.select_related(
            "rfq_line__service_type",
            "rfq_line__rfq_site__site",
            "rfq_line__rfq_site__organization",
            "bid_line__bid__carrier",
        ).order_by("rfq_line__rfq_site__organization__name", "rfq_line__rfq_site__site__name", "rfq_line__position")
    )
    awards = list(rfq.awards.select_related("buyer", "carrier", "accepted_by", "terms"))
    accepted_orgs = {a.buyer_id for a in awards}
    participants = {sl.rfq_line.rfq_site.organization_id: sl.rfq_line.rfq_site.organization for sl in sel_lines}
    has_lines = org.pk in participants
    # The lead's own preferences come from the request; every other organisation starts from its defaults.
    form = forms.AcceptTermsForm(
        request.POST or None,
        initial={
            "terms_version": terms.version if terms else None,
            "po_number": rfq.po_number if org.pk == rfq.buyer_id else "",
            "invoice_delivery": rfq.invoice_delivery,
        },
    )
    if request.method == "POST":
        if org.pk in accepted_orgs:
            messages.info(request, "Your organisation has already accepted the terms.")
            return redirect("rfq:award_terms", pk=rfq.pk)
        if terms is None:
            messages.error(request, "No terms are published yet; the moderator has been asked to publish them.")
            return redirect("rfq:award_terms", pk=rfq.pk)
        if form.is_valid():
            if form.cleaned_data["terms_version"] != terms.version:
                form.add_error(
                    "agree",
                    f"The terms changed while you were reading: read version {terms.version} below and accept again.",
                )
            else:
                try:
                    services.award_accept_terms(
                        actor=request.user,
                        rfq=rfq,
                        organization=org,
                        terms=terms,
                        po_number=form.cleaned_data["po_number"],
                        invoice_delivery=form.cleaned_data["invoice_delivery"],
                    )
                except DomainError as exc:
                    messages.error(request, str(exc))
                    return redirect("rfq:award_terms", pk=rfq.pk)
                messages.success(request, "Terms accepted: the award is final for your organisation's lines.")
                return redirect("rfq:award_terms", pk=rfq.pk)
    return _page(
        request,
        "rfq/buyer/award_terms.html",
        {
            "rfq": rfq,
            "org": org,
            "selection": selection,
            "sel_lines": sel_lines,
            "terms": terms,
            "awards": awards,
            "waiting": [o for pk_, o in participants.items() if pk_ not in accepted_orgs],
            "can_accept": has_lines and org.pk not in accepted_orgs and terms is not None and rfq.status == S.CLOSED,
            "form": form,
        },
        status=400 if form.errors else 200,
    )
