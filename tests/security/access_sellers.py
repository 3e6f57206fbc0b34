"""Access rules for the sellers app's URLs (see access_table.py for the vocabulary).

The cast has a carrier admin, a sales user and a billing user in carrier_org and an admin of another carrier.
Every carrier member reads the portal; admins and sales staff change criteria, coverage and offers; only
admins change the registration. carrier_org's billing staff read everything here and get 403 on every write
(and on the forms that lead to one): sellers/selectors.py says so and tests/sellers/test_roles.py checks it.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.security.access_table_base import FORBIDDEN, SELLERS, SIGNED_IN, Entry, allow
from tests.sellers import helpers

# Pages every carrier may open for its own organisation, billing staff included.
CARRIER_PAGE = allow(*SELLERS, "seller_billing")
# Forms and writes for the carrier's own organisation: billing staff get 403.
CARRIER_WRITE = allow(*SELLERS, forbidden=("seller_billing",))
# Own-organisation objects: the other carrier gets 404.
OWN_OBJECT = allow("seller_admin", "seller_sales", "seller_billing")
OWN_OBJECT_WRITE = allow("seller_admin", "seller_sales", forbidden=("seller_billing",))
# Admin-only pages: sales and billing staff get 403.
ADMIN_PAGE = allow("seller_admin", "other_seller", forbidden=("seller_sales", "seller_billing"))

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
    "sellers:criteria_create": Entry(CARRIER_WRITE),
    "sellers:criteria_edit": Entry(OWN_OBJECT_WRITE, kwargs=_criteria),
    "sellers:criteria_pause": Entry(OWN_OBJECT_WRITE, kwargs=_criteria, method="POST"),
    "sellers:criteria_resume": Entry(OWN_OBJECT_WRITE, kwargs=_criteria, method="POST"),
    "sellers:criteria_delete": Entry(OWN_OBJECT_WRITE, kwargs=_criteria, method="POST", setup=_criteria_again),
    "sellers:coverage": Entry(CARRIER_PAGE, note="the page reads; its add form posts here and is 403 for billing"),
    "sellers:coverage_delete": Entry(OWN_OBJECT_WRITE, kwargs=_coverage, method="POST", setup=_coverage_again),
    "sellers:offer_list": Entry(CARRIER_PAGE),
    "sellers:offer_create": Entry(CARRIER_WRITE),
    "sellers:offer_import": Entry(CARRIER_WRITE),
    "sellers:offer_import_template": Entry(CARRIER_PAGE),
    "sellers:offer_detail": Entry(OWN_OBJECT, kwargs=_offer),
    "sellers:offer_edit": Entry(OWN_OBJECT_WRITE, kwargs=_offer),
    "sellers:offer_retire": Entry(OWN_OBJECT_WRITE, kwargs=_offer, method="POST"),
}

# What carrier_org's billing staff may not do here, read off the table for tests/sellers/test_roles.py.
BILLING_FORBIDDEN = {key for key, entry in SELLERS_TABLE.items() if entry.expect["seller_billing"] == FORBIDDEN}
