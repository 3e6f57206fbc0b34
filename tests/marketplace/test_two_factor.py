"""The optional TOTP second factor: activate it, then every sign-in asks for a code."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.test import Client

from tests.factories import PASSWORD


def _code(secret: str) -> str:
    # A code read in the last seconds of its 30-second window may arrive after it closes on a busy machine.
    if 30 - time.time() % 30 < 5:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.mark.django_db
def test_totp_activation_then_sign_in_needs_the_code(cast) -> None:  # type: ignore[no-untyped-def]
    email = cast.buyer_owner.email
    client = Client()
    client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    # Changing security settings asks for the password again, even right after signing in.
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000" if _code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200 and not Authenticator.objects.filter(user=cast.buyer_owner).exists()
    done = client.post("/accounts/2fa/totp/activate/", {"code": _code(secret)})
    assert done.status_code == 302
    assert Authenticator.objects.filter(user=cast.buyer_owner, type=Authenticator.Type.TOTP).exists()

    second = Client()
    response = second.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert second.get("/buyer/").status_code == 302  # not signed in yet
    bad = second.post("/accounts/2fa/authenticate/", {"code": "12345"})
    assert bad.status_code == 200 and second.get("/buyer/").status_code == 302
    good = second.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    assert good.status_code == 302
    assert second.get("/buyer/").status_code == 200
