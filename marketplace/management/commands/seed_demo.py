"""Load the demo data; running it again changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from billing import demo as billing_demo
from buyers import demo as buyers_demo
from marketplace import demo as core_demo
from rfq import demo as rfq_demo
from sellers import demo as sellers_demo


class Command(BaseCommand):
    help = "Create demo organisations, accounts and data (password: switchboard-demo). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        # The notifications the demo's own actions cause are kept in memory, not printed or sent.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            self._seed()
        self.stdout.write("Demo e-mails were not sent; each account's inbox holds its notifications.")

    def _seed(self) -> None:
        accounts = core_demo.seed()
        self.stdout.write(self.style.SUCCESS(f"Demo accounts ready: {', '.join(accounts)}"))
        for line in [*buyers_demo.seed(), *sellers_demo.seed(), *rfq_demo.seed(), *billing_demo.seed()]:
            self.stdout.write(line)
        self.stdout.write(f"Password for every demo account: {core_demo.DEMO_PASSWORD}")
