"""Billing pages: contracts, usage imports, bill runs, invoices, payments, settlements, the ledger, resellers.

Access goes through billing.access (one function per actor and object); writes through billing.services.
"""

from __future__ import annotations

import csv
import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing import access, forms, selectors, services
from billing.models import BillRun, CommissionRate, Invoice, Settlement, UsageImport
from billing.selectors import bill_run_progress as run_state
from billing.tasks import bill_run_task, usage_import_task
from billing.usage import COLUMNS, OPTIONAL, REQUIRED
from billing.usage import progress_key as import_progress_key
from marketplace.csv_import import parse_csv
from marketplace.http import AuthedHttpRequest
from marketplace.models import Organization
from marketplace.services import DomainError

PAGE_SIZE = 25
DRAFTS_PAGE_SIZE = 20  # invoices a page on the bill run, each with its lines
PREVIEW_PAGE_SIZE = 50  # buyers a page in a bill run's preview
PREVIEW_KEEP = 30 * 60  # seconds a preview stays to page through; after that it is made again


def _page(request: AuthedHttpRequest, queryset: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _period_or_404(value: str) -> date:
    try:
        return services.period_from_string(value)
    except DomainError as exc:
        raise Http404("No such period.") from exc


def _download(file: Any, filename: str) -> FileResponse:
    if not file:
        raise Http404("The PDF is not ready yet.")
    response = FileResponse(file.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response


# --- home (billing staff) ----------------------------------------------------------------------------


def home(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.staff_get(user=request.user)
    today = timezone.now().date()
    last_month = services.previous_month(today)
    return render(
        request,
        "billing/home.html",
        {
            "actor": actor,
            "runs": BillRun.objects.order_by("-period")[:12],
            "suggested": f"{last_month:%Y-%m}",
            "period_form": forms.PeriodForm(initial={"period": f"{last_month:%Y-%m}"}),
            "ledger": access.ledger_page(),
            "counts": {
                "imports_running": UsageImport.objects.filter(status__in=["queued", "running"]).count(),
                "settlements_due": Settlement.objects.filter(status=Settlement.Status.DUE).count(),
                "invoices_open": Invoice.objects.filter(status=Invoice.Status.FINAL).count(),
                "invoices_to_post": selectors.invoices_to_post(Invoice.objects.all()).count(),
            },
        },
    )


def bill_run_choose(request: AuthedHttpRequest) -> HttpResponse:
    access.staff_get(user=request.user)
    form = forms.PeriodForm(request.GET or None)
    if form.is_valid():
        return redirect("billing:bill_run", period=f"{form.cleaned_data['period']:%Y-%m}")
    messages.error(request, "Give the period as YYYY-MM, e.g. 2026-10.")
    return redirect("billing:home")


# --- contracts ---------------------------------------------------------------------------------------


def contract_list(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.billing_actor_get(user=request.user)
    page = _page(request, access.contracts_for_actor(actor))
    return render(request, "billing/contract_list.html", {"actor": actor, "page": page})


def contract_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    actor, contract = access.contract_get_for_user(user=request.user, pk=pk)
    form = forms.PeriodFilterForm(request.GET or None)
    period = (form.cleaned_data["period"] if form.is_valid() else None) or selectors.contract_usage_period(contract)
    return render(
        request,
        "billing/contract_detail.html",
        {
            "actor": actor,
            "contract": contract,
            "rate_lines": contract.rate_lines.select_related("site", "service_type").prefetch_related("tiers"),
            "delivery": selectors.DELIVERY_LABELS.get(contract.invoice_delivery, contract.invoice_delivery),
            "usage_form": form if form.is_bound else forms.PeriodFilterForm(initial={"period": f"{period:%Y-%m}"}),
            "usage_period": period,
            "usage": selectors.contract_usage(contract, period),
            # The buyer sees its usage; the meters' addresses and faults are for billing staff and the carrier.
            "meters": selectors.contract_meters(contract) if actor.area != "buyer" else [],
            "can_edit": actor.is_moderator,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def commission_list(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.staff_get(user=request.user)
    carriers = Organization.objects.filter(kind=Organization.Kind.CARRIER).order_by("name")
    rates = dict(CommissionRate.objects.values_list("carrier_id", "percent"))
    rows = [
        {"carrier": c, "percent": rates.get(c.pk, services.DEFAULT_COMMISSION), "custom": c.pk in rates}
        for c in carriers
    ]
    return render(
        request, "billing/commission_list.html", {"actor": actor, "rows": rows, "can_edit": actor.is_moderator}
    )


@require_POST
def commission_set(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    actor = access.moderator_writer_get(user=request.user)
    carrier = Organization.objects.filter(pk=pk, kind=Organization.Kind.CARRIER).first()
    if carrier is None:
        raise Http404("No such carrier.")
    form = forms.CommissionForm(request.POST)
    if form.is_valid():
        try:
            services.commission_set(actor=actor.user, carrier=carrier, percent=form.cleaned_data["percent"])
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"{carrier.display_name}: {form.cleaned_data['percent']}% on contracts made from now on."
            )
            return redirect("billing:commission_list")
    else:
        messages.error(request, f"{carrier.display_name}: " + " ".join(str(e) for e in form.errors.get("percent", [])))
    return redirect("billing:commission_list")


# --- usage imports -----------------------------------------------------------------------------------


def _usage_context(actor: access.BillingActor, request: AuthedHttpRequest, form: Any = None) -> dict[str, Any]:
    if form is None:
        form = forms.StaffUsageUploadForm() if actor.is_staff else forms.UsageUploadForm()
    return {
        "actor": actor,
        "form": form,
        "page": _page(request, access.usage_imports_for_actor(actor)),
        "required": REQUIRED,
        "optional": OPTIONAL,
    }


def usage_import_list(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.finance_reader_get(user=request.user)
    return render(request, "billing/usage_import_list.html", _usage_context(actor, request))


@require_POST
def usage_import_create(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.finance_reader_get(user=request.user)
    form: forms.UsageUploadForm = (
        forms.StaffUsageUploadForm(request.POST, request.FILES)
        if actor.is_staff
        else forms.UsageUploadForm(request.POST, request.FILES)
    )
    if form.is_valid():
        upload = form.cleaned_data["file"]
        carrier = form.cleaned_data.get("carrier") or actor.organization
        assert carrier is not None  # noqa: S101  (staff choose one; carriers upload their own)
        source = form.cleaned_data.get("source") or UsageImport.Source.CARRIER
        try:
            outcome = services.usage_import_create(
                actor=request.user, carrier=carrier, source=source, filename=upload.name, data=upload.read()
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            usage_import = outcome.usage_import
            if outcome.already_imported:
                messages.info(
                    request,
                    f"This file was already imported on {usage_import.finished_at:%d %b %Y} as "
                    f"{usage_import.filename}; nothing changed.",
                )
            else:
                transaction.on_commit(lambda: usage_import_task.delay(usage_import.pk))
            return redirect("billing:usage_import_detail", pk=usage_import.pk)
    return render(request, "billing/usage_import_list.html", _usage_context(actor, request, form), status=400)


def _import_progress(usage_import: UsageImport) -> dict[str, Any]:
    progress = cache.get(import_progress_key(usage_import.pk)) or {}
    total = progress.get("total") or 0
    done = progress.get("done") or 0
    return {
        "usage_import": usage_import,
        "finished": usage_import.status in (UsageImport.Status.DONE, UsageImport.Status.FAILED),
        "phase": progress.get("phase", "waiting for a worker"),
        "done": done,
        "total": total,
        "percent": int(done * 100 / total) if total else 0,
    }


def usage_import_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    actor, usage_import = access.usage_import_get_for_user(user=request.user, pk=pk)
    return render(request, "billing/usage_import_detail.html", {"actor": actor, **_import_progress(usage_import)})


def usage_import_progress(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    actor, usage_import = access.usage_import_get_for_user(user=request.user, pk=pk)
    return render(request, "billing/partials/import_status.html", {"actor": actor, **_import_progress(usage_import)})


# --- bill runs ---------------------------------------------------------------------------------------


def _run_context(
    period: date, actor: access.BillingActor, request: AuthedHttpRequest | None = None, **extra: Any
) -> dict[str, Any]:
    """The run page's state; with a request, also a page of the period's invoices (the progress poll has none)."""
    run = access.bill_run_for_period(period)
    state = run_state(period)
    finalized = run is not None and run.status == BillRun.Status.FINALIZED
    page, count, totals = None, 0, dict[str, Decimal]()
    if run is not None and request is not None:
        count, totals = selectors.period_totals(period)
        page = _page(request, access.draft_invoices(period), size=DRAFTS_PAGE_SIZE) if count else None
    return {
        "actor": actor,
        "period": period,
        "period_str": f"{period:%Y-%m}",
        "run": run,
        **state,
        "finalized": finalized,
        "page": page,
        "invoice_count": count,
        "totals": totals,
        "can_run": not finalized,
        "can_finalize": run is not None and run.status == BillRun.Status.DRAFT,
        "finalize_form": extra.pop("finalize_form", None) or forms.FinalizeForm(),
        **extra,
    }


def _preview_key(request: AuthedHttpRequest, period: date, token: str) -> str:
    # The signed-in user is part of the key: a preview is only ever shown to whoever made it.
    return f"bill-run-preview:{request.user.pk}:{period:%Y-%m}:{token}"


def _preview(request: AuthedHttpRequest, period: date) -> dict[str, Any] | None:
    """The preview named by ?preview=, with a page of its buyers; None when it has expired (or is another's)."""
    stored = cache.get(_preview_key(request, period, request.GET.get("preview", "")[:64]))
    if stored is None:
        return None
    page = Paginator(stored["buyers"], PREVIEW_PAGE_SIZE).get_page(request.GET.get("preview_page"))
    return {**stored, "page": page}


def bill_run(request: AuthedHttpRequest, period: str) -> HttpResponse:
    actor = access.staff_get(user=request.user)
    when = _period_or_404(period)
    extra = {}
    if "preview" in request.GET:
        preview = _preview(request, when)
        run = access.bill_run_for_period(when)
        if preview is None or (run is not None and run.status == BillRun.Status.FINALIZED):
            # Gone (kept 30 minutes), someone else's, or overtaken by finalisation: the page without it, whose
            # pagers then carry no dead token.
            if preview is None:
                messages.warning(request, "That preview has expired (they are kept 30 minutes): preview again.")
            query = request.GET.copy()
            query.pop("preview", None)
            query.pop("preview_page", None)
            url = reverse("billing:bill_run", args=[period])
            return redirect(f"{url}?{query.urlencode()}" if query else url)
        extra["preview"] = preview
    return render(request, "billing/bill_run.html", _run_context(when, actor, request, **extra))


def bill_run_progress(request: AuthedHttpRequest, period: str) -> HttpResponse:
    actor = access.staff_get(user=request.user)
    when = _period_or_404(period)
    context = _run_context(when, actor)
    if request.htmx and not context["in_progress"]:
        # The run has finished: reload the whole page so the drafts appear.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "billing/partials/run_status.html", context)


@require_POST
def bill_run_preview(request: AuthedHttpRequest, period: str) -> HttpResponse:
    access.staff_get(user=request.user)  # billing staff only; others get 404
    when = _period_or_404(period)
    try:
        preview = access.bill_run_preview(period=when, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("billing:bill_run", period=period)
    # Kept for a while so its pages can be turned (and the page reloaded) without rating the month again.
    token = secrets.token_urlsafe(12)
    summary = preview["summary"]
    stored = {
        "summary": {"invoices": summary.invoices, "lines": summary.lines, "records": summary.records},
        "buyers": preview["buyers"],
        # Rows are per buyer and currency; a buyer billed in two currencies is still one buyer.
        "buyer_count": len({row["buyer_id"] for row in preview["buyers"]}),
        "totals": preview["totals"],
        "made_at": timezone.now(),
    }
    cache.set(_preview_key(request, when, token), stored, timeout=PREVIEW_KEEP)
    return redirect(f"{reverse('billing:bill_run', args=[period])}?preview={token}#preview-title")


@require_POST
def bill_run_execute(request: AuthedHttpRequest, period: str) -> HttpResponse:
    actor = access.staff_get(user=request.user)
    when = _period_or_404(period)
    run = access.bill_run_for_period(when)
    if run is not None and run.status == BillRun.Status.FINALIZED:
        messages.error(request, f"{when:%B %Y} is finalised; correct it with credit or debit notes.")
        return redirect("billing:bill_run", period=period)
    cache.set(
        services.progress_key(when),
        {"phase": "queued", "done": 0, "total": 0, "queued_at": timezone.now().timestamp()},
        timeout=3600,
    )
    transaction.on_commit(lambda: bill_run_task.delay(when.isoformat(), actor.user.pk))
    messages.success(
        request, f"The bill run for {when:%B %Y} has started; this page shows its progress and then the drafts."
    )
    return redirect("billing:bill_run", period=period)


@require_POST
def bill_run_finalize(request: AuthedHttpRequest, period: str) -> HttpResponse:
    actor = access.staff_get(user=request.user)
    when = _period_or_404(period)
    form = forms.FinalizeForm(request.POST)
    if form.is_valid():
        try:
            run = services.bill_run_finalize(actor=request.user, period=when)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{when:%B %Y} is finalised: {run.invoice_count} invoice(s) issued; PDFs are on their way."
            )
            return redirect("billing:bill_run", period=period)
    context = _run_context(when, actor, request, finalize_form=form)
    return render(request, "billing/bill_run.html", context, status=400)


# --- invoices ----------------------------------------------------------------------------------------


def invoice_list(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.invoice_reader_get(user=request.user)
    invoices = access.invoices_for_actor(actor).prefetch_related("notes")
    form = forms.InvoiceFilterForm(request.GET or None)
    filters = form.filters()
    if filters.get("period"):
        invoices = invoices.filter(period=filters["period"])
    if filters.get("status"):
        invoices = invoices.filter(status=filters["status"])
    if filters.get("q"):
        q = filters["q"]
        invoices = invoices.filter(Q(number__icontains=q) | Q(buyer__name__icontains=q))
    if filters.get("to_post") and actor.is_staff:
        invoices = selectors.invoices_to_post(invoices)
    page = _page(request, invoices.order_by("-period", "buyer__name", "number", "id"))
    for invoice in page.object_list:
        invoice.due = access.amount_due(invoice, list(invoice.notes.all()))
    return render(
        request,
        "billing/invoice_list.html",
        {"actor": actor, "page": page, "form": form, "filtered": any(filters.values()) if filters else False},
    )


def invoice_detail(request: AuthedHttpRequest, pk: int, note_form: Any = None) -> HttpResponse:
    actor, invoice = access.invoice_get_for_user(user=request.user, pk=pk)
    can_note = actor.is_moderator and invoice.status != Invoice.Status.DRAFT
    page = access.invoice_page(invoice)
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "actor": actor,
            **page,
            "moderator": settings.MODERATOR_DETAILS,
            "can_mark_posted": actor.is_staff
            and page["by_post"]
            and invoice.status != Invoice.Status.DRAFT
            and invoice.posted_at is None,
            "can_note": can_note,
            "note_form": note_form or forms.NoteForm(invoice=invoice),
        },
        status=400 if note_form is not None else 200,
    )


def invoice_pdf(request: AuthedHttpRequest, pk: int) -> FileResponse:
    _, invoice = access.invoice_get_for_user(user=request.user, pk=pk)
    return _download(invoice.pdf, f"{invoice.number}.pdf")


@require_POST
def invoice_mark_posted(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invoice = access.invoice_issued_get_for_staff(user=request.user, pk=pk)
    try:
        services.invoice_mark_posted(actor=request.user, invoice=invoice)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invoice {invoice.number} recorded as posted.")
    return redirect("billing:invoice_detail", pk=invoice.pk)


@require_POST
def note_create(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invoice = access.invoice_issued_get_for_moderator(user=request.user, pk=pk)
    form = forms.NoteForm(request.POST, invoice=invoice)
    if form.is_valid():
        try:
            note = services.note_create(actor=request.user, invoice=invoice, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{note.get_kind_display()} {note.number} of {note.amount} issued.")
            return redirect("billing:invoice_detail", pk=invoice.pk)
    return invoice_detail(request, pk, note_form=form)


# --- payments ----------------------------------------------------------------------------------------


def _payments_context(
    request: AuthedHttpRequest, actor: access.BillingActor, form: Any = None, bank_form: Any = None, **extra: Any
) -> dict[str, Any]:
    return {
        "actor": actor,
        "page": _page(request, access.payments_list()),
        "form": form or forms.PaymentForm(initial={"received_on": timezone.now().date(), "currency": "GBP"}),
        "bank_form": bank_form or forms.BankImportForm(),
        "can_record": actor.is_moderator,
        **extra,
    }


def payment_list(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.staff_get(user=request.user)
    return render(request, "billing/payment_list.html", _payments_context(request, actor))


@require_POST
def payment_create(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.moderator_writer_get(user=request.user)
    form = forms.PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_record(
                actor=request.user,
                buyer=data["buyer"],
                amount=data["amount"],
                currency=data["currency"],
                received_on=data["received_on"],
                reference=data["reference"],
                invoice=data["invoice"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Payment {payment.reference} of {payment.amount} {payment.currency} recorded.")
            return redirect("billing:payment_list")
    return render(request, "billing/payment_list.html", _payments_context(request, actor, form=form), status=400)


def payment_detail(request: AuthedHttpRequest, pk: int, form: Any = None) -> HttpResponse:
    actor, payment = access.payment_get_for_staff(user=request.user, pk=pk)
    page = access.payment_page(payment)
    return render(
        request,
        "billing/payment_detail.html",
        {
            "actor": actor,
            **page,
            "can_allocate": actor.is_moderator and payment.unallocated > 0 and bool(page["open_invoices"]),
            "form": form or forms.AllocationForm(payment=payment),
        },
        status=400 if form is not None else 200,
    )


@require_POST
def payment_allocate(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    payment = access.payment_get_for_allocation(user=request.user, pk=pk)
    form = forms.AllocationForm(request.POST, payment=payment)
    if form.is_valid():
        try:
            made = services.payment_allocate(actor=request.user, payment=payment, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            allocated = ", ".join(f"{a.amount} to {a.invoice.number}" for a in made)
            messages.success(request, f"Allocated {allocated} from payment {payment.reference}.")
            return redirect("billing:payment_detail", pk=payment.pk)
    return payment_detail(request, pk, form=form)


@require_POST
def payment_import(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.moderator_writer_get(user=request.user)
    bank_form = forms.BankImportForm(request.POST, request.FILES)
    errors: list[Any] = []
    if bank_form.is_valid():
        result = parse_csv(bank_form.cleaned_data["file"], forms.BankRowForm, max_rows=5000)
        errors = list(result.errors)
        if result.ok:
            errors = _bank_rows_record(request, result.rows)
            if not errors:
                total = sum((r["amount"] for r in result.rows), Decimal(0))
                messages.success(request, f"Recorded {len(result.rows)} payment(s) totalling {total}.")
                return redirect("billing:payment_list")
    return render(
        request,
        "billing/payment_list.html",
        _payments_context(request, actor, bank_form=bank_form, bank_errors=errors),
        status=400,
    )


def _bank_rows_record(request: AuthedHttpRequest, rows: list[dict[str, Any]]) -> list[Any]:
    """Record every row in one transaction: all or nothing, each refusal reported with its line."""
    from marketplace.csv_import import RowError

    seen: dict[tuple[int, str], int] = {}
    errors: list[RowError] = []
    for row in rows:
        key = (row["invoice_number"].buyer_id, row["reference"].strip())
        if key in seen:
            errors.append(RowError(row["line"], "reference", f"Same reference as line {seen[key]}."))
        seen.setdefault(key, row["line"])
    if errors:
        return errors
    try:
        with transaction.atomic():
            for row in rows:
                invoice = row["invoice_number"]
                try:
                    services.payment_record(
                        actor=request.user,
                        buyer=invoice.buyer,
                        amount=row["amount"],
                        currency=row["currency"],
                        received_on=row["date"],
                        reference=row["reference"],
                        invoice=invoice,
                    )
                except DomainError as exc:
                    errors.append(RowError(row["line"], "", str(exc)))
            if errors:
                raise _Refused
    except _Refused:
        return errors
    return []


class _Refused(Exception):
    """Rolls back a bank import that had a refused row."""


# --- settlements -------------------------------------------------------------------------------------


def settlement_list(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.finance_reader_get(user=request.user)
    settlements = access.settlements_for_actor(actor)
    form = forms.SettlementFilterForm(request.GET or None)
    filters = form.filters()
    if filters.get("period"):
        settlements = settlements.filter(period=filters["period"])
    if filters.get("carrier") and actor.is_staff:
        settlements = settlements.filter(carrier=filters["carrier"])
    page = _page(request, settlements.order_by("-period", "carrier__name", "currency"))
    return render(
        request,
        "billing/settlement_list.html",
        {"actor": actor, "page": page, "form": form, "filtered": bool(filters and any(filters.values()))},
    )


def settlement_detail(request: AuthedHttpRequest, pk: int, paid_form: Any = None) -> HttpResponse:
    actor, settlement = access.settlement_get_for_user(user=request.user, pk=pk)
    from billing.selectors import settlement_context

    context = settlement_context(settlement)
    return render(
        request,
        "billing/settlement_detail.html",
        {
            "actor": actor,
            **context,
            "lines": list(context["lines"]),
            "can_mark_paid": actor.is_moderator and settlement.status == Settlement.Status.DUE,
            "paid_form": paid_form or forms.SettlementPaidForm(),
        },
        status=400 if paid_form is not None else 200,
    )


def settlement_statement(request: AuthedHttpRequest, pk: int) -> FileResponse:
    _, settlement = access.settlement_get_for_user(user=request.user, pk=pk)
    return _download(settlement.statement_pdf, f"statement-{settlement.carrier_id}-{settlement.period:%Y-%m}.pdf")


@require_POST
def settlement_mark_paid(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    settlement = access.settlement_get_for_payout(user=request.user, pk=pk)
    form = forms.SettlementPaidForm(request.POST)
    if form.is_valid():
        try:
            services.settlement_mark_paid(
                actor=request.user, settlement=settlement, reference=form.cleaned_data["reference"]
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Paid out {settlement.net} {settlement.currency} to {settlement.carrier}.")
            return redirect("billing:settlement_detail", pk=settlement.pk)
    return settlement_detail(request, pk, paid_form=form)


# --- carrier lines -----------------------------------------------------------------------------------


def carrier_lines(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.carrier_finance_get(user=request.user)
    lines = access.invoice_lines_for_carrier(actor)
    form = forms.PeriodFilterForm(request.GET or None)
    period = form.cleaned_data.get("period") if form.is_valid() else None
    if period:
        lines = lines.filter(invoice__period=period)
    totals = lines.aggregate(amount=Sum("amount"), commission=Sum("commission"), count=Count("id"))
    return render(
        request,
        "billing/carrier_lines.html",
        {"actor": actor, "page": _page(request, lines, 50), "form": form, "totals": totals},
    )


# --- ledger ------------------------------------------------------------------------------------------


def ledger(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.staff_get(user=request.user)
    return render(request, "billing/ledger.html", {"actor": actor, "ledger": access.ledger_page()})


# --- resellers ---------------------------------------------------------------------------------------


def _reseller_period(request: AuthedHttpRequest) -> tuple[forms.PeriodFilterForm, date | None]:
    form = forms.PeriodFilterForm(request.GET or None)
    return form, (form.cleaned_data.get("period") if form.is_valid() else None)


def reseller_usage(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.reseller_get(user=request.user)
    form, period = _reseller_period(request)
    assert actor.organization is not None  # noqa: S101
    return render(
        request,
        "billing/reseller_usage.html",
        {
            "actor": actor,
            "form": form,
            "usage": access.reseller_usage(organization=actor.organization, period=period),
            "charges": access.reseller_charges(organization=actor.organization, period=period),
            "export_query": request.GET.urlencode(),
        },
    )


def csv_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def reseller_usage_csv(request: AuthedHttpRequest) -> HttpResponse:
    actor = access.reseller_get(user=request.user)
    _, period = _reseller_period(request)
    assert actor.organization is not None  # noqa: S101
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    suffix = f"-{period:%Y-%m}" if period else ""
    response["Content-Disposition"] = f'attachment; filename="charges-by-end-customer{suffix}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "period",
            "end_customer_reference",
            "end_customer",
            "invoice_number",
            "contract",
            "description",
            "quantity",
            "unit",
            "amount",
            "currency",
        ]
    )
    for line in access.reseller_charge_lines(organization=actor.organization, period=period):
        customer = line.invoice.end_customer or (line.rate_line.site.end_customer if line.rate_line.site else None)
        writer.writerow(
            [
                csv_safe(f"{line.invoice.period:%Y-%m}"),
                csv_safe(customer.reference if customer else ""),
                csv_safe(customer.name if customer else ""),
                csv_safe(line.invoice.number),
                csv_safe(line.contract.number),
                csv_safe(line.description),
                csv_safe(f"{line.quantity.normalize():f}"),
                csv_safe(line.unit),
                csv_safe(line.amount),
                csv_safe(line.invoice.currency),
            ]
        )
    return response


def usage_format(request: AuthedHttpRequest) -> HttpResponse:
    """A sample usage CSV with every column, for carriers to start from."""
    access.finance_reader_get(user=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="usage-sample.csv"'
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    writer.writerow(
        ["r-0001", "CT-XXXXXX", "2026-10-01T00:00:00Z", "2026-10-01T01:00:00Z", "12.5", "GB"] + [""] * len(OPTIONAL)
    )
    return response
