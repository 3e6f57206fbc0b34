"""Billing pages with bad input never fail with a 500 and leave nothing half-saved; good input does the job."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import BillRun, CommissionRate, Invoice, Note, Payment, Settlement, UsageImport, UsageRecord
from tests.billing import world
from tests.billing.conftest import usage_csv
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def csv_file(data: bytes, name: str = "u.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_carrier_upload_imports_and_the_same_file_again_says_so(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    world.contract(cast)
    client = client_for(cast.seller_admin)
    url = reverse("billing:usage_import_create")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": csv_file(usage_csv(world.ROWS))})
    usage_import = UsageImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "billing:usage_import_detail", args=[usage_import.pk]
    )
    assert usage_import.status == "done" and usage_import.source == "carrier" and UsageRecord.objects.count() == 3
    page = client.get(response["Location"]).content.decode()
    assert "Imported 3 record(s)" in page
    again = client.post(url, {"file": csv_file(usage_csv(world.ROWS), "renamed.csv")}, follow=True)
    assert "already imported" in again.content.decode()
    assert UsageImport.objects.count() == 1 and UsageRecord.objects.count() == 3


def test_bad_usage_files_are_refused_with_every_row(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    world.contract(cast)
    client = client_for(cast.seller_admin)
    url = reverse("billing:usage_import_create")
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"file": csv_file(b"", "empty.csv")}).status_code == 400
    bad = usage_csv(
        [("a", "CT-ACME01", "yesterday", "2026-10-12T01:00:00Z", "1", "GB"), ("b", "NOPE", *world.ROWS[0][2:])]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": csv_file(bad)})
    response = client.get(response["Location"])
    page = response.content.decode()
    assert response.status_code == 200 and "nothing was imported" in page
    assert "interval_start" in page and "no contract for &#x27;NOPE&#x27;" in page
    with django_capture_on_commit_callbacks(execute=True):
        binary = client.post(url, {"file": csv_file(b"\x89PNG\r\n\x1a\n\x00\x00")})
    assert binary.status_code == 302
    assert "not UTF-8" in client.get(binary["Location"]).content.decode()
    assert UsageRecord.objects.count() == 0


def test_staff_upload_chooses_carrier_and_source(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    world.contract(cast)
    client = client_for(cast.moderator)
    url = reverse("billing:usage_import_create")
    missing = client.post(url, {"file": csv_file(usage_csv(world.ROWS))})
    assert missing.status_code == 400 and not UsageImport.objects.exists()
    wrong = client.post(url, {"carrier": cast.buyer_org.pk, "source": "lec", "file": csv_file(usage_csv(world.ROWS))})
    assert wrong.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"carrier": cast.carrier_org.pk, "source": "lec", "file": csv_file(usage_csv(world.ROWS))})
    assert UsageImport.objects.get().source == "lec"
    assert set(UsageRecord.objects.values_list("source", flat=True)) == {"lec"}


def test_progress_partial_polls_until_done(cast) -> None:  # type: ignore[no-untyped-def]
    world.contract(cast)
    running = UsageImport.objects.create(carrier=cast.carrier_org, source="carrier", filename="x.csv", sha256="0" * 64)
    client = client_for(cast.seller_admin)
    polling = client.get(reverse("billing:usage_import_progress", args=[running.pk])).content.decode()
    assert "every 1s" in polling
    done = world.upload(cast)
    finished = client.get(reverse("billing:usage_import_progress", args=[done.pk])).content.decode()
    assert "every 1s" not in finished and "Imported 3 record(s)" in finished


def test_preview_writes_nothing_run_writes_drafts_finalise_needs_confirmation(
    cast, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world.contract(cast)
    world.upload(cast)
    client = client_for(cast.billing_agent)
    posted = client.post(reverse("billing:bill_run_preview", args=["2026-10"]))
    assert posted.status_code == 302 and "?preview=" in posted["Location"]
    preview = client.get(posted["Location"])
    assert preview.status_code == 200 and "Acme Test Logistics" in preview.content.decode()
    assert "1233.87" in preview.content.decode()
    assert not BillRun.objects.exists() and not Invoice.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:bill_run_execute", args=["2026-10"]))
    assert BillRun.objects.get().status == "draft" and Invoice.objects.get().total == Decimal("1233.87")
    refused = client.post(reverse("billing:bill_run_finalize", args=["2026-10"]), {})
    assert refused.status_code == 400 and "Tick the box" in refused.content.decode()
    assert Invoice.objects.get().status == "draft"
    client.post(reverse("billing:bill_run_finalize", args=["2026-10"]), {"confirm": "on"})
    assert BillRun.objects.get().status == "finalized" and Invoice.objects.get().number
    page = client.get(reverse("billing:bill_run", args=["2026-10"])).content.decode()
    assert "credit or debit notes" in page and "Run again" not in page
    again = client.post(reverse("billing:bill_run_execute", args=["2026-10"]), follow=True)
    assert "is finalised" in again.content.decode()


@pytest.mark.parametrize("period", ["2026-13", "26-10", "october"])
def test_bad_periods_are_404_or_form_errors(cast, period: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.moderator)
    assert client.get(reverse("billing:bill_run", args=[period])).status_code == 404
    assert client.post(reverse("billing:bill_run_execute", args=[period])).status_code == 404
    assert client.get(reverse("billing:bill_run_choose") + f"?period={period}").status_code == 302
    assert not BillRun.objects.exists()


def test_notes_only_on_issued_invoices_with_valid_amounts(cast) -> None:  # type: ignore[no-untyped-def]
    built = world.build(cast)
    invoice = built.invoice
    assert invoice is not None
    client = client_for(cast.moderator)
    url = reverse("billing:note_create", args=[invoice.pk])
    for data in (
        {},
        {"kind": "credit", "amount": "-5", "reason": "x"},
        {"kind": "credit", "amount": "abc", "reason": "x"},
        {"kind": "credit", "amount": str(invoice.total + 1), "reason": "too much"},
        {"kind": "refund", "amount": "5", "reason": "x"},
        {"kind": "credit", "amount": "5", "reason": ""},
    ):
        assert client.post(url, data).status_code == 400, data
    assert not Note.objects.exists()
    client.post(url, {"kind": "credit", "amount": "10.00", "reason": "Outage on 14 October"})
    note = Note.objects.get()
    assert note.amount == Decimal("10.00")
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert note.number in page and str(invoice.total - Decimal("10.00")) in page


def test_payment_by_hand_validates_and_allocates(cast) -> None:  # type: ignore[no-untyped-def]
    invoice = world.build(cast).invoice
    assert invoice is not None
    client = client_for(cast.moderator)
    url = reverse("billing:payment_create")
    good = {
        "buyer": cast.buyer_org.pk,
        "amount": str(invoice.total),
        "currency": "GBP",
        "received_on": "2026-11-20",
        "reference": "BANK-1",
        "invoice": invoice.pk,
    }
    for bad in (
        {},
        {**good, "amount": "0"},
        {**good, "currency": "pounds"},
        {**good, "received_on": "31/02/2026"},
        {**good, "buyer": cast.other_buyer_org.pk},
        {**good, "currency": "EUR"},
        {**good, "reference": "   "},
    ):
        assert client.post(url, bad).status_code == 400, bad
    assert not Payment.objects.exists()
    assert client.post(url, good).status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    duplicate = client.post(url, {**good, "invoice": ""})
    assert duplicate.status_code == 400 and "already recorded" in duplicate.content.decode()
    assert Payment.objects.count() == 1


def test_bank_csv_is_all_or_nothing_with_every_error(cast) -> None:  # type: ignore[no-untyped-def]
    invoice = world.build(cast).invoice
    assert invoice is not None
    client = client_for(cast.moderator)
    url = reverse("billing:payment_import")
    header = "date,amount,currency,reference,invoice_number\n"
    bad = (
        header
        + f"2026-11-20,100.00,GBP,T-1,{invoice.number}\n"
        + "2026-11-21,abc,GBP,T-2,SB-0000-000000\n"
        + f"2026-11-22,5.00,EUR,T-3,{invoice.number}\n"
    ).encode()
    response = client.post(url, {"file": csv_file(bad, "bank.csv")})
    page = response.content.decode()
    assert response.status_code == 400 and "line 3" in page and "line 4" in page and "Nothing was recorded" in page
    dupes = (header + f"2026-11-20,1.00,GBP,T-1,{invoice.number}\n2026-11-21,1.00,GBP,T-1,{invoice.number}\n").encode()
    assert client.post(url, {"file": csv_file(dupes, "bank.csv")}).status_code == 400
    assert client.post(url, {"file": csv_file(b"nonsense\n1\n", "bank.csv")}).status_code == 400
    assert not Payment.objects.exists()
    good = (
        header + f"2026-11-20,100.00,GBP,T-1,{invoice.number}\n20/11/2026,33.87,GBP,T-2,{invoice.number}\n"
    ).encode()
    assert client.post(url, {"file": csv_file(good, "bank.csv")}).status_code == 302
    invoice.refresh_from_db()
    assert Payment.objects.count() == 2 and invoice.amount_paid == Decimal("133.87")


def test_settlement_paid_needs_a_reference_and_happens_once(cast) -> None:  # type: ignore[no-untyped-def]
    settlement = world.build(cast).settlement
    assert settlement is not None
    client = client_for(cast.moderator)
    url = reverse("billing:settlement_mark_paid", args=[settlement.pk])
    assert client.post(url, {"reference": "  "}).status_code == 400
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.DUE
    assert client.post(url, {"reference": "OUT-1"}).status_code == 302
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.PAID and settlement.paid_reference == "OUT-1"
    again = client.post(url, {"reference": "OUT-2"})
    assert again.status_code == 400 and "already paid" in again.content.decode()
    settlement.refresh_from_db()
    assert settlement.paid_reference == "OUT-1"


def test_commission_is_set_by_moderators_within_range(cast) -> None:  # type: ignore[no-untyped-def]
    url = reverse("billing:commission_set", args=[cast.carrier_org.pk])
    client = client_for(cast.moderator)
    for bad in ({}, {"percent": "101"}, {"percent": "-1"}, {"percent": "abc"}):
        assert client.post(url, bad).status_code == 302
    assert not CommissionRate.objects.exists()
    client.post(url, {"percent": "7.5"})
    assert CommissionRate.objects.get(carrier=cast.carrier_org).percent == Decimal("7.50")
    assert client.post(reverse("billing:commission_set", args=[cast.buyer_org.pk]), {"percent": "3"}).status_code == 404


def test_pdf_download_is_an_attachment_for_the_buyer_only(cast) -> None:  # type: ignore[no-untyped-def]
    built = world.build(cast, pdf=True)
    assert built.invoice is not None and built.settlement is not None
    response = client_for(cast.buyer_owner).get(reverse("billing:invoice_pdf", args=[built.invoice.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"].startswith("attachment;")
        and built.invoice.number in response["Content-Disposition"]
    )
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_for(cast.other_buyer).get(reverse("billing:invoice_pdf", args=[built.invoice.pk])).status_code == 404
    assert client_for(cast.seller_admin).get(reverse("billing:invoice_pdf", args=[built.invoice.pk])).status_code == 404
    statement = client_for(cast.seller_admin).get(reverse("billing:settlement_statement", args=[built.settlement.pk]))
    assert statement.status_code == 200 and statement["Content-Disposition"].startswith("attachment;")


@contextlib.contextmanager
def run_lock_held(period: str) -> Iterator[None]:
    """On PostgreSQL, hold a period's run lock from another session, as a live run's worker does."""
    from django.conf import settings
    from django.db import connection

    from billing import services

    if connection.vendor != "postgresql":
        yield
        return
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [services.RUN_LOCK, int(period.replace("-", ""))])
        yield


def test_run_progress_polls_while_running_and_reloads_when_done(cast) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    from billing.services import progress_key
    from tests.billing.world import OCT

    client = client_for(cast.moderator)
    url = reverse("billing:bill_run_progress", args=["2026-10"])
    cache.set(progress_key(OCT), {"phase": "writing invoices", "done": 3, "total": 10})
    with run_lock_held("2026-10"):
        running = client.get(url, headers={"HX-Request": "true"})
    assert (
        running.status_code == 200 and "every 1s" in running.content.decode() and "3 of 10" in running.content.decode()
    )
    cache.set(progress_key(OCT), {"phase": "done", "done": 10, "total": 10})
    finished = client.get(url, headers={"HX-Request": "true"})
    assert finished.status_code == 204 and finished["HX-Refresh"] == "true"
    cache.set(progress_key(OCT), {"phase": "queued", "queued_at": 0})
    stuck = client.get(reverse("billing:bill_run", args=["2026-10"])).content.decode()
    assert "has not started" in stuck and "every 1s" not in stuck
    cache.delete(progress_key(OCT))


def test_list_filters_with_bad_values_show_errors_not_500(cast) -> None:  # type: ignore[no-untyped-def]
    world.build(cast)
    moderator = client_for(cast.moderator)
    for url in (
        reverse("billing:invoice_list") + "?period=2026-99&status=nope&q=" + "x" * 300,
        reverse("billing:settlement_list") + "?period=garbage&carrier=abc",
        reverse("billing:invoice_list") + "?page=999",
    ):
        assert moderator.get(url).status_code == 200, url
    filtered = moderator.get(reverse("billing:invoice_list") + "?period=2026-10&status=final&q=Acme").content.decode()
    assert "SB-" in filtered
    empty = moderator.get(reverse("billing:invoice_list") + "?period=2026-09").content.decode()
    assert "No invoices match" in empty
    carrier = client_for(cast.seller_admin)
    assert carrier.get(reverse("billing:carrier_lines") + "?period=bad").status_code == 200
    buyer = client_for(cast.buyer_owner)
    assert buyer.get(reverse("billing:invoice_list") + "?page=abc").status_code == 200


def test_a_run_whose_worker_died_is_shown_as_stopped(cast) -> None:  # type: ignore[no-untyped-def]
    import time

    from django.core.cache import cache

    from billing import services
    from billing.selectors import RUN_PATIENCE

    client = client_for(cast.moderator)
    url = reverse("billing:bill_run_progress", args=["2026-10"])
    key = services.progress_key(date(2026, 10, 1))
    # The worker set "rating" and then died: its transaction (and on PostgreSQL its lock) went with it.
    cache.set(key, {"phase": "rating", "done": 0, "total": 0, "at": time.time() - RUN_PATIENCE - 1})
    page = client.get(url).content.decode()
    assert "stopped before it finished" in page and "Running" not in page
    # A live run holds the period's advisory lock (PostgreSQL) or moves its progress (elsewhere): Running.
    cache.set(key, {"phase": "rating", "done": 0, "total": 0, "at": time.time()})
    with run_lock_held("2026-10"):
        page = client.get(url).content.decode()
    assert "Running" in page and "stopped" not in page


def test_the_run_page_shows_a_page_of_drafts_with_the_whole_months_totals(cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    from billing import services
    from tests.billing.conftest import make_contract
    from tests.factories import OrganizationFactory

    for i in range(23):
        make_contract(
            OrganizationFactory(name=f"Buyer {i:02d}", kind="buyer"),
            cast.carrier_org,
            number=f"CT-PAGE{i:02d}",
            start=date(2026, 1, 1),
            end=date(2027, 1, 1),
            lines=[{"code": "data-mpls", "description": "Line", "monthly_charge": Decimal("10.00")}],
        )
    services.bill_run_execute(period=date(2026, 10, 1))
    client = client_for(cast.moderator)
    url = reverse("billing:bill_run", args=["2026-10"])
    client.get(url)  # warm the session and membership caches
    with django_assert_max_num_queries(12):
        first = client.get(url).content.decode()
    # 20 invoices a page, each with its lines; the total is the month's, all 23 invoices.
    assert first.count('class="invoice-card"') == 20
    assert "230.00 GBP" in first and "in 23 invoice(s); these are 1–20" in first
    assert "Buyer 00" in first and "Buyer 22" not in first
    assert f'href="{url}?page=2"' in first
    second = client.get(url + "?page=2").content.decode()
    assert second.count('class="invoice-card"') == 3 and "Buyer 22" in second and "Finalise October 2026" in second
    # The progress poll does not read the drafts at all.
    with django_assert_max_num_queries(8):
        assert client.get(reverse("billing:bill_run_progress", args=["2026-10"])).status_code == 200


def test_a_preview_of_many_buyers_comes_a_page_at_a_time_and_only_to_whoever_made_it(cast) -> None:  # type: ignore[no-untyped-def]
    from billing.views import PREVIEW_PAGE_SIZE
    from tests.billing.conftest import make_contract
    from tests.factories import OrganizationFactory

    for i in range(PREVIEW_PAGE_SIZE + 3):
        make_contract(
            OrganizationFactory(name=f"Buyer {i:03d}", kind="buyer"),
            cast.carrier_org,
            number=f"CT-PREV{i:03d}",
            start=date(2026, 1, 1),
            end=date(2027, 1, 1),
            lines=[{"code": "data-mpls", "description": "Line", "monthly_charge": Decimal("10.00")}],
        )
    client = client_for(cast.moderator)
    location = client.post(reverse("billing:bill_run_preview", args=["2026-10"]))["Location"]
    first = " ".join(client.get(location).content.decode().split())
    assert "for 53 buyer(s)" in first and "530.00 GBP" in first and "showing rows 1–50 of 53" in first
    assert "Buyer 000" in first and "Buyer 049" in first and "Buyer 050" not in first
    assert "Total GBP" not in first  # the totals row closes the last page; the summary above carries them
    token = location.split("?preview=")[1].split("#")[0]
    next_link = f"?preview={token}&amp;preview_page=2#preview-title"
    assert next_link in first
    second = " ".join(client.get(location.split("#")[0] + "&preview_page=2").content.decode().split())
    assert "Buyer 050" in second and "Buyer 052" in second and "Buyer 000" not in second and "Total GBP" in second
    # Turning pages rates nothing again and writes nothing.
    assert not BillRun.objects.exists() and not Invoice.objects.exists()
    # Another billing user holding the link sees no preview; an unknown or expired one says to preview again.
    other = client_for(cast.billing_agent).get(location.split("#")[0], follow=True).content.decode()
    assert "Buyer 000" not in other and "That preview has expired" in other
    stale = client.get(reverse("billing:bill_run", args=["2026-10"]) + "?preview=nope", follow=True)
    assert stale.redirect_chain == [(reverse("billing:bill_run", args=["2026-10"]), 302)]
    assert "That preview has expired" in stale.content.decode() and "Buyer 000" not in stale.content.decode()
