"""Events the core announces to apps that depend on it (the core imports none of them).

Receivers only queue work; the business rules live in the receiving app's services.
"""

from django.dispatch import Signal

# Sent after the transaction that verified an organisation commits; kwargs: organization_id.
organization_verified = Signal()
