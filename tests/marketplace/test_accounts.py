"""Sign-up with mandatory e-mail verification, sign-in, password reset, admin sign-in through allauth."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings

from marketplace.models import Membership, Organization, User
from tests.factories import PASSWORD


def _link(body: str, fragment: str) -> str:
    match = re.search(rf"https?://[^/\s]+(/accounts/{fragment}/\S+)", body)
    assert match, body
    return match.group(1)


@pytest.mark.django_db
def test_signup_requires_email_verification_then_onboarding_creates_a_buyer() -> None:
    client = Client()
    response = client.post(
        "/accounts/signup/", {"email": "New.Person@Example.test", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new.person@example.test")
    # Not verified yet: signing in is refused and another confirmation mail goes out.
    assert client.get("/home/").status_code == 302
    assert len(mail.outbox) == 1
    confirm = _link(mail.outbox[0].body, "confirm-email")

    assert client.get(confirm).status_code == 200
    response = client.post(confirm, follow=True)
    assert response.redirect_chain[-1][0] == "/welcome/"

    response = client.post(
        "/welcome/",
        {
            "kind": "buyer",
            "name": "New Person Trading",
            "street": "1 Main Street",
            "city": "York",
            "region": "North Yorkshire",
            "postcode": "YO1 7HH",
            "country": "gb",
            "phone": "+44 1904 000000",
            "contact_email": "office@newperson.test",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/buyer/"
    membership = Membership.objects.select_related("organization").get(user=user)
    assert membership.role == "owner"
    assert membership.organization.kind == Organization.Kind.BUYER
    assert membership.organization.country == "GB"
    assert membership.organization.verification_status == "unverified"


@pytest.mark.django_db
def test_tampered_confirmation_link_says_so() -> None:
    response = Client().get("/accounts/confirm-email/not-a-real-key/")
    assert response.status_code == 404 or b"expired or is invalid" in response.content


@pytest.mark.django_db
def test_password_reset_with_mailed_link_and_tampered_link(cast) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.post("/accounts/password/reset/", {"email": cast.buyer_owner.email})
    assert len(mail.outbox) == 1
    link = _link(mail.outbox[0].body, "password/reset/key")
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(form_url, {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"})
    assert response.status_code == 302
    cast.buyer_owner.refresh_from_db()
    assert cast.buyer_owner.check_password("a-brand-new-passphrase")

    bad = Client().get("/accounts/password/reset/key/1-forged-token/", follow=True)
    assert b"Bad Token" in bad.content or b"invalid" in bad.content.lower()


@pytest.mark.django_db
def test_sign_in_with_wrong_password_shows_error_next_to_form(cast) -> None:  # type: ignore[no-untyped-def]
    response = Client().post("/accounts/login/", {"login": cast.buyer_owner.email, "password": "wrong"})
    assert response.status_code == 200
    assert b"not correct" in response.content


@pytest.mark.django_db
def test_admin_login_goes_through_allauth(cast) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/admin/")
    assert response.status_code == 302
    login = Client().get(response["Location"])
    assert login.status_code == 302 and login["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/m/ip"})
def test_failed_sign_ins_are_rate_limited(cast) -> None:  # type: ignore[no-untyped-def]
    cache.clear()
    client = Client()
    pages = [
        client.post("/accounts/login/", {"login": cast.buyer_owner.email, "password": "nope"}).content for _ in range(4)
    ]
    assert all(b"Too many failed login attempts" not in p for p in pages[:3])
    assert b"Too many failed login attempts" in pages[3]
    # Even the right password is refused while the limit holds.
    right = client.post("/accounts/login/", {"login": cast.buyer_owner.email, "password": PASSWORD})
    assert right.status_code == 200 and b"Too many failed login attempts" in right.content
    cache.clear()


@pytest.mark.django_db
def test_each_role_lands_in_its_portal(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    expected = {
        "buyer_owner": "/buyer/",
        "seller_sales": "/seller/",
        "moderator": "/console/",
        "billing_agent": "/billing/",
    }
    for role, target in expected.items():
        assert as_role(role).get("/home/")["Location"] == target
