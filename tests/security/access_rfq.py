"""Access rules for the rfq app's URLs, merged from the buyer, seller and console files."""

from __future__ import annotations

from tests.security.access_rfq_buyer import RFQ_BUYER_TABLE
from tests.security.access_rfq_seller import RFQ_SELLER_TABLE
from tests.security.access_table_base import Entry

RFQ_TABLE: dict[str, Entry] = {**RFQ_BUYER_TABLE, **RFQ_SELLER_TABLE}
