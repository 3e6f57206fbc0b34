"""Models of the buyers app."""
