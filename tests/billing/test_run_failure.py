"""A run the database cannot write (a charge too large for an invoice) fails whole, says why and keeps nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from billing import services
from billing.models import BillRun, Invoice, InvoiceLine
from marketplace.models import AuditEvent
from marketplace.services import DomainError
from tests.billing.conftest import make_contract, usage_csv
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
OCT = date(2026, 10, 1)
TOO_LARGE = "larger than an invoice can hold"
# Two records at the per-record limit, at 1.00 a unit: 1,999,999,999,999.99, past numeric(14, 2).
HUGE = [
    ("h1", "CT-HUGE01", "2026-10-03T00:00:00Z", "2026-10-04T00:00:00Z", "999999999999", "unit"),
    ("h2", "CT-HUGE01", "2026-10-04T00:00:00Z", "2026-10-05T00:00:00Z", "999999999999", "unit"),
]


def load(world, rows, filename):  # type: ignore[no-untyped-def]
    outcome = services.usage_import_create(
        actor=world.seller_admin, carrier=world.carrier_org, source="carrier", filename=filename, data=usage_csv(rows)
    )
    result = services.usage_import_run(import_id=outcome.usage_import.pk)
    assert result.status == "done", result.errors


@pytest.fixture
def huge_usage(billing_world):  # type: ignore[no-untyped-def]
    """Acme's month bills normally; a second contract is about to receive usage no invoice can hold."""
    make_contract(
        billing_world.buyer_org,
        billing_world.carrier_org,
        number="CT-HUGE01",
        start=date(2026, 1, 1),
        end=date(2027, 1, 1),
        lines=[{"code": "data-mpls", "description": "Metered MPLS", "usage_unit": "unit", "usage_rate": Decimal("1")}],
    )
    load(billing_world, [("d1", "CT-ACME01", "2026-10-12T00:00:00Z", "2026-10-13T00:00:00Z", "40", "GB")], "ok.csv")
    return billing_world


def test_a_refused_run_records_why_keeps_the_last_drafts_and_cannot_be_finalised(huge_usage) -> None:  # type: ignore[no-untyped-def]
    good = services.bill_run_execute(period=OCT, actor=huge_usage.moderator)
    drafts = list(InvoiceLine.objects.order_by("id").values_list("id", "amount"))
    load(huge_usage, HUGE, "huge.csv")

    with pytest.raises(services.BillRunFailed, match=TOO_LARGE):
        services.bill_run_execute(period=OCT, actor=huge_usage.moderator)

    run = BillRun.objects.get(period=OCT)
    assert run.status == BillRun.Status.FAILED and TOO_LARGE in run.error
    # It names the line, on either rating path: 1,999,999,999,998 units at 1.00.
    assert "CT-HUGE01, Metered MPLS: usage" in run.error and "1,999,999,999,998.00" in run.error
    assert run.fingerprint == good.fingerprint and run.started_by == huge_usage.moderator
    # Nothing of the refused attempt stays: the drafts are the last good run's, row for row.
    assert list(InvoiceLine.objects.order_by("id").values_list("id", "amount")) == drafts
    event = AuditEvent.objects.filter(action="bill_run.fail").get()
    assert TOO_LARGE in event.after["error"] and event.actor == huge_usage.moderator
    with pytest.raises(DomainError, match="last run of October 2026 failed"):
        services.bill_run_finalize(actor=huge_usage.moderator, period=OCT)
    assert not Invoice.objects.exclude(status=Invoice.Status.DRAFT).exists()

    # Once the bad records go, the month runs again to the same drafts and the failure is cleared.
    from billing.models import UsageRecord

    UsageRecord.objects.filter(record_id__in=["h1", "h2"]).delete()
    assert services.bill_run_execute(period=OCT).fingerprint == good.fingerprint
    run.refresh_from_db()
    assert run.status == BillRun.Status.DRAFT and run.error == ""


