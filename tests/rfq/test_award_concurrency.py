"""Award happens exactly once even when twenty clicks arrive together (real PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from marketplace.selectors import terms_current
from marketplace.services import DomainError
from rfq import services
from rfq.models import Award, AwardLine, Selection, SelectionLine
from tests.rfq import builders

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(count: int, work) -> tuple[list[object], list[Exception]]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            outcome = work(i)
            with lock:
                results.append(outcome)
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_twenty_concurrent_selections_and_acceptances_award_once(world) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks and serialises writers differently")
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    first = builders.bid(rfq, world.seller_sales, monthly="250.00")
    second = builders.bid(rfq, world.other_seller, monthly="240.00")
    builders.past_deadline(rfq)
    bids = [first, second]

    def select(i: int) -> object:
        chosen = bids[i % 2]
        return services.rfq_select(
            actor=world.buyer_owner, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in chosen.lines.all()}
        )

    results, errors = _in_threads(20, select)
    assert len(results) == 1, errors
    assert len(errors) == 19 and all(isinstance(e, DomainError) for e in errors), errors
    assert Selection.objects.filter(rfq=rfq).count() == 1
    assert SelectionLine.objects.filter(selection__rfq=rfq).count() == 3

    terms = terms_current()
    people = [world.buyer_owner, world.buyer_member]

    def accept(i: int) -> object:
        return services.award_accept_terms(actor=people[i % 2], rfq=rfq, organization=world.buyer_org, terms=terms)

    results, errors = _in_threads(20, accept)
    assert len(results) == 1, errors
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert Award.objects.filter(rfq=rfq).count() == 1
    assert AwardLine.objects.filter(award__rfq=rfq).count() == 3
