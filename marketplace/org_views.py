"""Pages every organisation shares: people and invitations, documents, review, first password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marketplace import selectors, services
from marketplace.forms import DocumentForm, InviteForm, RoleForm
from marketplace.http import AuthedHttpRequest
from marketplace.models import Membership

LAYOUTS = {"buyer": "layouts/buyer.html", "seller": "layouts/seller.html", "billing": "layouts/billing.html"}


def _layout(request: AuthedHttpRequest) -> str:
    return LAYOUTS.get(selectors.portal_for_user(request.user), "layouts/public.html")


def _people_context(request: AuthedHttpRequest, membership: Membership, **extra: object) -> dict[str, object]:
    org = membership.organization
    is_manager = membership.role in selectors.manager_roles_for(org.kind)
    return {
        "layout": _layout(request),
        "org": org,
        "me": membership,
        "is_manager": is_manager,
        "people": selectors.people_for_organization(organization=org),
        "invitations": selectors.invitations_for_organization(organization=org) if is_manager else [],
        "invite_form": InviteForm(organization=org) if is_manager else None,
        "role_choices": Membership.ROLES_BY_KIND[org.kind],
        **extra,
    }


def people(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.organization_membership_get(user=request.user)
    return render(request, "marketplace/people.html", _people_context(request, membership))


@require_POST
def invite(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.organization_manager_get(user=request.user)
    org = membership.organization
    form = InviteForm(request.POST, organization=org)
    if form.is_valid():
        try:
            invitation, password = services.invitation_create(actor=request.user, organization=org, **form.cleaned_data)
        except services.DomainError as exc:
            form.add_error("email", str(exc))
        else:
            if password:
                # Shown once, in this response only: never stored in the session or a message.
                return render(
                    request,
                    "marketplace/invitation_password.html",
                    {"layout": _layout(request), "invitation": invitation, "password": password},
                )
            messages.success(request, f"Invitation sent to {invitation.email}; the link works for 72 hours.")
            return redirect("people")
    return render(
        request, "marketplace/people.html", _people_context(request, membership, invite_form=form), status=400
    )


@require_POST
def invitation_resend(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invitation = selectors.invitation_get_for_manager(user=request.user, pk=pk)
    try:
        invitation, password = services.invitation_resend(actor=request.user, invitation=invitation)
    except services.DomainError as exc:
        messages.error(request, str(exc))
        return redirect("people")
    if password:
        return render(
            request,
            "marketplace/invitation_password.html",
            {"layout": _layout(request), "invitation": invitation, "password": password},
        )
    messages.success(request, f"A new link went to {invitation.email}; the old one no longer works.")
    return redirect("people")


@require_POST
def invitation_revoke(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invitation = selectors.invitation_get_for_manager(user=request.user, pk=pk)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("people")


@require_POST
def membership_role(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    membership = selectors.membership_get_for_manager(user=request.user, pk=pk)
    form = RoleForm(request.POST, organization=membership.organization)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles offered.")
        return redirect("people")
    try:
        services.membership_change_role(actor=request.user, membership=membership, role=form.cleaned_data["role"])
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return redirect("people")


@require_POST
def membership_remove(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    membership = selectors.membership_get_for_manager(user=request.user, pk=pk)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except services.DomainError as exc:
        messages.error(request, str(exc))
        return redirect("people")
    messages.success(request, f"{membership.user.email} was removed and can no longer sign in.")
    if membership.user_id == request.user.pk:
        return redirect("account_logout")
    return redirect("people")


@require_POST
def leave(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.organization_membership_get(user=request.user)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except services.DomainError as exc:
        messages.error(request, str(exc))
        return redirect("people")
    return redirect("account_logout")


def documents(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.organization_membership_get(user=request.user)
    org = membership.organization
    can_upload = membership.role in selectors.manager_roles_for(org.kind)
    form = DocumentForm()
    status = 200
    if request.method == "POST":
        selectors.organization_manager_get(user=request.user)
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.document_add(
                    actor=request.user, organization=org, file=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
                )
            except services.DomainError as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(request, "Document uploaded.")
                return redirect("documents")
        status = 400
    return render(
        request,
        "marketplace/documents.html",
        {
            "layout": _layout(request),
            "org": org,
            "documents": selectors.documents_for_organization(organization=org),
            "form": form,
            "can_upload": can_upload,
        },
        status=status,
    )


def document_download(request: AuthedHttpRequest, pk: int) -> FileResponse:
    document = selectors.document_get_for_user(user=request.user, pk=pk)
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def submit_review(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.organization_manager_get(user=request.user)
    try:
        services.organization_submit_for_review(actor=request.user, organization=membership.organization)
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Submitted for review. A moderator will check your details and documents.")
    return redirect("home")


@login_not_required
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(token)
    problem = None
    if invitation is None:
        problem = "This link is not valid. It may have been used already, or replaced by a newer one."
    elif invitation.state != "waiting":
        problem = {
            "expired": "This link has expired. Ask the person who invited you to send a new one.",
            "revoked": "This invitation was withdrawn.",
            "accepted": "This link has already been used. Sign in with the password you chose.",
        }[invitation.state]
    if problem or invitation is None or invitation.user is None:
        return render(request, "marketplace/invitation_accept.html", {"problem": problem}, status=410)
    form = SetPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(token=token, password=form.cleaned_data["new_password1"])
        except services.DomainError as exc:
            return render(request, "marketplace/invitation_accept.html", {"problem": str(exc)}, status=410)
        messages.success(request, "Your password is set. Sign in to continue.")
        return redirect("account_login")
    return render(request, "marketplace/invitation_accept.html", {"form": form, "invitation": invitation})


def choose_password(request: AuthedHttpRequest) -> HttpResponse:
    if not request.user.must_change_password:
        return redirect("home")
    form = SetPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_choose_password(user=request.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)
        messages.success(request, "Your own password is set.")
        return redirect("home")
    return render(request, "marketplace/choose_password.html", {"form": form})
