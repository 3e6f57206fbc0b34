"""Events the rfq app announces to apps that build on it (billing), which rfq does not import."""

from django.dispatch import Signal

# Sent after the transaction that made awards final commits; kwargs: award_ids.
award_made = Signal()
