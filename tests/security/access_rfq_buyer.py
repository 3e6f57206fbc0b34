"""Access rules for the rfq app's buyer-facing URLs (see access_table_base.py for the vocabulary)."""

from __future__ import annotations

from tests.security.access_table_base import Entry

RFQ_BUYER_TABLE: dict[str, Entry] = {}
