"""Buyer portal pages: dashboard, registration, profile, sites, end customers and buying groups."""

from __future__ import annotations

import csv
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from buyers import forms, selectors, services
from buyers.models import BuyerProfile, BuyingGroup, EndCustomer, GroupMembership
from marketplace.csv_import import parse_csv
from marketplace.http import AuthedHttpRequest
from marketplace.models import Membership, Organization
from marketplace.services import DomainError, document_add

PAGE_SIZE = 25


def _is_owner(membership: Membership) -> bool:
    return membership.role == Membership.Role.OWNER


# --- Dashboard ---------------------------------------------------------------------------------------


def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_membership_get(user=request.user)
    org = membership.organization
    summary = selectors.dashboard_summary(organization=org)
    profile: BuyerProfile | None = summary["profile"]  # type: ignore[assignment]
    return render(
        request,
        "buyers/dashboard.html",
        {
            "org": org,
            "is_owner": _is_owner(membership),
            "registration_complete": profile is not None and profile.is_complete,
            "can_resubmit": org.verification_status == Organization.Verification.REJECTED,
            "is_reseller": profile is not None and profile.is_reseller,
            **summary,
        },
    )


# --- Registration ------------------------------------------------------------------------------------

STEPS: list[tuple[str, str, type[Any] | None]] = [
    ("names", "Organisation", forms.NamesStepForm),
    ("contact", "Contact details", forms.ContactStepForm),
    ("business", "Business", forms.BusinessStepForm),
    ("identity", "Registration", forms.IdentityStepForm),
    ("documents", "Documents", forms.DocumentForm),
    ("review", "Review and submit", None),
]
STEP_NAMES = [s[0] for s in STEPS]


def _initial(org: Organization, profile: BuyerProfile | None) -> dict[str, Any]:
    data: dict[str, Any] = {f: getattr(org, f) for f in forms.ORG_FIELDS}
    if profile is not None:
        data.update({f: getattr(profile, f) for f in services.PROFILE_FIELDS})
    return data


def register(request: AuthedHttpRequest) -> HttpResponse:
    selectors.buyer_owner_membership_get(user=request.user)
    return redirect("buyers:register_step", step=STEP_NAMES[0])


def register_step(request: AuthedHttpRequest, step: str) -> HttpResponse:
    membership = selectors.buyer_owner_membership_get(user=request.user)
    if step not in STEP_NAMES:
        raise Http404("No such step.")
    org = membership.organization
    index = STEP_NAMES.index(step)
    _, title, form_class = STEPS[index]
    profile = selectors.profile_for(org)
    context: dict[str, Any] = {
        "org": org,
        "steps": [(name, label) for name, label, _ in STEPS],
        "step": step,
        "step_number": index + 1,
        "title": title,
        "previous": STEP_NAMES[index - 1] if index else None,
        "next": STEP_NAMES[index + 1] if index + 1 < len(STEPS) else None,
    }
    if step == "review":
        context.update(
            profile=profile,
            missing=services.registration_missing(organization=org, profile=profile),
            documents=org.documents.all(),  # type: ignore[attr-defined]
        )
        return render(request, "buyers/register_review.html", context)
    if step == "documents":
        return _register_documents(request, membership, context)
    assert form_class is not None  # noqa: S101
    form = form_class(request.POST or None, initial=_initial(org, profile))
    if request.method == "POST" and form.is_valid():
        org_fields, profile_fields = forms.split_fields(form.cleaned_data)
        try:
            services.buyer_profile_update(actor=request.user, organization=org, org_fields=org_fields, **profile_fields)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("buyers:register_step", step=STEP_NAMES[index + 1])
    context["form"] = form
    return render(request, "buyers/register_step.html", context, status=400 if form.errors else 200)


