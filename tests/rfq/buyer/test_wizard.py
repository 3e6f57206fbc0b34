"""The request wizard: each step saves the draft, refuses bad input beside the field, and moves on."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from buyers.models import Site
from marketplace.models import Organization
from rfq import services
from rfq.models import Rfq
from tests.conftest import client_for
from tests.rfq import builders


def step(rfq: Rfq, name: str) -> str:
    return reverse("rfq:step", args=[rfq.pk, name])


def new_draft(cast) -> Rfq:  # type: ignore[no-untyped-def]
    return services.rfq_create_draft(actor=cast.buyer_owner, buyer=cast.buyer_org, title="Wizard")


def test_sites_step_saves_choice_and_title(cast) -> None:
    rfq = new_draft(cast)
    a = builders.site(cast.buyer_org, "Head office")
    b = builders.site(cast.buyer_org, "Depot")
    builders.site(cast.other_buyer_org, "Not mine")
    client = client_for(cast.buyer_member)
    page = client.get(step(rfq, "sites")).content.decode()
    assert "Head office" in page and "Not mine" not in page and 'aria-current="step"' in page
    response = client.post(step(rfq, "sites"), {"title": "HQ and depot", "sites": [a.pk, b.pk]})
    assert response["Location"] == step(rfq, "services")
    rfq.refresh_from_db()
    assert rfq.title == "HQ and depot" and rfq.wizard_step == "services"
    assert set(rfq.rfq_sites.values_list("site_id", flat=True)) == {a.pk, b.pk}


def test_sites_step_bad_input(cast) -> None:
    rfq = new_draft(cast)
    other = builders.site(cast.other_buyer_org, "Theirs")
    client = client_for(cast.buyer_owner)
    empty = client.post(step(rfq, "sites"), {"title": "", "sites": []})
    assert empty.status_code == 400 and "Choose at least one site." in empty.content.decode()
    assert client.post(step(rfq, "sites"), {"title": "X", "sites": [other.pk]}).status_code == 400
    assert client.post(step(rfq, "sites"), {"title": "X", "sites": ["abc"]}).status_code == 400
    assert not rfq.rfq_sites.exists()


def test_add_a_site_inline(cast) -> None:
    rfq = new_draft(cast)
    client = client_for(cast.buyer_owner)
    bad = client.post(step(rfq, "sites"), {"add_site": "1", "new-name": "", "new-street": ""})
    assert bad.status_code == 400 and not Site.objects.filter(organization=cast.buyer_org).exists()
    ok = client.post(
        step(rfq, "sites"),
        {
            "add_site": "1",
            "new-name": "Warehouse",
            "new-street": "9 Dock Road",
            "new-city": "Hull",
            "new-postcode": "hu1 1aa",
            "new-country": "GB",
        },
    )
    assert ok.status_code == 302
    site = Site.objects.get(organization=cast.buyer_org, name="Warehouse")
    assert rfq.rfq_sites.filter(site=site).exists()
    dup = client.post(
        step(rfq, "sites"),
        {
            "add_site": "1",
            "new-name": "Warehouse",
            "new-street": "1",
            "new-city": "Hull",
            "new-postcode": "HU1",
            "new-country": "GB",
        },
    )
    assert dup.status_code == 400 and "already have a site" in dup.content.decode()


def _sites(cast, rfq: Rfq, n: int = 2) -> list:  # type: ignore[no-untyped-def]
    sites = [builders.site(cast.buyer_org, f"S{i}") for i in range(n)]
    services.rfq_set_sites(actor=cast.buyer_owner, rfq=rfq, sites=sites)
    return list(rfq.rfq_sites.order_by("site__name"))


def test_services_step_stores_cleaned_features(cast) -> None:
    rfq = new_draft(cast)
    rs1, rs2 = _sites(cast, rfq)
    bb, voice = builders.service_type("internet-broadband"), builders.service_type("voice-sip-trunking")
    asr_type = builders.service_type("routes-voice-termination")
    data = {
        "rows": ["ra1", "ra2", "ra3"],
        "ra1-rfq_site": rs1.pk,
        "ra1-service_type": bb.pk,
        "ra1-quantity": "2",
        "ra1-f-bandwidth_mbps": "500",
        "ra1-f-sla": "99.9%",
        "ra1-f-static_ips": "",
        "ra2-rfq_site": rs2.pk,
        "ra2-service_type": voice.pk,
        "ra2-quantity": "1",
        "ra2-f-channels": "30",
        "ra2-f-numbers": "100",
        "ra2-f-sla": "99.99%",
        "ra3-rfq_site": rs2.pk,
        "ra3-service_type": asr_type.pk,
        "ra3-quantity": "1",
        "ra3-f-destination_prefix": "44",
        "ra3-f-min_asr_pct": "45.5",
    }
    response = client_for(cast.buyer_owner).post(step(rfq, "services"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    lines = list(rfq.lines.order_by("position"))
    assert [line.quantity for line in lines] == [2, 1, 1]
    assert lines[0].features == {"bandwidth_mbps": 500, "sla": "99.9%"}
    assert lines[2].features == {"destination_prefix": "44", "min_asr_pct": "45.5"}  # Decimal kept as a string


def test_services_step_bad_input_shows_errors_and_saves_nothing(cast) -> None:
    rfq = new_draft(cast)
    rs1, _ = _sites(cast, rfq)
    bb = builders.service_type("internet-broadband")
    client = client_for(cast.buyer_owner)
    bad = client.post(
        step(rfq, "services"),
        {
            "rows": ["ra1"],
            "ra1-rfq_site": rs1.pk,
            "ra1-service_type": bb.pk,
            "ra1-quantity": "0",
            "ra1-f-bandwidth_mbps": "lots",
            "ra1-f-sla": "perfect",
        },
    )
    body = bad.content.decode()
    assert bad.status_code == 400
    assert "Ensure this value is greater than or equal to 1" in body and "Enter a whole number" in body
    assert "Select a valid choice" in body
    nothing = client.post(step(rfq, "services"), {})
    assert nothing.status_code == 400 and "Add at least one service" in nothing.content.decode()
    forged = client.post(
        step(rfq, "services"),
        {"rows": ["ra1", "../x"], "ra1-rfq_site": "999999", "ra1-service_type": bb.pk, "ra1-quantity": "1"},
    )
    assert forged.status_code == 400
    assert not rfq.lines.exists()


def test_add_and_remove_rows_without_javascript(cast) -> None:
    rfq = new_draft(cast)
    rs1, _ = _sites(cast, rfq)
    bb = builders.service_type("internet-broadband")
    client = client_for(cast.buyer_owner)
    added = client.post(step(rfq, "services"), {"add": rs1.pk, f"add-{rs1.pk}": bb.pk})
    body = added.content.decode()
    assert added.status_code == 200 and "Broadband" in body and "Bandwidth" in body
    removed = client.post(
        step(rfq, "services"),
        {"rows": ["ra1"], "ra1-rfq_site": rs1.pk, "ra1-service_type": bb.pk, "ra1-quantity": "1", "remove": "ra1"},
    )
    assert removed.status_code == 200 and 'value="ra1"' not in removed.content.decode()
    assert not rfq.lines.exists()


def test_htmx_row_partial(cast) -> None:
    rfq = new_draft(cast)
    rs1, _ = _sites(cast, rfq)
    bb = builders.service_type("internet-broadband")
    client = client_for(cast.buyer_owner)
    url = reverse("rfq:service_row", args=[rfq.pk])
    row = client.get(url, {"add": rs1.pk, f"add-{rs1.pk}": bb.pk}, HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and "<html" not in row.content.decode() and "bandwidth_mbps" in row.content.decode()
    assert client.get(url, {"add": rs1.pk, f"add-{rs1.pk}": "x"}).status_code == 400
    assert client.get(url, {"remove": "1"}).content == b""


def test_existing_lines_are_shown_again(cast) -> None:
    rfq = builders.draft(cast.buyer_owner, features={"bandwidth_mbps": 100, "sla": "99.9%"})
    body = client_for(cast.buyer_owner).get(step(rfq, "services")).content.decode()
    assert body.count('name="rows"') == 2 and 'value="100"' in body


def test_billing_step(cast) -> None:
    rfq = builders.draft(cast.buyer_owner)
    client = client_for(cast.buyer_owner)
    bad = client.post(step(rfq, "billing"), {"currency": "XXX", "payment_terms_days": "-3"})
    assert bad.status_code == 400
    ok = client.post(
        step(rfq, "billing"),
        {
            "currency": "EUR",
            "invoice_grouping": "per_site",
            "carrier_grouping": "per_carrier",
            "payment_terms_days": "45",
            "invoice_delivery": "portal",
            "po_number": "PO-7",
        },
    )
    assert ok["Location"] == step(rfq, "usage")
    rfq.refresh_from_db()
    assert (rfq.currency, rfq.invoice_grouping, rfq.payment_terms_days, rfq.po_number) == (
        "EUR",
        "per_site",
        45,
        "PO-7",
    )


def test_usage_step_and_prior_bills(cast) -> None:
    rfq = builders.draft(cast.buyer_owner, spend="100.00")
    line = rfq.lines.order_by("pk").first()
    client = client_for(cast.buyer_owner)
    prefix = f"u{line.pk}"
    bad = client.post(step(rfq, "usage"), {f"{prefix}-prior_monthly_spend": "-5"})
    assert bad.status_code == 400
    line.refresh_from_db()
    assert line.prior_monthly_spend == Decimal("100.00")
    ok = client.post(step(rfq, "usage"), {f"{prefix}-current_carrier": "BT", f"{prefix}-prior_monthly_spend": "123.45"})
    assert ok.status_code == 302
    line.refresh_from_db()
    assert line.prior_monthly_spend == Decimal("123.45") and line.current_carrier == "BT"
    fake = client.post(step(rfq, "usage"), {"upload": "1", "file": SimpleUploadedFile("bill.pdf", b"MZ not a pdf")})
    assert fake.status_code == 400 and not rfq.prior_bills.exists()
    good = client.post(
        step(rfq, "usage"), {"upload": "1", "file": SimpleUploadedFile("../bill march.pdf", builders.PDF)}
    )
    assert good.status_code == 302
    bill = rfq.prior_bills.get()
    download = client.get(reverse("rfq:prior_bill_download", args=[rfq.pk, bill.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert (
        client_for(cast.other_buyer).get(reverse("rfq:prior_bill_download", args=[rfq.pk, bill.pk])).status_code == 404
    )


def test_visibility_step(cast) -> None:
    rfq = builders.draft(cast.buyer_owner)
    unverified = Organization.objects.create(kind="carrier", name="Shady Telecom", verification_status="pending")
    client = client_for(cast.buyer_owner)
    none_picked = client.post(step(rfq, "visibility"), {"visibility": "listed_sent"})
    assert none_picked.status_code == 400 and "Pick at least one carrier" in none_picked.content.decode()
    assert (
        client.post(step(rfq, "visibility"), {"visibility": "listed_access", "carriers": [unverified.pk]}).status_code
        == 400
    )
    assert "Shady Telecom" not in client.get(step(rfq, "visibility")).content.decode()
    ok = client.post(step(rfq, "visibility"), {"visibility": "listed_access", "carriers": [cast.carrier_org.pk]})
    assert ok["Location"] == step(rfq, "schedule")
    rfq.refresh_from_db()
    assert rfq.visibility == "listed_access" and list(rfq.listed_carriers.all()) == [cast.carrier_org]


@time_machine.travel(datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("UTC")), tick=False)
def test_schedule_step_reads_times_in_the_users_zone(cast) -> None:
    cast.buyer_owner.timezone = "America/New_York"
    cast.buyer_owner.save()
    rfq = builders.draft(cast.buyer_owner)
    client = client_for(cast.buyer_owner)
    ok = client.post(
        step(rfq, "schedule"),
        {
            "bid_deadline": "2027-03-10T17:00",
            "decision_deadline": "2027-03-20T12:00",
            "desired_start": "2027-05-01",
            "term_months": "24",
        },
    )
    assert ok["Location"] == step(rfq, "review")
    rfq.refresh_from_db()
    assert rfq.bid_deadline == datetime(2027, 3, 10, 22, 0, tzinfo=ZoneInfo("UTC"))  # 17:00 EST
    assert rfq.term_months == 24
    assert 'value="2027-03-10T17:00"' in client.get(step(rfq, "schedule")).content.decode()


def test_schedule_step_bad_input(cast) -> None:
    rfq = builders.draft(cast.buyer_owner)
    client = client_for(cast.buyer_owner)
    soon = (timezone.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    later = (timezone.now() + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    cases = [
        {"bid_deadline": "tomorrow", "decision_deadline": later, "term_months": "12"},
        {"bid_deadline": later, "decision_deadline": later, "term_months": "12"},
        {"bid_deadline": soon, "decision_deadline": later, "term_months": "12"},
        {"bid_deadline": later, "decision_deadline": "", "term_months": "0"},
        {"bid_deadline": later, "decision_deadline": later, "term_months": "121"},
        {"bid_deadline": "9999-12-31T23:59", "decision_deadline": "9999-12-31T23:59", "term_months": "12"},
        {"bid_deadline": later, "decision_deadline": "9999-12-31T23:59", "term_months": "12"},
    ]
    for data in cases:
        response = client.post(step(rfq, "schedule"), data)
        assert response.status_code == 400, data
    assert "at least 24 hours" in client.post(step(rfq, "schedule"), cases[2]).content.decode()
    rfq.refresh_from_db()
    assert rfq.bid_deadline is None


def test_review_lists_what_is_missing_and_publishes(cast) -> None:
    rfq = builders.draft(cast.buyer_owner)
    client = client_for(cast.buyer_owner)
    review = client.get(step(rfq, "review")).content.decode()
    assert "Set the bid deadline" in review and 'action="' + reverse("rfq:publish", args=[rfq.pk]) not in review
    refused = client.post(reverse("rfq:publish", args=[rfq.pk]))
    assert refused["Location"] == step(rfq, "review")
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.DRAFT
    rfq = builders.scheduled(cast.buyer_owner, [cast.carrier_org], title="Ready")
    assert "Publish" in client.get(step(rfq, "review")).content.decode()
    done = client.post(reverse("rfq:publish", args=[rfq.pk]))
    assert done["Location"] == reverse("rfq:detail", args=[rfq.pk])
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.OPEN and rfq.invitations.count() == 1
    # A published request is not editable through the wizard any more.
    assert client.get(step(rfq, "sites"))["Location"] == reverse("rfq:detail", args=[rfq.pk])
    assert client.post(reverse("rfq:publish", args=[rfq.pk])).status_code == 302


def test_unverified_buyer_publishes_into_awaiting_verification(cast) -> None:
    cast.buyer_org.verification_status = "pending"
    cast.buyer_org.save()
    rfq = builders.scheduled(cast.buyer_owner, [cast.carrier_org])
    client = client_for(cast.buyer_owner)
    client.post(reverse("rfq:publish", args=[rfq.pk]))
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.AWAITING_VERIFICATION
    assert "Waiting for verification" in client.get(reverse("rfq:detail", args=[rfq.pk])).content.decode()


def test_unknown_step_and_other_buyers(cast) -> None:
    rfq = builders.draft(cast.buyer_owner)
    assert client_for(cast.buyer_owner).get(reverse("rfq:step", args=[rfq.pk, "nope"])).status_code == 404
    assert client_for(cast.other_buyer).get(step(rfq, "sites")).status_code == 404
    assert client_for(cast.seller_admin).get(step(rfq, "sites")).status_code == 404


JUNK = {
    "title": "x" * 500,
    "sites": ["-1", "abc"],
    "rows": ["r1", "l999999", "../../etc"],
    "r1-rfq_site": "1e9",
    "r1-service_type": "NaN",
    "add": "abc",
    "remove": "",
    "currency": "€€€",
    "payment_terms_days": "1e99",
    "visibility": "everyone",
    "carriers": ["0"],
    "bid_deadline": "2027-02-30T25:61",
    "decision_deadline": "\x00",
    "desired_start": "yesterday",
    "term_months": "-1",
}


def test_junk_on_every_step_is_refused_without_a_server_error(cast) -> None:
    rfq = builders.draft(cast.buyer_owner, title="Offices 2027")
    client = client_for(cast.buyer_owner)
    before = list(rfq.lines.values_list("pk", "quantity", "features"))
    for name in services.WIZARD_STEPS:
        response = client.post(step(rfq, name), JUNK)
        assert response.status_code < 500, name
        assert client.get(step(rfq, name), {"page": "x", "sort": "x"}).status_code == 200
    assert list(rfq.lines.values_list("pk", "quantity", "features")) == before
    rfq.refresh_from_db()
    assert rfq.title == "Offices 2027" and rfq.status == Rfq.Status.DRAFT
