"""Access rules for the sellers app's URLs (see access_table.py for the vocabulary).

The cast has a carrier admin and a sales user in carrier_org and an admin of another carrier;
the billing role is checked against this same table in tests/sellers/test_roles.py.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.security.access_table_base import SELLERS, SIGNED_IN, Entry, allow
from tests.sellers import helpers

OWN_CARRIER = ("seller_admin", "seller_sales")
# Pages every carrier may open for its own organisation.
CARRIER_PAGE = allow(*SELLERS)
# Own-organisation objects: the other carrier gets 404.
OWN_OBJECT = allow(*OWN_CARRIER)
# Admin-only pages: sales get 403.
ADMIN_PAGE = allow("seller_admin", "other_seller", forbidden=("seller_sales",))

_made: dict[str, int] = {}


def _criteria(cast: Cast) -> dict[str, Any]:
    criteria = helpers.make_criteria(cast.carrier_org, cast.seller_admin, name="Access table")
    _made["criteria"] = criteria.pk
    return {"pk": criteria.pk}


def _criteria_again(cast: Cast) -> None:
    # Deleting is the action under test: put the set back before each role asks.
    from sellers.models import CriteriaSet

    if not CriteriaSet.objects.filter(pk=_made["criteria"]).exists():
        CriteriaSet.objects.create(pk=_made["criteria"], organization=cast.carrier_org, name="Access table")


def _coverage(cast: Cast) -> dict[str, Any]:
    area = helpers.make_coverage(cast.carrier_org, cast.seller_admin)
    _made["coverage"] = area.pk
    return {"pk": area.pk}


def _coverage_again(cast: Cast) -> None:
    from sellers.models import CoverageArea

    if not CoverageArea.objects.filter(pk=_made["coverage"]).exists():
        CoverageArea.objects.create(
            pk=_made["coverage"], organization=cast.carrier_org, service_type=helpers.service_type(), country="GB"
        )


def _offer(cast: Cast) -> dict[str, Any]:
    return {"pk": helpers.make_offer(cast.carrier_org, cast.seller_admin).pk}


def _logo(cast: Cast) -> dict[str, Any]:
    helpers.give_logo(cast.carrier_org, cast.seller_admin)
    return {"org_pk": cast.carrier_org.pk}


SELLERS_TABLE: dict[str, Entry] = {
    "sellers:dashboard": Entry(CARRIER_PAGE),
    "sellers:register": Entry(ADMIN_PAGE, note="admins complete or edit the registration"),
    "sellers:profile": Entry(CARRIER_PAGE),
    "sellers:logo": Entry(SIGNED_IN, kwargs=_logo, note="a verified carrier's logo is shown to every signed-in user"),
    "sellers:criteria_list": Entry(CARRIER_PAGE),
    "sellers:criteria_create": Entry(allow(*SELLERS)),
    "sellers:criteria_edit": Entry(OWN_OBJECT, kwargs=_criteria),
    "sellers:criteria_pause": Entry(OWN_OBJECT, kwargs=_criteria, method="POST"),
    "sellers:criteria_resume": Entry(OWN_OBJECT, kwargs=_criteria, method="POST"),
    "sellers:criteria_delete": Entry(OWN_OBJECT, kwargs=_criteria, method="POST", setup=_criteria_again),
    "sellers:coverage": Entry(CARRIER_PAGE),
    "sellers:coverage_delete": Entry(OWN_OBJECT, kwargs=_coverage, method="POST", setup=_coverage_again),
    "sellers:offer_list": Entry(CARRIER_PAGE),
    "sellers:offer_create": Entry(allow(*SELLERS)),
    "sellers:offer_import": Entry(allow(*SELLERS)),
    "sellers:offer_import_template": Entry(CARRIER_PAGE),
    "sellers:offer_detail": Entry(OWN_OBJECT, kwargs=_offer),
    "sellers:offer_edit": Entry(OWN_OBJECT, kwargs=_offer),
    "sellers:offer_retire": Entry(OWN_OBJECT, kwargs=_offer, method="POST"),
}

# Writes a billing user may not make, and pages only an admin may open: the 403s of tests/sellers/test_roles.py.
BILLING_FORBIDDEN = {
    "sellers:register",
    "sellers:criteria_create",
    "sellers:criteria_edit",
    "sellers:criteria_pause",
    "sellers:criteria_resume",
    "sellers:criteria_delete",
    "sellers:coverage_delete",
    "sellers:offer_create",
    "sellers:offer_import",
    "sellers:offer_edit",
    "sellers:offer_retire",
}
