"""Usage files are imported whole or not at all; duplicates count once; the same file twice changes nothing."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import call_command

from billing import services
from billing.meters import meter_poll
from billing.models import Meter, UsageImport, UsageRecord
from buyers.models import EndCustomer
from tests.billing.conftest import make_contract, usage_csv

pytestmark = pytest.mark.django_db
GOOD = ("CT-ACME01", "2026-10-12T00:00:00Z", "2026-10-12T01:00:00Z")


def upload(world, data: bytes, name: str = "usage.csv"):  # type: ignore[no-untyped-def]
    outcome = services.usage_import_create(
        actor=world.seller_admin, carrier=world.carrier_org, source="carrier", filename=name, data=data
    )
    if outcome.already_imported:
        return outcome
    return services.usage_import_run(import_id=outcome.usage_import.pk)


def test_bad_rows_are_all_reported_and_nothing_is_saved(billing_world) -> None:  # type: ignore[no-untyped-def]
    data = usage_csv(
        [
            ("ok1", *GOOD, "5", "GB"),
            ("", *GOOD, "5", "GB"),
            ("bad-date", "CT-ACME01", "12/10/2026", "2026-10-12T01:00:00Z", "5", "GB"),
            ("neg", *GOOD, "-3", "GB"),
            ("backwards", "CT-ACME01", "2026-10-12T02:00:00Z", "2026-10-12T01:00:00Z", "5", "GB"),
            ("nope", "RFQ-NOPE", "2026-10-12T00:00:00Z", "2026-10-12T01:00:00Z", "5", "GB"),
            ("unit", *GOOD, "5", "furlongs"),
        ]
    )
    result = upload(billing_world, data)
    assert result.status == UsageImport.Status.FAILED
    errors = [(e["line"], e["column"]) for e in result.errors]
    assert (3, "record_id") in errors and (4, "interval_start") in errors and (5, "quantity") in errors
    assert (7, "request") in errors and (8, "request") in errors
    if (6, "interval_end") not in errors:  # PostgreSQL reports order problems once formats are clean
        assert len(errors) == 5
    messages = {e["line"]: e["message"] for e in result.errors}
    assert "no contract" in messages[7] and "no line billed per 'furlongs'" in messages[8]
    assert UsageRecord.objects.count() == 0
    assert "nothing was imported" in result.message


def test_duplicates_count_once_and_same_file_twice_is_a_no_op(billing_world) -> None:  # type: ignore[no-untyped-def]
    first = upload(
        billing_world, usage_csv([("a", *GOOD, "1", "GB"), ("b", *GOOD, "2", "GB"), ("a", *GOOD, "1", "GB")])
    )
    assert (first.inserted, first.duplicates) == (2, 1)
    second = upload(billing_world, usage_csv([("b", *GOOD, "2", "GB"), ("c", *GOOD, "3", "GB")]), "next.csv")
    assert (second.inserted, second.duplicates) == (1, 1)
    again = upload(billing_world, usage_csv([("b", *GOOD, "2", "GB"), ("c", *GOOD, "3", "GB")]), "renamed.csv")
    assert again.already_imported
    assert UsageRecord.objects.count() == 3
    assert UsageImport.objects.count() == 2


def test_wrong_header_and_non_utf8_are_refused(billing_world) -> None:  # type: ignore[no-untyped-def]
    bad_header = upload(billing_world, b"record_id,request,start\nx,y,z\n")
    assert "Missing column(s): interval_start, interval_end, quantity, unit" in bad_header.errors[0]["message"]
    latin = upload(
        billing_world, "record_id,request,interval_start,interval_end,quantity,unit\nü".encode("latin-1"), "latin.csv"
    )
    assert latin.status == UsageImport.Status.FAILED and "UTF-8" in latin.message


def test_group_contracts_need_the_contract_number_and_end_customers_resolve(billing_world) -> None:  # type: ignore[no-untyped-def]
    from rfq.models import Rfq

    world = billing_world
    rfq = Rfq.objects.create(buyer=world.buyer_org, reference="RFQ-GROUP1", title="g")
    for number, buyer in (("CT-G1", world.buyer_org), ("CT-G2", world.other_buyer_org)):
        c = make_contract(
            buyer,
            world.carrier_org,
            number=number,
            start=date(2026, 9, 1),
            end=date(2027, 9, 1),
            lines=[{"code": "data-mpls", "usage_unit": "GB", "usage_rate": Decimal("0.01")}],
        )
        c.rfq = rfq
        c.save()
    result = upload(world, usage_csv([("g1", "RFQ-GROUP1", *GOOD[1:], "1", "GB")]))
    assert "several contracts" in result.errors[0]["message"] and "CT-G1" in result.errors[0]["message"]
    EndCustomer.objects.create(reseller=world.buyer_org, name="Tyne Taxis", reference="HVP-001")
    header = "record_id,request,interval_start,interval_end,quantity,unit,end_customer"
    ok = upload(world, usage_csv([("g2", "CT-G1", *GOOD[1:], "1", "GB", "HVP-001")], header=header), "ec.csv")
    assert ok.status == UsageImport.Status.DONE, ok.errors
    assert UsageRecord.objects.get(record_id="g2").end_customer.reference == "HVP-001"


def test_management_command(billing_world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "october.csv"
    path.write_bytes(usage_csv([("cmd1", *GOOD, "7", "GB")]))
    call_command("import_usage", str(path), "--carrier", billing_world.carrier_org.name, "--source", "lec")
    record = UsageRecord.objects.get(record_id="cmd1")
    assert record.source == "lec" and record.quantity == Decimal("7")


class MeterHandler(BaseHTTPRequestHandler):
    payload: bytes = b"[]"

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args: object) -> None:
        pass


def test_meter_endpoint_is_polled_and_imported_through_the_same_path(billing_world) -> None:  # type: ignore[no-untyped-def]
    MeterHandler.payload = json.dumps(
        {
            "records": [
                {
                    "record_id": "m-1",
                    "interval_start": "2026-10-12T00:00:00Z",
                    "interval_end": "2026-10-12T00:15:00Z",
                    "quantity": "12.5",
                    "unit": "GB",
                    "latency_ms": "4.2",
                },
                {
                    "record_id": "m-2",
                    "interval_start": "2026-10-12T00:15:00Z",
                    "interval_end": "2026-10-12T00:30:00Z",
                    "quantity": "3",
                    "unit": "GB",
                },
            ]
        }
    ).encode()
    server = HTTPServer(("127.0.0.1", 0), MeterHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        line = billing_world.contract.rate_lines.get(usage_unit="GB")
        meter = Meter.objects.create(
            rate_line=line, url=f"http://127.0.0.1:{server.server_port}/usage", equipment_id="NTU-LEEDS-1"
        )
        result = meter_poll(meter=meter)
        assert result is not None and result.status == UsageImport.Status.DONE, result.errors
        records = UsageRecord.objects.order_by("record_id")
        assert [(r.record_id, r.source, r.equipment_id) for r in records] == [
            ("m-1", "meter", "NTU-LEEDS-1"),
            ("m-2", "meter", "NTU-LEEDS-1"),
        ]
        assert records[0].latency_ms == Decimal("4.2")
        again = meter_poll(meter=meter)
        assert again is not None and UsageRecord.objects.count() == 2
    finally:
        server.shutdown()


def test_invoice_pdf_text_carries_the_totals(billing_world, django_capture_on_commit_callbacks, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from billing.models import Invoice

    upload(billing_world, usage_csv([("p1", *GOOD, "6000", "GB")]))
    services.bill_run_execute(period=date(2026, 10, 1))
    with django_capture_on_commit_callbacks(execute=True):
        services.bill_run_finalize(actor=billing_world.moderator, period=date(2026, 10, 1))
    invoice = Invoice.objects.get()
    pdf = tmp_path / "invoice.pdf"
    invoice.pdf.open("rb")
    pdf.write_bytes(invoice.pdf.read())
    invoice.pdf.close()
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert invoice.number in text
    assert f"{invoice.total} GBP" in text
    assert "Acme Test Logistics" in text and "Leased line at Leeds office" in text
    assert "90.00" in text  # the tiered usage line
    # Unit prices keep their own digits and at least cents: the rate 0.02 and the 310.00 monthly charge.
    assert re.search(r"\b0\.02\s", text) and "0.020000" not in text
    assert "310.00" in text