def _register_documents(request: AuthedHttpRequest, membership: Membership, context: dict[str, Any]) -> HttpResponse:
    org = membership.organization
    form = forms.DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = document_add(
                actor=request.user, organization=org, file=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Uploaded {document.original_name}.")
            return redirect("buyers:register_step", step="documents")
    context.update(form=form, documents=org.documents.all())  # type: ignore[attr-defined]
    return render(request, "buyers/register_documents.html", context, status=400 if form.errors else 200)


@require_POST
def register_submit(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_owner_membership_get(user=request.user)
    try:
        services.buyer_registration_submit(actor=request.user, organization=membership.organization)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("buyers:register_step", step="review")
    messages.success(request, "Thank you. Your organisation is waiting for the moderator's review.")
    return redirect("buyers:dashboard")


# --- Profile -----------------------------------------------------------------------------------------


def profile(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_membership_get(user=request.user)
    org = membership.organization
    return render(
        request,
        "buyers/profile.html",
        {"org": org, "profile": selectors.profile_for(org), "is_owner": _is_owner(membership)},
    )


def profile_edit(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_owner_membership_get(user=request.user)
    org = membership.organization
    current = selectors.profile_for(org)
    form = forms.ProfileForm(request.POST or None, initial=_initial(org, current))
    if request.method == "POST" and form.is_valid():
        was = org.verification_status
        org_fields, profile_fields = forms.split_fields(form.cleaned_data)
        try:
            services.buyer_profile_update(actor=request.user, organization=org, org_fields=org_fields, **profile_fields)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            if (
                was == Organization.Verification.VERIFIED
                and org.verification_status == Organization.Verification.PENDING
            ):
                messages.warning(
                    request, "Saved. You changed verified details, so the moderator will review them again."
                )
            else:
                messages.success(request, "Profile saved.")
            return redirect("buyers:profile")
    return render(
        request,
        "buyers/profile_edit.html",
        {"org": org, "form": form, "is_verified": org.is_verified},
        status=400 if form.errors else 200,
    )


# --- Sites -------------------------------------------------------------------------------------------


def _customers_for(org: Organization) -> Any:
    if selectors.is_reseller(org):
        return EndCustomer.objects.filter(reseller=org)
    return None


def site_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_membership_get(user=request.user)
    org = membership.organization
    search = forms.SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    archived = request.GET.get("archived") == "1"
    page = Paginator(selectors.site_list(organization=org, query=query, archived=archived), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = "buyers/partials/site_rows.html" if request.htmx else "buyers/site_list.html"
    return render(
        request,
        template,
        {"org": org, "page": page, "search": search, "query": query, "archived": archived},
    )


def site_add(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_membership_get(user=request.user)
    org = membership.organization
    customers = _customers_for(org)
    initial = {"country": org.country or "GB"}
    # isdecimal, not isdigit: "²" is a digit that no primary key can be.
    if customers is not None and request.GET.get("customer", "").isdecimal():
        initial["end_customer"] = customers.filter(pk=request.GET["customer"]).first()
    form_class = forms.SiteWithCustomerForm if customers is not None else forms.SiteForm
    kwargs = {"customers": customers} if customers is not None else {}
    form = form_class(request.POST or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        end_customer = data.pop("end_customer", None)
        try:
            site = services.site_create(actor=request.user, organization=org, end_customer=end_customer, **data)
        except DomainError as exc:
            form.add_error("name" if "name" in str(exc) else None, str(exc))
        else:
            messages.success(request, f"Added {site.name}.")
            return redirect("buyers:site_list")
    return render(request, "buyers/site_form.html", {"form": form, "site": None}, status=400 if form.errors else 200)


def site_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_buyer(user=request.user, pk=pk)
    org = site.organization
    customers = _customers_for(org)
    initial = {f: getattr(site, f) for f in services.SITE_FIELDS}
    initial["end_customer"] = site.end_customer
    form_class = forms.SiteWithCustomerForm if customers is not None else forms.SiteForm
    kwargs = {"customers": customers} if customers is not None else {}
    form = form_class(request.POST or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        end_customer = data.pop("end_customer", None)
        try:
            services.site_update(actor=request.user, site=site, end_customer=end_customer, **data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {data['name']}.")
            return redirect("buyers:site_list")
    return render(request, "buyers/site_form.html", {"form": form, "site": site}, status=400 if form.errors else 200)


@require_POST
def site_archive(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_buyer(user=request.user, pk=pk)
    try:
        services.site_archive(actor=request.user, site=site)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Archived {site.name}. It stays on any request that uses it.")
    return redirect("buyers:site_list")


@require_POST
def site_restore(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_buyer(user=request.user, pk=pk)
    try:
        services.site_restore(actor=request.user, site=site)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(reverse("buyers:site_list") + "?archived=1")
    messages.success(request, f"Restored {site.name}.")
    return redirect("buyers:site_list")


def site_import(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_membership_get(user=request.user)
    org = membership.organization
    form = forms.SiteImportForm(request.POST or None, request.FILES or None)
    errors: list[Any] = []
    if request.method == "POST" and form.is_valid():
        result = parse_csv(form.cleaned_data["file"], forms.SiteCsvRowForm, max_rows=5000)
        errors = list(result.errors)
        if result.rows:
            errors += services.site_import_check(organization=org, rows=result.rows)
        errors.sort(key=lambda e: (e.line, e.field))
        if not errors:
            try:
                created = services.site_import(actor=request.user, organization=org, rows=result.rows)
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Imported {len(created)} site{'s' if len(created) != 1 else ''}.")
                return redirect("buyers:site_list")
        else:
            form.add_error(
                None, f"Nothing was imported: the file has {len(errors)} problem(s). Fix them and upload it again."
            )
    return render(
        request,
        "buyers/site_import.html",
        {"form": form, "errors": errors, "columns": list(forms.SiteCsvRowForm.base_fields)},
        status=400 if form.errors else 200,
    )


def site_template_csv(request: AuthedHttpRequest) -> HttpResponse:
    selectors.buyer_membership_get(user=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="switchboard-sites-template.csv"'
    writer = csv.writer(response)
    writer.writerow(list(forms.SiteCsvRowForm.base_fields))
    writer.writerow(
        [
            "Leeds depot",
            "12 Harbour Road",
            "Leeds",
            "West Yorkshire",
            "LS1 4AP",
            "GB",
            "Sam Site",
            "+44 113 496 0001",
            "sam@example.com",
            "Gate code at reception",
        ]
    )
    return response


# --- End customers (resellers only) -----------------------------------------------------------------


def customer_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.reseller_membership_get(user=request.user)
    page = Paginator(selectors.end_customer_list(organization=membership.organization), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "buyers/customer_list.html", {"page": page})


def customer_add(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.reseller_membership_get(user=request.user)
    form = forms.EndCustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.end_customer_create(
                actor=request.user, organization=membership.organization, **form.cleaned_data
            )
        except DomainError as exc:
            form.add_error("reference", str(exc))
        else:
            messages.success(request, f"Added {customer.name}.")
            return redirect("buyers:customer_detail", pk=customer.pk)
    return render(
        request, "buyers/customer_form.html", {"form": form, "customer": None}, status=400 if form.errors else 200
    )


def customer_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    customer = selectors.end_customer_get_for_reseller(user=request.user, pk=pk)
    sites = customer.sites.filter(archived_at__isnull=True)  # type: ignore[attr-defined]
    return render(request, "buyers/customer_detail.html", {"customer": customer, "sites": sites})


def customer_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    customer = selectors.end_customer_get_for_reseller(user=request.user, pk=pk)
    initial = {f: getattr(customer, f) for f in ("name", "reference", "contact_email", "notes")}
    form = forms.EndCustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.end_customer_update(actor=request.user, customer=customer, **form.cleaned_data)
        except DomainError as exc:
            form.add_error("reference", str(exc))
        else:
            messages.success(request, "Saved.")
            return redirect("buyers:customer_detail", pk=customer.pk)
    return render(
        request, "buyers/customer_form.html", {"form": form, "customer": customer}, status=400 if form.errors else 200
    )


# --- Buying groups -----------------------------------------------------------------------------------


def group_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_membership_get(user=request.user)
    org = membership.organization
    return render(
        request,
        "buyers/group_list.html",
        {
            "org": org,
            "is_owner": _is_owner(membership),
            "groups": selectors.group_list_for_organization(organization=org),
            "invitations": selectors.group_invitations_for_organization(organization=org),
            "requests_sent": selectors.group_requests_sent_by_organization(organization=org),
            "join_form": forms.JoinCodeForm(),
            "can_create": _is_owner(membership) and org.is_verified,
        },
    )


def group_create(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_owner_membership_get(user=request.user)
    org = membership.organization
    form = forms.GroupForm(request.POST or None, initial={"region": org.region, "contact_email": org.contact_email})
    if request.method == "POST" and form.is_valid():
        try:
            group, code = services.group_create(actor=request.user, organization=org, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            # The code exists in clear only here: keep it in the session for exactly one display.
            request.session["buyers_new_join_code"] = {"group": group.pk, "code": code}
            messages.success(request, f"Created {group.name}.")
            return redirect("buyers:group_detail", pk=group.pk)
    return render(
        request,
        "buyers/group_form.html",
        {"form": form, "is_verified": org.is_verified},
        status=400 if form.errors else 200,
    )


@require_POST
def group_join(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_owner_membership_get(user=request.user)
    form = forms.JoinCodeForm(request.POST)
    if form.is_valid():
        try:
            row = services.group_join_with_code(
                actor=request.user, organization=membership.organization, code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            form.add_error("code", str(exc))
        else:
            if row.status == GroupMembership.Status.ACTIVE:
                messages.success(request, f"You joined {row.group.name}.")
                return redirect("buyers:group_detail", pk=row.group_id)
            messages.success(request, f"You asked to join {row.group.name}. The lead will approve or decline.")
            return redirect("buyers:group_list")
    org = membership.organization
    return render(
        request,
        "buyers/group_list.html",
        {
            "org": org,
            "is_owner": True,
            "groups": selectors.group_list_for_organization(organization=org),
            "invitations": selectors.group_invitations_for_organization(organization=org),
            "requests_sent": selectors.group_requests_sent_by_organization(organization=org),
            "join_form": form,
            "can_create": org.is_verified,
        },
        status=400,
    )


def group_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    membership = selectors.buyer_membership_get(user=request.user)
    group = selectors.group_get_for_member(user=request.user, pk=pk)
    return _group_page(request, membership, group, forms.GroupInviteForm())


def _group_page(
    request: AuthedHttpRequest, membership: Membership, group: BuyingGroup, invite_form: forms.GroupInviteForm
) -> HttpResponse:
    is_lead = group.lead_id == membership.organization_id and _is_owner(membership)
    new_code = None
    pending = request.session.get("buyers_new_join_code")
    if is_lead and pending and pending.get("group") == group.pk:
        new_code = pending["code"]
        del request.session["buyers_new_join_code"]
    members = list(selectors.group_members(group=group))
    # Expired invitations stay listed (the lead can invite again), so the list is paged.
    invitations = (
        Paginator(selectors.group_invitations_for_lead(group=group), PAGE_SIZE).get_page(request.GET.get("page"))
        if is_lead
        else None
    )
    own_row = next(
        (
            m
            for m in members
            if m.organization_id == membership.organization_id and m.status == GroupMembership.Status.ACTIVE
        ),
        None,
    )
    return render(
        request,
        "buyers/group_detail.html",
        {
            "group": group,
            "is_lead": is_lead,
            "members": members,
            "invitations": invitations.object_list if invitations is not None else [],
            "page": invitations,
            "invitation_days": settings.GROUP_INVITATION_TTL_DAYS,
            "new_code": new_code,
            "can_leave": own_row is not None
            and not is_lead
            and _is_owner(membership)
            and group.lead_id != membership.organization_id,
            "invite_form": invite_form,
        },
        status=400 if invite_form.errors else 200,
    )


@require_POST
def group_rotate_code(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    group = selectors.group_get_for_lead(user=request.user, pk=pk)
    code = services.group_rotate_code(actor=request.user, group=group)
    request.session["buyers_new_join_code"] = {"group": group.pk, "code": code}
    messages.success(request, "The old join code no longer works. Share the new one below.")
    return redirect("buyers:group_detail", pk=group.pk)


@require_POST
def group_invite(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    group = selectors.group_get_for_lead(user=request.user, pk=pk)
    form = forms.GroupInviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.group_invite(actor=request.user, group=group, email=form.cleaned_data["email"])
        except DomainError as exc:
            form.add_error("email", str(exc))
        else:
            # The same words whoever is behind the address: the lead must not learn who uses Switchboard.
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("buyers:group_detail", pk=group.pk)
    return _group_page(request, selectors.buyer_membership_get(user=request.user), group, form)


@require_POST
def group_invitation_cancel(request: AuthedHttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    invitation = selectors.group_invitation_in_led_group(user=request.user, group_pk=pk, pk=invitation_pk)
    try:
        services.group_invitation_cancel(actor=request.user, invitation=invitation)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Cancelled the invitation to {invitation.email}.")
    return redirect("buyers:group_detail", pk=pk)


def _decide(request: AuthedHttpRequest, pk: int, member_pk: int, action: str) -> HttpResponse:
    row = selectors.group_membership_in_led_group(user=request.user, group_pk=pk, pk=member_pk)
    try:
        if action in ("approve", "decline"):
            services.group_request_decide(actor=request.user, request=row, approve=action == "approve")
        else:
            services.group_member_remove(actor=request.user, member=row)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        done = {"approve": "Approved", "decline": "Declined", "remove": "Removed"}[action]
        messages.success(request, f"{done} {row.organization.display_name}.")
    return redirect("buyers:group_detail", pk=pk)


@require_POST
def group_member_approve(request: AuthedHttpRequest, pk: int, member_pk: int) -> HttpResponse:
    return _decide(request, pk, member_pk, "approve")


@require_POST
def group_member_decline(request: AuthedHttpRequest, pk: int, member_pk: int) -> HttpResponse:
    return _decide(request, pk, member_pk, "decline")


@require_POST
def group_member_remove(request: AuthedHttpRequest, pk: int, member_pk: int) -> HttpResponse:
    return _decide(request, pk, member_pk, "remove")


@require_POST
def group_leave(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    row = selectors.group_membership_for_member_owner(user=request.user, pk=pk)
    try:
        services.group_leave(actor=request.user, member=row)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("buyers:group_detail", pk=pk)
    messages.success(request, f"You left {row.group.name}.")
    return redirect("buyers:group_list")


def _answer(request: AuthedHttpRequest, pk: int, accept: bool) -> HttpResponse:
    row = selectors.group_invitation_get_for_owner(user=request.user, pk=pk)
    try:
        services.group_invitation_answer(actor=request.user, invitation=row, accept=accept)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("buyers:group_list")
    if accept:
        # "Now a member" rather than "joined": accepting is also how an organisation already in the group
        # closes a leftover invitation, and the sentence is true either way.
        messages.success(request, f"You are now a member of {row.group.name}.")
        return redirect("buyers:group_detail", pk=row.group_id)
    messages.info(request, f"You declined the invitation to {row.group.name}.")
    return redirect("buyers:group_list")


@require_POST
def group_invitation_accept(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _answer(request, pk, True)


@require_POST
def group_invitation_decline(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _answer(request, pk, False)
