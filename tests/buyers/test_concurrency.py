"""Concurrent clicks decide a join request or an invitation once; two imports of one file create its sites once.

These need PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from buyers import services
from buyers.models import GroupInvitation, GroupMembership, Site
from marketplace.models import AuditEvent
from marketplace.services import DomainError
from tests.buyers.conftest import make_group
from tests.conftest import make_cast

pytestmark = pytest.mark.django_db(transaction=True)


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers and ignores SELECT ... FOR UPDATE")


def _race(jobs: list[Callable[[], object]]) -> tuple[list[object], list[Exception]]:
    barrier = threading.Barrier(len(jobs))
    results: list[object] = []
    errors: list[Exception] = []

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results.append(job())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_approve_and_decline_at_once_decide_the_request_once() -> None:
    _needs_postgres()
    cast = make_cast()
    group, code = make_group(cast.buyer_owner)
    row = services.group_join_with_code(actor=cast.other_buyer, organization=cast.other_buyer_org, code=code)
    jobs = [
        lambda approve=approve: services.group_request_decide(actor=cast.buyer_owner, request=row, approve=approve)
        for approve in (True, False, True, False)
    ]
    results, errors = _race(jobs)  # type: ignore[arg-type]
    assert len(results) == 1 and len(errors) == 3
    assert all(isinstance(e, DomainError) for e in errors), errors
    row.refresh_from_db()
    assert row.status in (GroupMembership.Status.ACTIVE, GroupMembership.Status.DECLINED)


def test_the_same_address_invited_twice_at_once_is_invited_once() -> None:
    _needs_postgres()
    cast = make_cast()
    group, _ = make_group(cast.buyer_owner)
    jobs = [
        lambda email=email: services.group_invite(actor=cast.buyer_owner, group=group, email=email)
        for email in ("someone@example.test", "SOMEONE@example.test", cast.other_buyer.email, cast.other_buyer.email)
    ]
    results, errors = _race(jobs)  # type: ignore[arg-type]
    assert len(results) == 2 and len(errors) == 2
    assert all(isinstance(e, DomainError) and "already invited this address" in str(e) for e in errors), errors
    assert GroupInvitation.objects.filter(group=group, status="pending").count() == 2


def test_accept_and_cancel_at_once_settle_the_invitation_once() -> None:
    _needs_postgres()
    cast = make_cast()
    group, _ = make_group(cast.buyer_owner)
    invitation = services.group_invite(actor=cast.buyer_owner, group=group, email=cast.other_buyer.email)
    jobs = [
        lambda: services.group_invitation_answer(actor=cast.other_buyer, invitation=invitation, accept=True),
        lambda: services.group_invitation_cancel(actor=cast.buyer_owner, invitation=invitation),
        lambda: services.group_invitation_answer(actor=cast.other_buyer, invitation=invitation, accept=False),
    ]
    results, errors = _race(jobs)  # type: ignore[arg-type]
    assert all(isinstance(e, DomainError) for e in errors), errors
    invitation.refresh_from_db()
    joined = GroupMembership.objects.filter(group=group, organization=cast.other_buyer_org, status="active").exists()
    assert joined == (invitation.status == GroupInvitation.Status.ACCEPTED)
    answers = sorted(AuditEvent.objects.filter(action__startswith="group.invitation_").values_list("action", flat=True))
    assert (invitation.status, answers, len(results)) in [
        ("accepted", ["group.invitation_accepted"], 1),
        # Declined, then withdrawn by the lead, to whom a declined invitation still looks pending.
        ("cancelled", ["group.invitation_declined"], 2),
        ("cancelled", [], 1),
    ]


def test_the_same_file_imported_twice_at_once_creates_its_sites_once() -> None:
    _needs_postgres()
    cast = make_cast()
    rows = [
        {
            "name": f"Shop {i}",
            "street": "1 Rd",
            "city": "Leeds",
            "region": "",
            "postcode": "LS1 1AA",
            "country": "GB",
            "contact_name": "",
            "contact_phone": "",
            "contact_email": "",
            "notes": "",
            "line": i + 2,
        }
        for i in range(50)
    ]
    jobs = [
        lambda: services.site_import(actor=cast.buyer_owner, organization=cast.buyer_org, rows=rows) for _ in range(3)
    ]
    results, errors = _race(jobs)  # type: ignore[arg-type]
    assert len(results) == 1 and len(errors) == 2
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert Site.objects.filter(organization=cast.buyer_org).count() == 50
