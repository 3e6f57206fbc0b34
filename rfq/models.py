"""Models of the rfq app."""
