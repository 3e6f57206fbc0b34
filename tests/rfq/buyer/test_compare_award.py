"""Comparison (sealed until the deadline), CSV export, the award split by line, and terms accepted per organisation."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import time_machine
from django.urls import reverse

from rfq import services
from rfq.models import Award, Rfq, Selection
from rfq.views_buyer import csv_cell
from tests.conftest import client_for
from tests.factories import OrganizationFactory, member_of
from tests.rfq import builders


def test_sealed_until_the_deadline_then_open_to_the_second(cast) -> None:
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    builders.bid(rfq, cast.seller_sales, monthly="81.23")
    client = client_for(cast.buyer_owner)
    deadline = rfq.bid_deadline
    with time_machine.travel(deadline - timedelta(seconds=1), tick=False):
        compare = client.get(reverse("rfq:compare", args=[rfq.pk]))
        assert compare.status_code == 302 and compare["Location"] == reverse("rfq:detail", args=[rfq.pk])
        assert client.get(reverse("rfq:compare_csv", args=[rfq.pk])).status_code == 404
        assert client.get(reverse("rfq:award_select", args=[rfq.pk])).status_code == 302
        assert "81.23" not in client.get(reverse("rfq:detail", args=[rfq.pk])).content.decode()
        rfq.refresh_from_db()
        assert rfq.status == Rfq.Status.OPEN
    with time_machine.travel(deadline + timedelta(seconds=1), tick=False):
        # The opening task has not run; the page opens the bids itself.
        page = client.get(reverse("rfq:compare", args=[rfq.pk]))
        assert page.status_code == 200 and "81.23" in page.content.decode()
        assert b"81.23" in client.get(reverse("rfq:compare_csv", args=[rfq.pk])).content
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.CLOSED


def test_matrix_flags_unpriced_lines_and_highlights_best(cast) -> None:
    rfq = builders.with_bids(cast)  # carrier_org 80/line for 2 lines; other 70 but only 1 line
    body = client_for(cast.buyer_member).get(reverse("rfq:compare", args=[rfq.pk])).content.decode()
    assert "Not priced" in body and "Not comparable: 1 line not priced" in body
    assert 'class="best"' in body
    # Whole term: 80 x 12 + 50 = 1010 per line, 2020 in all; prior 100 x 12 x 2 = 2400 -> saving 380.
    assert "2020.00" in body and "380.00" in body and "2400.00" in body
    sorted_body = (
        client_for(cast.buyer_member).get(reverse("rfq:compare", args=[rfq.pk]) + "?sort=total").content.decode()
    )
    assert sorted_body.index(cast.carrier_org.name) < sorted_body.index(cast.other_carrier_org.name)
    assert "print.css" in body


def test_csv_cells_are_escaped() -> None:
    assert [csv_cell(v) for v in ("=1+1", "+44", "-3", "@SUM(A1)", "ok", 12, None)] == [
        "'=1+1",
        "'+44",
        "'-3",
        "'@SUM(A1)",
        "ok",
        "12",
        "",
    ]


def test_csv_export_escapes_formula_text_from_carriers_and_sites(cast) -> None:
    cast.carrier_org.name = '=HYPERLINK("http://evil")'
    cast.carrier_org.save()
    rfq = builders.with_bids(cast)
    rfq.rfq_sites.first().site.__class__.objects.filter(pk=rfq.rfq_sites.first().site_id).update(name="@cmd")
    response = client_for(cast.buyer_owner).get(reverse("rfq:compare_csv", args=[rfq.pk]))
    assert response["Content-Type"].startswith("text/csv") and rfq.reference in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    cells = [c for row in rows for c in row]
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "'@cmd" in cells
    assert any(c.startswith("Bid 1 =HYPERLINK") for c in cells)  # not at the start: left alone
    assert rows[-2][0] == "Total"


def _choices(rfq: Rfq, carrier) -> dict[str, str]:  # type: ignore[no-untyped-def]
    bid = rfq.bids.get(carrier=carrier)
    return {f"line-{bl.rfq_line_id}": str(bl.pk) for bl in bid.lines.all()}


def test_split_award_then_accept_terms(cast) -> None:
    rfq = builders.with_bids(cast)
    terms = builders.terms()
    client = client_for(cast.buyer_owner)
    page = client.get(reverse("rfq:award_select", args=[rfq.pk])).content.decode()
    assert f"Choose Bid 1 ({cast.carrier_org.name}) for all lines" in page
    assert "Bid 2" in page and f"({cast.other_carrier_org.name}) for all lines" not in page
    missing = client.post(reverse("rfq:award_select", args=[rfq.pk]), {})
    assert missing.status_code == 400 and "Choose a bid for this line." in missing.content.decode()
    assert not Selection.objects.filter(rfq=rfq).exists()
    lines = list(rfq.lines.order_by("rfq_site__site__name"))
    other_bid = rfq.bids.get(carrier=cast.other_carrier_org)
    first_bid = rfq.bids.get(carrier=cast.carrier_org)
    choice = {
        f"line-{lines[0].pk}": str(other_bid.lines.get(rfq_line=lines[0]).pk),
        f"line-{lines[1].pk}": str(first_bid.lines.get(rfq_line=lines[1]).pk),
    }
    done = client.post(reverse("rfq:award_select", args=[rfq.pk]), choice)
    assert done["Location"] == reverse("rfq:award_terms", args=[rfq.pk])
    assert Selection.objects.get(rfq=rfq).mode == Selection.Mode.SPLIT
    # A double submit is told, not crashed.
    again = client.post(reverse("rfq:award_select", args=[rfq.pk]), choice, follow=True)
    assert again.status_code == 200 and "already been chosen" in again.content.decode()
    terms_page = client.get(reverse("rfq:award_terms", args=[rfq.pk])).content.decode()
    assert terms.title in terms_page and "Accept the terms" in terms_page
    assert client.post(reverse("rfq:award_terms", args=[rfq.pk]), {"terms_version": terms.version}).status_code == 400
    assert not Award.objects.exists()
    accepted = client.post(
        reverse("rfq:award_terms", args=[rfq.pk]),
        {"agree": "on", "terms_version": terms.version},
        REMOTE_ADDR="203.0.113.9",
    )
    assert accepted.status_code == 302
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.AWARDED
    awards = list(Award.objects.filter(rfq=rfq))
    assert {a.carrier_id for a in awards} == {cast.carrier_org.pk, cast.other_carrier_org.pk}
    assert all(
        a.accepted_ip == "203.0.113.9" and a.terms == terms and a.accepted_by == cast.buyer_owner for a in awards
    )
    final = client.get(reverse("rfq:award_terms", args=[rfq.pk])).content.decode()
    assert "203.0.113.9" in final and "v1" in final and "The award is final" in final
    twice = client.post(
        reverse("rfq:award_terms", args=[rfq.pk]), {"agree": "on", "terms_version": terms.version}, follow=True
    )
    assert twice.status_code == 200 and "already accepted" in twice.content.decode()
    assert Award.objects.filter(rfq=rfq).count() == 2


def test_choose_one_bid_for_everything(cast) -> None:
    rfq = builders.with_bids(cast)
    first_bid = rfq.bids.get(carrier=cast.carrier_org)
    other_bid = rfq.bids.get(carrier=cast.other_carrier_org)
    client = client_for(cast.buyer_owner)
    partial = client.post(reverse("rfq:award_select", args=[rfq.pk]), {"all": other_bid.pk})
    assert partial.status_code == 400 and "did not price every line" in partial.content.decode()
    client.post(reverse("rfq:award_select", args=[rfq.pk]), {"all": first_bid.pk})
    selection = Selection.objects.get(rfq=rfq)
    assert selection.mode == Selection.Mode.WHOLE
    assert {sl.bid_line.bid_id for sl in selection.lines.all()} == {first_bid.pk}


def test_terms_changed_while_reading(cast) -> None:
    rfq = builders.with_bids(cast)
    builders.terms()
    client = client_for(cast.buyer_owner)
    client.post(reverse("rfq:award_select", args=[rfq.pk]), {"all": rfq.bids.get(carrier=cast.carrier_org).pk})
    newer = type(builders.terms()).objects.create(version=2, title="New terms", body="x", published_at=rfq.opened_at)
    stale = client.post(reverse("rfq:award_terms", args=[rfq.pk]), {"agree": "on", "terms_version": 1})
    assert stale.status_code == 400 and "The terms changed" in stale.content.decode()
    assert not Award.objects.exists()
    client.post(reverse("rfq:award_terms", args=[rfq.pk]), {"agree": "on", "terms_version": newer.version})
    assert Award.objects.get().terms == newer


def test_group_members_compare_and_accept_their_own_lines(cast) -> None:
    member_org = OrganizationFactory(kind="buyer", name="Member Bakery")
    baker = member_of(member_org, "owner", email="baker@member.test")
    group = builders.buying_group(cast.buyer_org, member_org)
    rfq = services.rfq_create_draft(actor=cast.buyer_owner, buyer=cast.buyer_org, title="Group deal", group=group)
    services.rfq_set_sites(
        actor=cast.buyer_owner,
        rfq=rfq,
        sites=[builders.site(cast.buyer_org, "Lead shop"), builders.site(member_org, "Bakery")],
    )
    services.rfq_set_lines(
        actor=cast.buyer_owner,
        rfq=rfq,
        lines=[
            {"rfq_site": rs, "service_type": builders.service_type("internet-broadband"), "features": {}}
            for rs in rfq.rfq_sites.all()
        ],
    )
    bakery = rfq.rfq_sites.get(organization=member_org)
    services.rfq_confirm_sites(actor=baker, rfq=rfq, organization=member_org, site_ids=[bakery.site_id])
    services.rfq_set_visibility(
        actor=cast.buyer_owner, rfq=rfq, visibility="listed_access", carriers=[cast.carrier_org]
    )
    from django.utils import timezone

    services.rfq_set_schedule(
        actor=cast.buyer_owner,
        rfq=rfq,
        bid_deadline=timezone.now() + timedelta(days=2),
        decision_deadline=timezone.now() + timedelta(days=9),
        desired_start=None,
        term_months=12,
    )
    services.rfq_publish(actor=cast.buyer_owner, rfq=rfq)
    builders.bid(rfq, cast.seller_sales, monthly="60.00")
    rfq = builders.past_deadline(rfq)
    builders.terms()
    baker_client = client_for(baker)
    assert baker_client.get(reverse("rfq:compare", args=[rfq.pk])).status_code == 200
    assert baker_client.get(reverse("rfq:award_select", args=[rfq.pk])).status_code == 404  # the lead selects
    client_for(cast.buyer_owner).post(reverse("rfq:award_select", args=[rfq.pk]), {"all": rfq.bids.get().pk})
    client_for(cast.buyer_owner).post(reverse("rfq:award_terms", args=[rfq.pk]), {"agree": "on", "terms_version": 1})
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.CLOSED  # the member has not accepted yet
    page = baker_client.get(reverse("rfq:award_terms", args=[rfq.pk])).content.decode()
    assert "Waiting for:" in page and "Member Bakery" in page and "Accept the terms" in page
    baker_client.post(reverse("rfq:award_terms", args=[rfq.pk]), {"agree": "on", "terms_version": 1})
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.AWARDED
    assert Award.objects.get(rfq=rfq, buyer=member_org).lines.get().site.name == "Bakery"
