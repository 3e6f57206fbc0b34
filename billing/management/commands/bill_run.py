"""Run the bill for a month (for cron): drafts, optionally finalised."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.services import bill_run_execute, bill_run_finalize, period_from_string
from marketplace.services import DomainError


class Command(BaseCommand):
    help = "Rate a month and write its draft invoices; --finalize issues them. Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--dry-run", action="store_true", help="Show what the run would produce; write nothing.")
        parser.add_argument("--finalize", action="store_true", help="Issue the drafts with invoice numbers.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = period_from_string(options["period"])
            # Drafts issued at once are not announced as drafts to review: finalising tells billing staff instead.
            summary = bill_run_execute(period=period, dry_run=options["dry_run"], announce=not options["finalize"])
            totals = ", ".join(f"{amount} {currency}" for currency, amount in sorted(summary.total.items())) or "0"
            verb = "would produce" if options["dry_run"] else "produced"
            self.stdout.write(
                f"{period:%Y-%m} {verb} {summary.invoices} invoice(s), {summary.lines} line(s) "
                f"from {summary.records} usage record(s); total {totals}."
            )
            if options["finalize"] and not options["dry_run"]:
                run = bill_run_finalize(actor=None, period=period)
                self.stdout.write(self.style.SUCCESS(f"Finalised {run.invoice_count} invoice(s)."))
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
