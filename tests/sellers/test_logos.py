"""Logos: PNG by signature, SVG parsed and refused when it could run or fetch anything; served strictly."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sellers.logos import logo_from_upload, sanitise_svg
from tests.factories import OrganizationFactory, member_of
from tests.sellers import helpers

SVG_HEAD = b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<script>alert(1)</script>", "<script>"),
        (b'<rect width="1" height="1" onclick="alert(1)"/>', "Event handler"),
        (b'<g onload="x()"/>', "Event handler"),
        (b'<use href="https://evil.example/x.svg#a"/>', "outside the image"),
        (b'<use xlink:href="javascript:alert(1)"/>', "outside the image"),
        (b"<foreignObject><p>hi</p></foreignObject>", "foreignObject"),
        (b'<rect fill="url(https://evil.example/p)" width="1" height="1"/>', "outside the image"),
        (b"<style>@import url(https://evil.example/x.css);</style>", "<style>"),
        (b'<image href="data:image/png;base64,AAAA"/>', "<image>"),
    ],
)
def test_dangerous_svg_is_refused_with_the_reason(body: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        sanitise_svg(SVG_HEAD + body + b"</svg>")
    assert message in " ".join(exc.value.messages)


def test_dtd_and_entities_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    with pytest.raises(ValidationError, match="DTD"):
        sanitise_svg(bomb)


def test_clean_svg_keeps_its_shapes_and_loses_comments_and_editor_metadata() -> None:
    raw = (
        SVG_HEAD + b"<!-- secret --><?php echo 1 ?>"
        b'<metadata xmlns:x="urn:x"><x:rdf/></metadata>'
        b'<defs><linearGradient id="g"><stop offset="0"/></linearGradient></defs>'
        b'<rect width="10" height="10" fill="url(#g)"/><use xlink:href="#g"/></svg>'
    )
    clean = sanitise_svg(raw)
    assert b"<rect" in clean and b'fill="url(#g)"' in clean and b"#g" in clean
    assert b"secret" not in clean and b"php" not in clean and b"rdf" not in clean


def test_not_svg_or_png_is_refused() -> None:
    with pytest.raises(ValidationError, match="PNG or SVG"):
        logo_from_upload(SimpleUploadedFile("logo.png", b"GIF89a......"))
    with pytest.raises(ValidationError, match="not an SVG"):
        logo_from_upload(SimpleUploadedFile("logo.svg", b"<html><body/></html>"))
    with pytest.raises(ValidationError, match="well-formed"):
        logo_from_upload(SimpleUploadedFile("logo.svg", b"<svg"))
    assert logo_from_upload(SimpleUploadedFile("logo.bin", helpers.PNG)).kind == "png"


@pytest.mark.django_db
def test_logo_is_served_with_a_strict_type_and_policy(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    helpers.give_logo(cast.carrier_org, cast.seller_admin)
    response = as_role("buyer_owner").get(reverse("sellers:logo", args=[cast.carrier_org.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert (
        "sandbox" in response["Content-Security-Policy"] and "default-src 'none'" in response["Content-Security-Policy"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"<rect" in response.content


@pytest.mark.django_db
def test_unverified_carriers_logo_is_only_for_its_people_and_moderators(cast, as_role) -> None:  # type: ignore[no-untyped-def]
    org = OrganizationFactory(kind="carrier", verification_status="unverified", verified_at=None)
    admin = member_of(org, "admin")
    helpers.give_logo(org, admin)
    url = reverse("sellers:logo", args=[org.pk])
    assert as_role("buyer_owner").get(url).status_code == 404
    assert as_role("seller_admin").get(url).status_code == 404
    assert as_role("moderator").get(url).status_code == 200
    from tests.conftest import client_for

    assert client_for(admin).get(url).status_code == 200
