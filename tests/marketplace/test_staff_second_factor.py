"""With REQUIRE_STAFF_2FA (on in production), a moderator or billing agent without an authenticator can only set
one up."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"


@pytest.fixture
def required(settings):  # type: ignore[no-untyped-def]
    settings.REQUIRE_STAFF_2FA = True


@pytest.mark.parametrize("path", ["/console/", "/billing/", "/admin/"])
def test_a_moderator_without_an_authenticator_is_sent_to_set_one_up(cast, required, path) -> None:  # type: ignore[no-untyped-def]
    response = client_for(cast.moderator).get(path)
    assert response.status_code == 302
    assert response["Location"] == ACTIVATE


def test_htmx_requests_are_redirected_by_the_browser_not_swapped_in(cast, required) -> None:  # type: ignore[no-untyped-def]
    response = client_for(cast.moderator).get("/console/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == ACTIVATE


def test_the_account_pages_stay_open_so_setting_up_is_possible(cast, required) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.moderator)
    # allauth asks for the password again before security changes; the gate does not loop back on itself.
    page = client.get("/console/", follow=True)
    assert page.status_code == 200
    assert page.redirect_chain[-1][0].startswith("/accounts/reauthenticate/")
    assert b"Set up two-factor authentication before you use the moderator tools." in page.content
    assert client.post("/accounts/logout/").status_code == 302


def test_a_moderator_with_an_authenticator_works_as_before(cast, required) -> None:  # type: ignore[no-untyped-def]
    TOTP.activate(cast.moderator, generate_totp_secret())
    assert client_for(cast.moderator).get("/console/").status_code == 200


def test_a_billing_agent_sees_invoices_and_payments_so_is_held_to_it_too(cast, required) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.billing_agent)
    for path in ("/billing/", "/billing/payments/", "/billing/ledger/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == ACTIVATE
    page = client.get("/billing/", follow=True)
    assert b"Set up two-factor authentication before you use the billing tools." in page.content
    TOTP.activate(cast.billing_agent, generate_totp_secret())
    assert client_for(cast.billing_agent).get("/billing/").status_code == 200


def test_other_users_are_not_asked(cast, required) -> None:  # type: ignore[no-untyped-def]
    assert client_for(cast.buyer_owner).get("/buyer/").status_code == 200
    assert client_for(cast.seller_admin).get("/seller/").status_code == 200


def test_off_by_default_outside_production(cast) -> None:  # type: ignore[no-untyped-def]
    assert client_for(cast.moderator).get("/console/").status_code == 200


def test_an_invited_agent_chooses_a_password_first_then_sets_up_two_factor(cast, required) -> None:  # type: ignore[no-untyped-def]
    cast.billing_agent.must_change_password = True  # invited with an initial password
    cast.billing_agent.save(update_fields=["must_change_password"])
    client = client_for(cast.billing_agent)
    first = client.get("/billing/")
    assert first.status_code == 302 and first["Location"] == "/account/choose-password/"
    assert client.get(first["Location"]).status_code == 200  # not bounced on to the authenticator and back
    cast.billing_agent.must_change_password = False
    cast.billing_agent.save(update_fields=["must_change_password"])
    assert client_for(cast.billing_agent).get("/billing/")["Location"] == ACTIVATE
