"""Times on pages are shown in the signed-in user's zone, and in UTC to anyone whose zone is unknown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from marketplace.models import Notification
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)  # summer: London is UTC+1, New York UTC-4


def _inbox_for(user, zone: str) -> str:  # type: ignore[no-untyped-def]
    user.timezone = zone
    user.save(update_fields=["timezone"])
    Notification.objects.create(recipient=user, key="k1", kind="test", subject="Bids open", body="", created_at=SENT)
    return client_for(user).get(reverse("inbox")).content.decode()


def test_a_london_user_sees_british_summer_time(cast) -> None:  # type: ignore[no-untyped-def]
    html = _inbox_for(cast.buyer_owner, "Europe/London")
    assert "1 Jul 2026 13:30 BST" in html


def test_a_new_york_user_sees_eastern_time(cast) -> None:  # type: ignore[no-untyped-def]
    html = _inbox_for(cast.seller_sales, "America/New_York")
    assert "1 Jul 2026 08:30 EDT" in html


def test_an_unknown_zone_falls_back_to_utc(cast) -> None:  # type: ignore[no-untyped-def]
    html = _inbox_for(cast.buyer_member, "Mars/Olympus_Mons")
    assert "1 Jul 2026 12:30 UTC" in html


def test_the_zone_does_not_leak_into_the_next_request(cast) -> None:  # type: ignore[no-untyped-def]
    _inbox_for(cast.buyer_owner, "Asia/Tokyo")
    other = cast.other_buyer
    other.timezone = "UTC"
    other.save(update_fields=["timezone"])
    Notification.objects.create(recipient=other, key="k2", kind="test", subject="Hello", body="", created_at=SENT)
    html = client_for(other).get(reverse("inbox")).content.decode()
    assert "1 Jul 2026 12:30 UTC" in html
