"""Sites: add, edit, archive and restore, list with search and paging, CSV import all or nothing."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from buyers.forms import SiteCsvRowForm
from buyers.models import Site
from marketplace.models import AuditEvent
from tests.buyers.conftest import csv_upload, make_site
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

HEADER = ",".join(SiteCsvRowForm.base_fields)
SITE = {
    "name": "Leeds depot",
    "street": "12 Harbour Road",
    "city": "Leeds",
    "region": "West Yorkshire",
    "postcode": "ls1 4ap",
    "country": "gb",
    "contact_name": "Sam",
    "contact_phone": "+44 113 496 0001",
    "contact_email": "sam@example.test",
    "notes": "Gate code 1234",
}


def row(name: str, *, postcode: str = "LS1 1AA", country: str = "GB", email: str = "") -> str:
    return f"{name},1 High Street,Leeds,West Yorkshire,{postcode},{country},Pat,,{email},"


def test_member_adds_and_edits_a_site(cast) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.buyer_member)
    assert client.post(reverse("buyers:site_add"), SITE).status_code == 302
    site = Site.objects.get(organization=cast.buyer_org)
    assert site.postcode == "LS1 4AP" and site.country == "GB" and site.contact_name == "Sam"
    response = client.post(reverse("buyers:site_edit", args=[site.pk]), {**SITE, "name": "Leeds HQ"})
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.name == "Leeds HQ"
    assert AuditEvent.objects.filter(action="site.update", object_id=str(site.pk)).exists()


def test_site_names_are_unique_among_active_sites(cast) -> None:  # type: ignore[no-untyped-def]
    make_site(cast.buyer_org, "Leeds depot")
    response = client_for(cast.buyer_owner).post(reverse("buyers:site_add"), SITE)
    assert response.status_code == 400
    assert "already have a site with this name" in response.content.decode()
    assert Site.objects.filter(organization=cast.buyer_org).count() == 1


def test_bad_site_input_is_reported_beside_the_fields(cast) -> None:  # type: ignore[no-untyped-def]
    data = {**SITE, "country": "Britain", "contact_email": "not-an-email", "contact_phone": "call me"}
    response = client_for(cast.buyer_owner).post(reverse("buyers:site_add"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "two-letter country code" in html and "valid email" in html and "phone number" in html
    assert not Site.objects.exists()


def test_sites_are_archived_and_restored_never_deleted(cast) -> None:  # type: ignore[no-untyped-def]
    site = make_site(cast.buyer_org)
    client = client_for(cast.buyer_owner)
    client.post(reverse("buyers:site_archive", args=[site.pk]))
    site.refresh_from_db()
    assert site.is_archived
    assert list(client.get(reverse("buyers:site_list")).context["page"].object_list) == []
    assert list(client.get(reverse("buyers:site_list") + "?archived=1").context["page"].object_list) == [site]
    client.post(reverse("buyers:site_restore", args=[site.pk]))
    site.refresh_from_db()
    assert not site.is_archived
    with pytest.raises(NoReverseMatch):
        reverse("buyers:site_delete", args=[site.pk])
    assert client.post(f"/buyer/sites/{site.pk}/delete/").status_code == 404
    assert Site.objects.filter(pk=site.pk).exists()


def test_archived_site_cannot_be_edited(cast) -> None:  # type: ignore[no-untyped-def]
    site = make_site(cast.buyer_org)
    client = client_for(cast.buyer_owner)
    client.post(reverse("buyers:site_archive", args=[site.pk]))
    response = client.post(reverse("buyers:site_edit", args=[site.pk]), {**SITE, "name": "Changed"})
    assert response.status_code == 400
    site.refresh_from_db()
    assert site.name == "Depot"


def test_other_buyers_cannot_see_or_touch_a_site(cast) -> None:  # type: ignore[no-untyped-def]
    site = make_site(cast.buyer_org)
    client = client_for(cast.other_buyer)
    assert client.get(reverse("buyers:site_edit", args=[site.pk])).status_code == 404
    assert client.post(reverse("buyers:site_archive", args=[site.pk])).status_code == 404
    assert "Depot" not in client.get(reverse("buyers:site_list")).content.decode()
    site.refresh_from_db()
    assert not site.is_archived


def test_site_list_searches_and_pages_in_fixed_queries(cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        make_site(cast.buyer_org, f"Shop {i:02d}", city="York" if i % 2 else "Leeds")
    client = client_for(cast.buyer_owner)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("buyers:site_list"))
    assert response.context["page"].paginator.count == 30
    assert len(response.context["page"].object_list) == 25
    assert "Page 1 of 2" in response.content.decode()
    response = client.get(reverse("buyers:site_list"), {"q": "york"})
    assert response.context["page"].paginator.count == 15
    partial = client.get(reverse("buyers:site_list"), {"q": "Shop 07"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "Shop 07" in partial.content.decode()
    empty = client.get(reverse("buyers:site_list"), {"q": "Nowhere"})
    assert "No site matches" in empty.content.decode()


def test_empty_site_list_invites_to_add_or_import(cast) -> None:  # type: ignore[no-untyped-def]
    html = client_for(cast.buyer_owner).get(reverse("buyers:site_list")).content.decode()
    assert "No sites yet" in html and "import them from a CSV file" in html


# --- CSV import ---------------------------------------------------------------------------------------


def _import(client, text: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("buyers:site_import"), {"file": csv_upload(text)})


def test_good_csv_file_imports_every_site(cast) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join([HEADER, row("Shop A"), row("Shop B", postcode="ls2 7ee"), row("Shop C")]) + "\n"
    response = _import(client_for(cast.buyer_member), text)
    assert response.status_code == 302
    names = list(Site.objects.filter(organization=cast.buyer_org).values_list("name", flat=True))
    assert names == ["Shop A", "Shop B", "Shop C"]
    assert Site.objects.get(name="Shop B").postcode == "LS2 7EE"
    assert AuditEvent.objects.filter(action="site.import", organization=cast.buyer_org).count() == 1


def test_bad_csv_file_imports_nothing_and_reports_every_line(cast) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join([HEADER, row("Shop A", country="Britain"), row("", postcode=""), row("Shop C", email="bad")])
    response = _import(client_for(cast.buyer_owner), text)
    assert response.status_code == 400
    errors = response.context["errors"]
    assert {(e.line, e.field) for e in errors} >= {(2, "country"), (3, "name"), (3, "postcode"), (4, "contact_email")}
    assert not Site.objects.exists()
    assert "Nothing was imported" in response.content.decode()


def test_mixed_csv_file_imports_nothing_and_names_only_the_bad_rows(cast) -> None:  # type: ignore[no-untyped-def]
    make_site(cast.buyer_org, "Existing shop")
    text = "\n".join(
        [HEADER, row("Shop A"), row("Shop B", country="X1"), row("Shop A"), row("Existing shop"), row("Shop E")]
    )
    response = _import(client_for(cast.buyer_owner), text)
    assert response.status_code == 400
    errors = {(e.line, e.field): e.message for e in response.context["errors"]}
    assert set(errors) == {(3, "country"), (4, "name"), (5, "name")}
    assert "line 2" in errors[(4, "name")]
    assert "already have a site" in errors[(5, "name")]
    assert list(Site.objects.values_list("name", flat=True)) == ["Existing shop"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,street\nShop,1 Road\n", "Missing column(s)"),
        (HEADER + ",colour\n", "Unknown column(s)"),
        ("", "empty"),
        (HEADER + "\n", "no rows"),
    ],
)
def test_malformed_csv_files_are_explained(cast, content, message) -> None:  # type: ignore[no-untyped-def]
    response = _import(client_for(cast.buyer_owner), content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Site.objects.exists()


def test_binary_file_is_not_a_csv(cast) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("sites.csv", b"%PDF-1.4\x00\x01\x02", content_type="text/csv")
    response = client_for(cast.buyer_owner).post(reverse("buyers:site_import"), {"file": upload})
    assert response.status_code == 400
    assert not Site.objects.exists()


def test_the_template_downloads_and_imports_as_is(cast) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.buyer_owner)
    response = client.get(reverse("buyers:site_template_csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert text.splitlines()[0] == HEADER
    assert _import(client, text).status_code == 302
    assert Site.objects.filter(organization=cast.buyer_org, name="Leeds depot").exists()
