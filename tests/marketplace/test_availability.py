"""The public service availability check: which services verified carriers cover at an address."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from marketplace.models import ServiceType
from sellers import services as seller_services
from sellers.regions import parse_areas
from tests.conftest import Cast
from tests.factories import OrganizationFactory, member_of

pytestmark = pytest.mark.django_db

URL = "/availability/"
LONDON_EC = {"country": "GB", "region": "Greater London", "postcode": "EC1A 1BB"}


def _cover(org, code: str, areas: str) -> None:  # type: ignore[no-untyped-def]
    actor = member_of(org, "admin")
    st = ServiceType.objects.get(code=code)
    seller_services.coverage_add(actor=actor, organization=org, service_type=st, areas=parse_areas(areas))


@pytest.fixture
def coverage(cast: Cast) -> Cast:
    # Dedicated access in the EC area: two carriers, one of them through two matching rows (counted once).
    _cover(cast.carrier_org, "internet-dedicated", "GB, Greater London, EC")
    _cover(cast.other_carrier_org, "internet-dedicated", "GB, Greater London, EC E\nGB, Greater London")
    # SIP trunking anywhere in GB: one carrier.
    _cover(cast.carrier_org, "voice-sip-trunking", "GB")
    # An unverified carrier's coverage never counts.
    unverified = OrganizationFactory(kind="carrier", verification_status="unverified", verified_at=None)
    _cover(unverified, "internet-broadband", "GB")
    return cast


def _counts(response) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {row.code: row.carriers for row in response.context["results"]}


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(response.content.decode().split())


def test_visitor_sees_service_types_and_carrier_counts_without_names(coverage: Cast) -> None:
    response = Client().get(URL, {**LONDON_EC, "postcode": "ec1a 1bb", "region": " greater  london "})
    assert response.status_code == 200
    assert _counts(response) == {"voice-sip-trunking": 1, "internet-dedicated": 2}
    content = _text(response)
    assert "Coverage at EC1A 1BB, greater london, GB" in content
    assert "<td>2 carriers</td>" in content and "<td>1 carrier</td>" in content
    for name in (coverage.carrier_org.name, coverage.other_carrier_org.name):
        assert name not in content
    assert f'href="{reverse("account_signup")}"' in content


def test_buyer_sees_the_same_counts_and_a_link_to_start_a_request(coverage: Cast, as_role) -> None:  # type: ignore[no-untyped-def]
    response = as_role("buyer_member").get(URL, LONDON_EC)
    assert response.status_code == 200
    assert _counts(response) == {"voice-sip-trunking": 1, "internet-dedicated": 2}
    content = response.content.decode()
    assert coverage.carrier_org.name not in content and coverage.other_carrier_org.name not in content
    assert f'href="{reverse("rfq:create")}"' in content
    assert f'href="{reverse("account_signup")}"' not in content


def test_region_and_postcode_narrow_the_answer(coverage: Cast) -> None:
    client = Client()
    # Without the region only country-wide coverage applies; outside EC/E only the region-wide row does.
    assert _counts(client.get(URL, {"country": "GB", "postcode": "EC1A 1BB"})) == {"voice-sip-trunking": 1}
    assert _counts(client.get(URL, {**LONDON_EC, "postcode": "N1 9GU"})) == {
        "voice-sip-trunking": 1,
        "internet-dedicated": 1,
    }
    sip = ServiceType.objects.get(code="voice-sip-trunking")
    assert _counts(client.get(URL, {**LONDON_EC, "service_type": sip.pk})) == {"voice-sip-trunking": 1}


def test_inactive_service_types_are_not_offered(coverage: Cast) -> None:
    ServiceType.objects.filter(code="voice-sip-trunking").update(is_active=False)
    assert _counts(Client().get(URL, LONDON_EC)) == {"internet-dedicated": 2}


def test_uncovered_postcode_shows_the_empty_state_with_a_way_forward(coverage: Cast, as_role) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(URL, {"country": "FR", "postcode": "75001"})
    assert response.status_code == 200
    assert response.context["results"] == []
    content = _text(response)
    assert "No verified carrier lists coverage at this postcode yet." in content
    assert "You can still post a request for quote" in content
    assert f'href="{reverse("account_signup")}"' in content

    broadband = ServiceType.objects.get(code="internet-broadband")
    response = as_role("buyer_owner").get(URL, {**LONDON_EC, "service_type": broadband.pk})
    assert response.context["results"] == []  # only the unverified carrier covers broadband
    content = _text(response)
    assert f"No verified carrier lists {broadband.name} at this postcode yet." in content
    assert f'href="{reverse("rfq:create")}"' in content


def test_bad_input_gives_errors_next_to_the_fields(coverage: Cast) -> None:
    response = Client().get(URL, {"country": "Britain", "postcode": "EC1A/1BB", "service_type": "999999"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "two-letter country code" in errors["country"][0]
    assert "letters and digits" in errors["postcode"][0]
    assert "service_type" in errors
    assert response.context["results"] is None
    content = response.content.decode()
    assert "Coverage at" not in content and "No verified carrier" not in content

    blank = Client().get(URL, {"country": "GB", "postcode": "   "})
    assert blank.status_code == 400
    assert blank.context["form"].errors["postcode"] == ["This field is required."]


def test_the_blank_page_asks_for_an_address_and_suggests_regions(coverage: Cast) -> None:
    response = Client().get(URL)
    assert response.status_code == 200
    assert response.context["results"] is None and not response.context["form"].errors
    content = response.content.decode()
    assert '<option value="Greater London">' in content
    assert "Coverage at" not in content


def test_the_check_runs_a_fixed_number_of_queries(coverage: Cast, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        extra = OrganizationFactory(kind="carrier", name=f"Extra Carrier {n}")
        _cover(extra, "internet-dedicated", "GB, Greater London, EC")
        _cover(extra, "voice-complete", "GB")
    client = Client()
    # Service choices, the grouped count, the region suggestions: however many carriers cover the address.
    with django_assert_num_queries(3):
        response = client.get(URL, LONDON_EC)
    assert _counts(response)["internet-dedicated"] == 7


def test_the_check_is_linked_from_the_landing_page_catalogue_and_buyer_navigation(as_role) -> None:  # type: ignore[no-untyped-def]
    link = f'href="{reverse("availability")}"'
    assert link in Client().get(reverse("landing")).content.decode()
    assert link in Client().get(reverse("catalogue")).content.decode()
    assert link in as_role("buyer_member").get(reverse("buyers:dashboard")).content.decode()


def test_no_page_promises_that_buyers_can_accept_standing_offers_today(as_role) -> None:  # type: ignore[no-untyped-def]
    pages = [
        Client().get(reverse("landing")),
        as_role("seller_sales").get(reverse("sellers:offer_list")),
        as_role("seller_sales").get(reverse("sellers:coverage")),
    ]
    for response in pages:
        assert response.status_code == 200
        content = response.content.decode()
        assert "accept on the spot" not in content
        assert "can accept a standing offer" not in content
        assert "shows you to buyers" not in content
