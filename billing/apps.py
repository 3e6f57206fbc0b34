from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing.tasks import queue_contracts_for_awards
        from rfq.signals import award_made

        award_made.connect(queue_contracts_for_awards, dispatch_uid="billing-contracts-on-award")
