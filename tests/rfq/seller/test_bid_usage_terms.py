"""A bid line's usage terms: billing increment, graduated volume tiers and a minimum commitment per month."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from marketplace.services import DomainError
from rfq import services
from rfq.models import Bid, BidLine, BidRevision
from rfq.usage_terms import terms_phrases, tiers_parse, tiers_text
from tests.conftest import client_for
from tests.rfq import builders

pytestmark = pytest.mark.django_db

USAGE = {"usage_rate": "0.02", "usage_unit": "GB", "increment": "1", "tiers": "1000:0.015, 5000:0.01"}


@pytest.fixture
def rfq(cast):  # type: ignore[no-untyped-def]
    return builders.published(cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org])


def _url(rfq) -> str:  # type: ignore[no-untyped-def]
    return reverse("rfq:seller_bid", args=[rfq.pk])


def _post(rfq, line, **fields: str):  # type: ignore[no-untyped-def]
    """The bid form pricing every line, with the given fields set on one line."""
    return builders.bid_post(rfq, **{f"line-{line.pk}-{name}": value for name, value in fields.items()})


def test_the_form_saves_usage_terms_and_shows_them_again(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    first, second = rfq.lines.order_by("pk")
    client = client_for(cast.seller_sales)
    data = _post(rfq, first, **USAGE, minimum_commitment="50.00")
    response = client.post(_url(rfq), {**data, "action": "save"})
    assert response.status_code == 302
    line = BidLine.objects.get(bid__rfq=rfq, rfq_line=first)
    assert line.usage_rate == Decimal("0.02") and line.usage_unit == "GB"
    assert line.increment == Decimal("1") and line.minimum_commitment == Decimal("50.00")
    assert line.tiers == [{"threshold": "1000", "rate": "0.015"}, {"threshold": "5000", "rate": "0.01"}]
    assert line.usage_tiers == [(Decimal("1000"), Decimal("0.015")), (Decimal("5000"), Decimal("0.01"))]
    # A line without usage keeps none of the terms.
    other = BidLine.objects.get(bid__rfq=rfq, rfq_line=second)
    assert (other.increment, other.minimum_commitment, other.tiers) == (None, None, [])
    page = client.get(_url(rfq)).content.decode()
    assert 'value="1000:0.015, 5000:0.01"' in page
    assert f'name="line-{first.pk}-minimum_commitment" value="50.00"' in page
    assert f'name="line-{first.pk}-increment" value="1"' in page


def test_the_receipt_and_the_digest_cover_the_terms(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    first = rfq.lines.order_by("pk").first()
    client = client_for(cast.seller_sales)
    client.post(_url(rfq), _post(rfq, first, **USAGE, minimum_commitment="50.00"))
    client.post(_url(rfq), _post(rfq, first, **{**USAGE, "tiers": "1000:0.015, 5000:0.009"}, minimum_commitment="50"))
    one, two = BidRevision.objects.filter(bid__rfq=rfq).order_by("number")
    content = next(line for line in one.content["lines"] if line["line"] == first.pk)
    assert content["increment"] == "1.0000" and content["minimum_commitment"] == "50.00"
    assert content["tiers"] == [
        {"threshold": "1000.000000", "rate": "0.015000"},
        {"threshold": "5000.000000", "rate": "0.010000"},
    ]
    # Only a tier's rate changed: the digest did too.
    assert one.digest != two.digest and services.digest_of(two.content) == two.digest
    receipt = client.get(reverse("rfq:seller_bid_receipt", args=[rfq.pk, 2])).content.decode()
    for phrase in ("0.02 per GB", "billed in steps of 1 GB", "above 1000 GB: 0.015", "above 5000 GB: 0.009"):
        assert phrase in receipt
    assert "minimum 50.00 a month" in receipt


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({**USAGE, "tiers": "1000"}, "tiers", "“1000” is not a tier: write each as threshold:rate"),
        ({**USAGE, "tiers": "lots:0.01"}, "tiers", "“lots:0.01” is not a tier"),
        ({**USAGE, "tiers": "NaN:0.01"}, "tiers", "Tiers take plain numbers."),
        ({**USAGE, "tiers": "5000:0.01, 1000:0.015"}, "tiers", "List thresholds from low to high, each once"),
        ({**USAGE, "tiers": "1000:0.015, 1000:0.01"}, "tiers", "1000 comes after 1000"),
        ({**USAGE, "tiers": "0:0.015"}, "tiers", "A tier&#x27;s threshold must be above 0"),
        ({**USAGE, "tiers": "1000:-0.015"}, "tiers", "A tier&#x27;s rate cannot be negative"),
        ({**USAGE, "tiers": "1000:0.0000001"}, "tiers", "at most 8 digits before the point and 6 after"),
        ({**USAGE, "tiers": "-1e999999999:0.01"}, "tiers", "threshold has at most 12 digits before the point"),
        ({**USAGE, "tiers": "1:1, 2:1, 3:1, 4:1, 5:1, 6:1"}, "tiers", "Give at most 5 tiers; you gave 6."),
        ({"tiers": "1000:0.015"}, "tiers", "Volume tiers need a usage rate and unit on this line"),
        ({"usage_unit": "GB", "increment": "1"}, "increment", "A billing increment needs a usage rate and unit"),
        ({"minimum_commitment": "50"}, "minimum_commitment", "A minimum commitment needs a usage rate and unit"),
        ({**USAGE, "minimum_commitment": "-5"}, "minimum_commitment", "greater than or equal to 0"),
        ({**USAGE, "increment": "0"}, "increment", "Enter an increment above 0"),
        ({**USAGE, "increment": "-1"}, "increment", "Enter an increment above 0"),
        ({**USAGE, "increment": "0.00001"}, "increment", "no more than 4 decimal places"),
    ],
)
def test_bad_usage_terms_are_refused_next_to_the_field_and_nothing_is_saved(cast, rfq, fields, field, message) -> None:  # type: ignore[no-untyped-def]
    line = rfq.lines.order_by("pk").first()
    response = client_for(cast.seller_sales).post(_url(rfq), _post(rfq, line, **fields))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    # The message sits in the field's own group, marked as an error, before the field's input.
    before_input = html[: html.index(f'id="id_line-{line.pk}-{field}"')]
    group = before_input[before_input.rindex('<div class="field') :]
    assert group.startswith('<div class="field field-error">') and message in group
    assert not Bid.objects.exists()


def test_a_row_with_only_usage_terms_asks_for_its_prices(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    line = rfq.lines.order_by("pk").first()
    blank = dict.fromkeys(("monthly_charge", "one_time_charge", "term_months", "install_days"), "")
    response = client_for(cast.seller_sales).post(_url(rfq), _post(rfq, line, **blank, **USAGE))
    assert response.status_code == 400
    assert "Enter the monthly charge, or leave the whole row blank." in response.content.decode()


def test_the_service_refuses_what_the_form_refuses_and_keeps_the_earlier_draft(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    invitation = builders.invitation(rfq, cast.carrier_org)
    line = rfq.lines.order_by("pk").first()
    base = {"rfq_line": line, "monthly_charge": Decimal("300"), "term_months": 24, "install_days": 30}
    usage = {"usage_rate": Decimal("0.02"), "usage_unit": "GB"}
    services.bid_save_draft(actor=cast.seller_sales, invitation=invitation, lines=[base])
    refused = [
        ({**base, "tiers": [(Decimal("1000"), Decimal("0.01"))]}, "need a usage rate"),
        ({**base, "minimum_commitment": Decimal("10")}, "need a usage rate"),
        ({**base, **usage, "tiers": [(Decimal("5000"), Decimal("0.01")), (Decimal("1000"), Decimal("0.02"))]}, "low"),
        ({**base, **usage, "increment": Decimal("0")}, "above 0"),
        ({**base, **usage, "minimum_commitment": Decimal("-1")}, "cannot be negative"),
    ]
    for data, message in refused:
        with pytest.raises(DomainError, match=message):
            services.bid_save_draft(actor=cast.seller_sales, invitation=invitation, lines=[data])
        assert list(BidLine.objects.filter(bid__rfq=rfq).values_list("monthly_charge", "tiers")) == [
            (Decimal("300.00"), [])
        ]


def test_tiers_read_commas_semicolons_and_new_lines_and_write_back_the_same() -> None:
    tiers = tiers_parse(" 1000 : 0.0150 ;5e3:0.01\n\n 20000:0 ")
    assert tiers == [(Decimal("1000"), Decimal("0.0150")), (Decimal("5e3"), Decimal("0.01")), (Decimal(20000), 0)]
    assert tiers_text(tiers) == "1000:0.015, 5000:0.01, 20000:0"
    assert tiers_parse("") == []
    with pytest.raises(ValidationError):
        tiers_parse("1000:0.01:3")


def test_terms_read_from_a_revision_made_before_terms_existed() -> None:
    old = {"usage_rate": "0.020000", "usage_unit": "GB", "monthly": "10.00"}
    assert terms_phrases(old) == ["0.02 per GB"]
    assert terms_phrases({"usage_rate": None, "usage_unit": ""}) == []
