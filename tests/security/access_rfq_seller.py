"""Access rules for the rfq app's seller-facing URLs (see access_table_base.py for the vocabulary)."""

from __future__ import annotations

from tests.security.access_table_base import Entry

RFQ_SELLER_TABLE: dict[str, Entry] = {}