def test_a_first_run_that_fails_leaves_a_failed_run_and_no_invoices(huge_usage) -> None:  # type: ignore[no-untyped-def]
    load(huge_usage, HUGE, "huge.csv")
    with pytest.raises(CommandError, match=TOO_LARGE):
        call_command("bill_run", "--period", "2026-10")
    assert BillRun.objects.get(period=OCT).status == BillRun.Status.FAILED
    assert not Invoice.objects.exists() and not InvoiceLine.objects.exists()
    # A dry run that fails writes nothing at all, not even the failure.
    BillRun.objects.all().delete()
    with pytest.raises(CommandError, match=TOO_LARGE):
        call_command("bill_run", "--period", "2026-10", "--dry-run")
    assert not BillRun.objects.exists()


def test_the_run_page_shows_the_failure_and_offers_no_finalise(huge_usage, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    load(huge_usage, HUGE, "huge.csv")
    client = client_for(huge_usage.billing_agent)
    preview = client.post(reverse("billing:bill_run_preview", args=["2026-10"]), follow=True)
    assert preview.status_code == 200 and TOO_LARGE in preview.content.decode()
    assert not BillRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:bill_run_execute", args=["2026-10"]))
    assert response.status_code == 302
    page = client.get(reverse("billing:bill_run", args=["2026-10"])).content.decode()
    assert "Failed" in page and TOO_LARGE in page and "wrote nothing." in page
    assert "Finalise and issue" not in page and "Run again" in page
    # The progress poll stops: the run is over.
    poll = client.get(reverse("billing:bill_run_progress", args=["2026-10"]), headers={"HX-Request": "true"})
    assert poll.status_code == 204 and poll["HX-Refresh"] == "true"


def test_billing_staff_hear_how_a_scheduled_run_ended(huge_usage, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from django.core import mail

    from billing.tasks import bill_run_task
    from marketplace.models import Notification

    staff = {huge_usage.moderator.email, huge_usage.billing_agent.email}
    # Beat on 1 November bills October; nobody started it, so moderators and agents get an inbox entry and e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        services.bill_run_execute(period=OCT)
    ready = Notification.objects.filter(kind="bill_run")
    assert {n.recipient.email for n in ready} == staff
    assert all("October 2026: 1 draft invoice(s) ready for review" == n.subject for n in ready)
    assert {m.to[0] for m in mail.outbox} == staff and "/billing/runs/2026-10/" in ready[0].url
    # The same drafts again: nothing new to say.
    with django_capture_on_commit_callbacks(execute=True):
        services.bill_run_execute(period=OCT)
    assert Notification.objects.filter(kind="bill_run").count() == 2 and len(mail.outbox) == 2

    load(huge_usage, HUGE, "huge.csv")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert bill_run_task("2026-10-01") == "failed"  # what beat's monthly task runs on 1 November
    failed = Notification.objects.filter(kind="bill_run", subject="October 2026: the bill run failed")
    assert {n.recipient.email for n in failed} == staff and TOO_LARGE in failed[0].body
    assert {m.to[0] for m in mail.outbox} == staff

    # A run started by hand tells the others in the inbox only; its starter sees the page.
    from billing.models import UsageRecord

    UsageRecord.objects.filter(record_id__in=["h1", "h2"]).delete()
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.bill_run_execute(period=OCT, actor=huge_usage.billing_agent)
    assert [n.recipient.email for n in Notification.objects.filter(kind="bill_run")] == [huge_usage.moderator.email]
    assert not mail.outbox


def test_the_scheduled_run_of_a_month_already_finalised_does_nothing_and_says_so(billing_world) -> None:  # type: ignore[no-untyped-def]
    from billing.tasks import bill_run_task

    services.bill_run_execute(period=OCT)
    services.bill_run_finalize(actor=billing_world.moderator, period=OCT)
    # Billed in advance, or by cron with --finalize: beat's run on 1 November has nothing to do and does not fail.
    assert bill_run_task("2026-10-01") == "refused"
    assert BillRun.objects.get(period=OCT).status == BillRun.Status.FINALIZED


def test_good_drafts_after_a_failure_are_announced_again_and_issued_months_are_not_drafts(
    huge_usage, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from billing.models import UsageRecord
    from marketplace.models import Notification

    def latest() -> str:
        return Notification.objects.filter(recipient=huge_usage.billing_agent, kind="bill_run").latest("pk").subject

    with django_capture_on_commit_callbacks(execute=True):
        services.bill_run_execute(period=OCT)
    load(huge_usage, HUGE, "huge.csv")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.BillRunFailed):
        services.bill_run_execute(period=OCT)
    assert latest() == "October 2026: the bill run failed"
    # Fixed: the same drafts as before the failure, and the agent's latest word says so.
    UsageRecord.objects.filter(record_id__in=["h1", "h2"]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.bill_run_execute(period=OCT)
    assert latest() == "October 2026: 1 draft invoice(s) ready for review"

    # Cron's `bill_run --finalize` issues at once: billing staff hear it was issued, not that drafts await review.
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("bill_run", "--period", "2026-10", "--finalize")
    told = list(Notification.objects.filter(kind="bill_run").values_list("subject", flat=True))
    assert told and set(told) == {"October 2026 finalised: 1 invoice(s) issued"}


def test_an_invoice_whose_lines_fit_but_whose_total_does_not_is_named(billing_world) -> None:  # type: ignore[no-untyped-def]
    big = {"code": "data-mpls", "usage_unit": "unit", "monthly_charge": Decimal("600000000000.00")}
    make_contract(
        billing_world.buyer_org,
        billing_world.carrier_org,
        number="CT-BIG01",
        start=date(2026, 1, 1),
        end=date(2027, 1, 1),
        lines=[{**big, "description": "Trunk A"}, {**big, "description": "Trunk B"}],
    )
    with pytest.raises(services.BillRunFailed) as failed:
        services.bill_run_execute(period=OCT)
    # Either rating path: two 600,000,000,000.00 charges and the leased line's month make one invoice too large.
    assert "the invoice of Acme Test Logistics comes to 1,200,000,00" in str(failed.value)


def test_a_dead_preview_link_leads_to_the_plain_run_page(billing_world) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    services.bill_run_execute(period=OCT)
    client = client_for(billing_world.moderator)
    location = client.post(reverse("billing:bill_run_preview", args=["2026-10"]))["Location"].split("#")[0]
    cache.clear()  # 30 minutes later
    gone = client.get(location + "&page=1")
    assert gone.status_code == 302 and gone["Location"] == reverse("billing:bill_run", args=["2026-10"]) + "?page=1"
    assert "That preview has expired" in client.get(gone["Location"]).content.decode()


def test_a_buyer_billed_in_two_currencies_is_one_buyer_in_the_preview(billing_world) -> None:  # type: ignore[no-untyped-def]
    make_contract(
        billing_world.buyer_org,
        billing_world.carrier_org,
        number="CT-EUR01",
        start=date(2026, 1, 1),
        end=date(2027, 1, 1),
        currency="EUR",
        lines=[{"code": "data-mpls", "description": "Line", "monthly_charge": Decimal("10")}],
    )
    client = client_for(billing_world.moderator)
    location = client.post(reverse("billing:bill_run_preview", args=["2026-10"]))["Location"]
    page = " ".join(client.get(location).content.decode().split())
    assert "would produce 2 invoice(s)" in page and "for 1 buyer(s)" in page


@pytest.mark.django_db(transaction=True)
def test_parallel_runs_of_a_failing_month_fail_once(billing_world) -> None:  # type: ignore[no-untyped-def]
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs waiting on the period's advisory lock")
    big = {"code": "data-mpls", "usage_unit": "unit", "monthly_charge": Decimal("600000000000.00")}
    make_contract(
        billing_world.buyer_org,
        billing_world.carrier_org,
        number="CT-BIG01",
        start=date(2026, 1, 1),
        end=date(2027, 1, 1),
        lines=[{**big, "description": "A"}, {**big, "description": "B"}],
    )
    barrier, errors = threading.Barrier(4), []

    def run() -> None:
        try:
            barrier.wait()
            services.bill_run_execute(period=OCT)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # Each request hears the reason; the month is rated, recorded and announced once.
    assert len(errors) == 4 and all(isinstance(e, services.BillRunFailed) for e in errors)
    assert len({str(e) for e in errors}) == 1
    assert AuditEvent.objects.filter(action="bill_run.fail").count() == 1
